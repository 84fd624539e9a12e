import json

import numpy as np
from typer.testing import CliRunner

from socialgan.cli import app

runner = CliRunner()


def _npz(tmp_path, n=64):
    rng = np.random.default_rng(0)
    path = tmp_path / "imgs.npz"
    np.savez(
        path, images=rng.integers(0, 255, (n, 28, 28), dtype=np.uint8), labels=np.arange(n) % 4
    )
    return path


def test_help_explains_commands():
    out = runner.invoke(app, ["--help"]).output
    assert "demo" in out and "image" in out
    out = runner.invoke(app, ["image", "train", "--help"]).output
    assert "--resume" in out and "--dry-run" in out and "--set" in out


def test_dry_run_prints_resolved_config(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("train:\n  loss: hinge\nmodel:\n  arch: seed\n")
    res = runner.invoke(
        app, ["image", "train", "-c", str(cfg), "--set", "train.steps=7", "--dry-run"]
    )
    assert res.exit_code == 0, res.output
    assert "loss: hinge" in res.output and "steps: 7" in res.output and "arch: seed" in res.output


def test_bad_input_gives_one_line_and_exit_2(tmp_path):
    res = runner.invoke(app, ["image", "train", "--data", str(tmp_path / "missing.npz")])
    assert res.exit_code == 2 and "missing.npz" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["image", "train", "--set", "train.bogus=1", "--dry-run"])
    assert res.exit_code == 2 and "bogus" in res.output
    res = runner.invoke(app, ["image", "sample", str(tmp_path)])
    assert res.exit_code == 2 and "config.json" in res.output


def test_train_sample_resume_roundtrip(tmp_path):
    run = tmp_path / "run"
    base = ["image", "train", "--data", str(_npz(tmp_path)), "--run-dir", str(run)]
    tiny = [
        "--set",
        "model.width=8",
        "--set",
        "train.batch_size=16",
        "--set",
        "train.tensorboard=false",
    ]
    res = runner.invoke(app, [*base, "--steps", "2", *tiny])
    assert res.exit_code == 0, res.output
    assert (run / "model/model.safetensors").is_file()
    res = runner.invoke(app, [*base, "--steps", "4", *tiny])
    assert res.exit_code == 2 and "--resume" in res.output
    res = runner.invoke(app, [*base, "--steps", "4", *tiny, "--resume"])
    assert res.exit_code == 0, res.output
    assert json.loads((run / "checkpoints/step-0000004/state.json").read_text())["step"] == 4
    out = tmp_path / "grid.png"
    res = runner.invoke(app, ["image", "sample", str(run / "model"), "-n", "9", "-o", str(out)])
    assert res.exit_code == 0 and out.is_file()
    res = runner.invoke(
        app, ["image", "sample", str(run / "model"), "--interpolate", "-n", "5", "-o", str(out)]
    )
    assert res.exit_code == 0


def test_demo_smoke(tmp_path):
    out = tmp_path / "demo"
    res = runner.invoke(app, ["demo", "--out", str(out), "--steps", "6", "--n-eval", "300"])
    assert res.exit_code == 0, res.output
    assert "precision" in res.output and "floor" in res.output
    for name in ("losses.png", "metrics.md", "metrics.json", "model/model.safetensors"):
        assert (out / name).is_file(), name
    assert list((out / "samples").glob("step-*.png"))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_fake"] == 300 and 0 <= metrics["precision"] <= 1
