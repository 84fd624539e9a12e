"""``socialgan accounts fit | sample`` on a tiny CSV file."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from socialgan.cli import app

from .test_gan import accounts

pytestmark = [
    pytest.mark.usefixtures("one_torch_thread"),
    pytest.mark.filterwarnings("ignore:columns left out:UserWarning"),
]

TINY = [
    "--set", "model.epochs=2", "--set", "model.batch_size=40", "--set", "model.pac=4",
    "--set", "model.z_dim=8", "--set", "model.generator_dims=[16]",
    "--set", "model.discriminator_dims=[16]", "--set", "model.max_modes=3",
]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("accounts")
    data = root / "accounts.csv"
    accounts().to_csv(data, index=False, encoding="latin-1")
    run = root / "run"
    result = CliRunner().invoke(
        app,
        ["accounts", "fit", "--data", str(data), "--run-dir", str(run),
         "--discrete-columns", "bot", *TINY],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return root, run / "model"


def test_fit_writes_the_run_and_the_model(trained):
    root, model = trained
    run = root / "run"
    assert (model / "config.json").is_file() and (model / "model.safetensors").is_file()
    assert (run / "stats.jsonl").is_file() and list((run / "samples").glob("step-*.csv"))


def test_sample_with_a_condition_writes_csv(trained, tmp_path):
    _, model = trained
    out = tmp_path / "synth.csv"
    result = CliRunner().invoke(
        app, ["accounts", "sample", str(model), "-n", "30", "--condition", "bot=1", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out)
    assert len(rows) == 30 and (rows["bot"] == 1).all() and "description" not in rows
    again = CliRunner().invoke(app, ["accounts", "sample", str(model), "-n", "5", "--seed", "2"])
    same = CliRunner().invoke(app, ["accounts", "sample", str(model), "-n", "5", "--seed", "2"])
    assert again.exit_code == 0 and again.output == same.output


def test_bad_input_is_one_line_and_exit_2(trained, tmp_path):
    _, model = trained
    for args, message in (
        (["sample", str(model), "--condition", "lang=de"], "lang"),
        (["sample", str(model), "--condition", "bot"], "COLUMN=VALUE"),
        (["sample", str(model), "-n", "0"], "n"),
        (["fit", "--data", "nope.csv", "--run-dir", str(tmp_path / "r")], "nope.csv"),
    ):
        result = CliRunner().invoke(app, ["accounts", *args])
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,n\ncaf\xe9,1\nbar,2\n".encode("latin-1"))
    result = CliRunner().invoke(
        app, ["accounts", "fit", "--data", str(latin), "--run-dir", str(tmp_path / "r2")]
    )
    assert result.exit_code == 2 and "UTF-8" in result.output and "encoding" in result.output


def test_dry_run_prints_the_resolved_config():
    result = CliRunner().invoke(
        app, ["accounts", "fit", "--data", "x", "--run-dir", "r", "--dry-run"]
    )
    assert (
        result.exit_code == 0 and "epochs: 300" in result.output and "wasserstein" in result.output
    )
