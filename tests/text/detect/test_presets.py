"""LIAR's default metadata is honest; the leaky credit counts need an explicit flag."""

import yaml
from typer.testing import CliRunner

from socialgan.cli import app
from socialgan.text.data import LIAR_COUNT_COLUMNS
from socialgan.text.detect.presets import LIAR_HONEST_META_COLUMNS, preset_for, with_leaky_counts

runner = CliRunner()


def _dry_run(*args: str) -> dict:
    res = runner.invoke(app, ["text", "detect-train", "--data", "liar", "--out", "m", *args])
    assert res.exit_code == 0, res.output
    return yaml.safe_load(res.output)["detector"]


def test_liar_presets_leave_out_the_credit_counts():
    for entry in ("detector", "stacked"):
        cols = preset_for("liar")[entry]["meta_columns"]
        assert cols == LIAR_HONEST_META_COLUMNS
        assert not set(cols) & set(LIAR_COUNT_COLUMNS)


def test_cli_default_is_honest_and_flag_adds_counts():
    for kind in ("tfidf", "stacked"):
        honest = _dry_run("--detector", kind, "--dry-run")
        assert not set(honest["meta_columns"]) & set(LIAR_COUNT_COLUMNS)
        leaky = _dry_run("--detector", kind, "--dry-run", "--leaky-credit-counts")
        assert leaky["meta_columns"] == with_leaky_counts(honest["meta_columns"])
        assert set(LIAR_COUNT_COLUMNS) <= set(leaky["meta_columns"])


def test_leaky_flag_is_refused_for_other_data():
    res = runner.invoke(
        app, ["text", "evaluate", "--data", "ott", "--leaky-credit-counts", "--cv", "2"]
    )
    assert res.exit_code == 2
    assert "applies to the liar data set" in res.output


def test_leaky_help_says_it_leaks():
    res = runner.invoke(app, ["text", "detect-train", "--help"])
    assert "--leaky-credit-counts" in res.output and "LEAK" in res.output
