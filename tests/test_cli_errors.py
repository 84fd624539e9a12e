"""Everything a user can type ends in one line and an exit code, never a traceback.

Exit code 2 for the user's errors (bad option values, bad or unwritable files), 1 for an
internal error, Typer's usage errors keep their 2; ``--debug`` / ``SOCIALGAN_DEBUG=1``
shows the traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from socialgan.cli import app
from socialgan.cli_util import GuardedGroup, user_errors
from socialgan.errors import DataError

runner = CliRunner()
TINY = ["--width", "8", "--batch-size", "16", "--set", "train.tensorboard=false"]


def _npz(path: Path, n: int = 48) -> Path:
    rng = np.random.default_rng(0)
    np.savez(path, images=rng.integers(0, 255, (n, 28, 28), dtype=np.uint8))
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny trained model folder (2 steps)."""
    root = tmp_path_factory.mktemp("model")
    data = _npz(root / "imgs.npz")
    run = root / "run"
    res = runner.invoke(
        app, ["image", "train", "--data", str(data), "--run-dir", str(run), "--steps", "2", *TINY]
    )
    assert res.exit_code == 0, res.output
    return run / "model"


def _copy_model(model: Path, dest: Path) -> Path:
    dest.mkdir()
    for f in model.iterdir():
        (dest / f.name).write_bytes(f.read_bytes())
    return dest


def _one_line_error(res, code: int, *needles: str) -> str:
    """Assert exit ``code`` and a single ``error:`` line naming every needle."""
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.output
    lines = [line for line in res.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, res.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.mark.parametrize("n", ["-3", "0"])
def test_sample_count_must_be_positive(model, tmp_path, n):
    res = runner.invoke(app, ["image", "sample", str(model), "-n", n, "-o", str(tmp_path / "g")])
    _one_line_error(res, 2, "-n/--n", "expected an integer >= 1", n)


def test_corrupt_weights_file(model, tmp_path):
    bad = _copy_model(model, tmp_path / "bad")
    (bad / "model.safetensors").write_bytes(b"\x00garbage")
    res = runner.invoke(app, ["image", "sample", str(bad)])
    _one_line_error(res, 2, "model.safetensors", "safetensors (")


def test_config_that_does_not_match_its_weights(model, tmp_path):
    bad = _copy_model(model, tmp_path / "bad")
    cfg = json.loads((bad / "config.json").read_text())
    cfg["net"]["width"] = 16
    (bad / "config.json").write_text(json.dumps(cfg))
    res = runner.invoke(app, ["image", "sample", str(bad)])
    _one_line_error(res, 2, "model.safetensors", "do not fit", "config.json")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--set", "train.batch_size=0"], ["train.batch_size (--batch-size)", ">= 1", "0"]),
        (["--set", "train.lr_g=abc"], ["train.lr_g (--lr-g)", "a number > 0", "'abc'"]),
        (["--steps", "0"], ["train.steps (--steps)", ">= 1"]),
        (["--arch", "big"], ["model.arch (--arch)", "seed, dcgan", "'big'"]),
        (["--loss", "hing"], ["train.loss (--loss)", "hinge"]),
        (["--set", "model.upsample=bilinear"], ["model.upsample (--upsample)", "nearest"]),
        (["--set", "data.size=48"], ["data.size", "28, 32, 64"]),
        (["--set", "train.augment=rotate"], ["train.augment (--augment)", "color"]),
    ],
)
def test_bad_option_values_fail_before_the_data_loads(tmp_path, args, needles):
    """The data path does not exist: the option is named, not the missing file."""
    missing = str(tmp_path / "missing.npz")
    res = runner.invoke(app, ["image", "train", "--data", missing, *args])
    line = _one_line_error(res, 2, *needles)
    assert "missing.npz" not in line
    res = runner.invoke(app, ["image", "train", *args, "--dry-run"])  # dry-run checks too
    _one_line_error(res, 2, needles[0])


def test_unwritable_run_dir_fails_before_the_data_loads(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    missing = str(tmp_path / "missing.npz")
    res = runner.invoke(
        app, ["image", "train", "--data", missing, "--run-dir", str(blocker / "run")]
    )
    _one_line_error(res, 2, "--run-dir", "cannot write there")


def test_unwritable_demo_out_fails_at_once(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    res = runner.invoke(app, ["demo", "--out", str(blocker / "demo"), "--steps", "5"])
    _one_line_error(res, 2, "--out", "cannot write there")
    res = runner.invoke(app, ["demo", "--out", str(tmp_path / "d"), "--steps", "0"])
    _one_line_error(res, 2, "--steps", ">= 1")


def test_evaluate_rejects_a_feature_net_of_another_size(model):
    res = runner.invoke(app, ["image", "evaluate", str(model), "--extractor", "att-faces"])
    _one_line_error(res, 2, "att-faces", "64x64", "28x28", "mnist")
    res = runner.invoke(app, ["image", "evaluate", str(model), "-n", "0"])
    _one_line_error(res, 2, "-n/--n")


def test_typer_usage_errors_keep_exit_code_2(model):
    res = runner.invoke(app, ["image", "sample", str(model), "-n", "many"])
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_internal_errors_exit_1_with_one_line_and_debug_shows_them(model, monkeypatch):
    from socialgan.image.gan import ImageGAN

    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(ImageGAN, "sample", broken)
    res = runner.invoke(app, ["image", "sample", str(model)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert lines == [
        "internal error: RuntimeError: boom second line; rerun with --debug for the traceback "
        "(socialgan --debug ..., or SOCIALGAN_DEBUG=1)"
    ]
    res = runner.invoke(app, ["--debug", "image", "sample", str(model)])
    assert res.exit_code == 1 and isinstance(res.exception, RuntimeError)
    res = runner.invoke(app, ["image", "sample", str(model)], env={"SOCIALGAN_DEBUG": "1"})
    assert isinstance(res.exception, RuntimeError)


def test_the_guard_covers_every_sub_app():
    """A sub-app added to a guarded root (as text and image are) gets the same handling."""
    root = typer.Typer(cls=GuardedGroup)
    sub = typer.Typer()
    root.add_typer(sub, name="sub")

    @root.callback()
    def main(debug: bool = typer.Option(False, "--debug")) -> None:
        """Root."""

    @sub.command()
    def crash() -> None:
        raise KeyError("nope")

    @sub.command()
    @user_errors
    def bad_value() -> None:
        raise ValueError("threshold must be in (0, 1)")

    @sub.command()
    def bad_file() -> None:
        raise DataError("x.csv: row 3: expected 2 columns")

    res = runner.invoke(root, ["sub", "crash"])
    assert res.exit_code == 1 and res.output.startswith("internal error: KeyError")
    res = runner.invoke(root, ["sub", "bad-value"])
    assert res.exit_code == 2 and res.output == "error: threshold must be in (0, 1)\n"
    res = runner.invoke(root, ["sub", "bad-file"])
    assert res.exit_code == 2 and res.output == "error: x.csv: row 3: expected 2 columns\n"


def test_text_sub_app_is_guarded(tmp_path):
    res = runner.invoke(app, ["text", "evaluate", "--data", str(tmp_path / "missing.csv")])
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_console_entry_point_in_a_subprocess(model, tmp_path):
    cmd = [sys.executable, "-m", "socialgan.cli", "image", "sample", str(model), "-n", "0"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == ["error: -n/--n: expected an integer >= 1, got 0"]
    assert "Traceback" not in proc.stderr + proc.stdout
