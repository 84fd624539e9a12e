"""``socialgan text generate-train | generate | evaluate-generator`` on a tiny file."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from socialgan.cli import app

from .tweets import LABELS, TWEETS

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = [
    "--set", "generator.max_epochs=2", "--set", "generator.embed_dim=16",
    "--set", "generator.hidden_dim=16", "--set", "generator.vocab_size=120",
    "--set", "generator.min_frequency=1", "--set", "generator.tokenizer_kind=word",
]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen")
    data = root / "tweets.csv"
    pd.DataFrame({"text": TWEETS, "mood": LABELS}).to_csv(data, index=False)
    run = root / "run"
    result = CliRunner().invoke(
        app,
        ["text", "generate-train", "--data", str(data), "--label-column", "mood",
         "--run-dir", str(run), *TINY],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return root, data, run / "model"


def test_train_writes_run_folder_and_model(trained):
    root, _, model = trained
    run = root / "run"
    assert (model / "config.json").is_file() and (model / "tokenizer.json").is_file()
    assert (run / "stats.jsonl").is_file() and list((run / "samples").glob("step-*.txt"))


def test_generate_is_seeded_and_conditional(trained):
    _, _, model = trained
    args = ["text", "generate", str(model), "-n", "4", "--label", "positive", "--seed", "3"]
    a = CliRunner().invoke(app, args)
    b = CliRunner().invoke(app, args)
    assert a.exit_code == 0, a.output
    assert a.output == b.output and len(a.output.strip().splitlines()) == 4
    lines = CliRunner().invoke(app, [*args, "--jsonl"]).output.strip().splitlines()
    assert [json.loads(x)["label"] for x in lines] == ["positive"] * 4


def test_generate_bad_label_is_a_clear_error(trained):
    _, _, model = trained
    result = CliRunner().invoke(app, ["text", "generate", str(model), "--label", "angry"])
    assert result.exit_code == 2
    assert "angry" in result.output and "positive" in result.output


def test_evaluate_generator_reports_metrics_and_floor(trained):
    _, data, model = trained
    result = CliRunner().invoke(
        app,
        ["text", "evaluate-generator", str(model), "--data", str(data), "-n", "30",
         "--label-column", "mood",
         "--floor-data", str(data), "--max-hypotheses", "20", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    for key in ("bleu2", "bleu5", "self_bleu5", "distinct2", "fbd", "mauve"):
        assert key in report["samples"] and key in report["floor"]
    assert report["floor"]["fbd"] < report["samples"]["fbd"]  # real vs itself: ~0
    assert report["test_nll"] > 0


def test_dry_run_and_bad_model_kind(tmp_path):
    ok = CliRunner().invoke(
        app, ["text", "generate-train", "-d", "x.csv", "--run-dir", str(tmp_path), "--dry-run"]
    )
    assert ok.exit_code == 0 and "max_epochs" in ok.output
    bad = CliRunner().invoke(
        app, ["text", "generate-train", "-d", "x.csv", "--run-dir", str(tmp_path), "--model", "gpt"]
    )
    assert bad.exit_code == 2 and "mle" in bad.output
    missing = CliRunner().invoke(
        app, ["text", "generate-train", "-d", "nope.csv", "--run-dir", "r"]
    )
    assert missing.exit_code == 2 and "nope.csv" in missing.output


GAN_OPTIONS = [
    ("seqgan", ("rollouts", "adversarial_steps")),
    ("relgan", ("beta_max", "steps", "loss")),
]


@pytest.mark.parametrize(("model", "keys"), GAN_OPTIONS)
def test_gan_dry_runs_list_their_adversarial_options(tmp_path, model, keys):
    result = CliRunner().invoke(
        app, ["text", "generate-train", "-d", "x.csv", "--run-dir", str(tmp_path),
              "--model", model, "--dry-run"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert all(f"  {k}:" in result.output for k in keys)
