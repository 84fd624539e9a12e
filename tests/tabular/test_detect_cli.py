"""``socialgan accounts detect-train | detect`` on small synthetic files."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from socialgan.cli import app

from .test_detect import synthetic_accounts

pytestmark = pytest.mark.usefixtures("one_torch_thread")
pytest.importorskip("lightgbm", reason="the `tabular` extra: pip install 'socialgan[tabular]'")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("bots")
    data = root / "accounts.csv"
    synthetic_accounts(240, seed=1).to_csv(data, index=False)
    out = root / "model"
    result = CliRunner().invoke(
        app, ["accounts", "detect-train", "--data", str(data), "--folds", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return root, out, result.output


def test_detect_train_prints_cv_and_saves_it_in_the_card(trained):
    _, out, output = trained
    assert "3-fold CV: accuracy" in output and "ROC AUC" in output
    config = json.loads((out / "config.json").read_text())
    assert config["metrics"]["cv_folds"] == 3 and config["metrics"]["cv_roc_auc"] > 0.9
    assert "cv_accuracy" in (out / "README.md").read_text()
    assert (out / "lightgbm.txt").is_file()


def test_detect_prints_one_record_per_row(trained, tmp_path):
    _, out, _ = trained
    rows = synthetic_accounts(6, seed=7)
    jsonl = tmp_path / "accounts.jsonl"
    rows.assign(created_at=rows["created_at"].astype(str)).to_json(
        jsonl, orient="records", lines=True
    )
    result = CliRunner().invoke(app, ["accounts", "detect", str(out), str(jsonl)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["screen_name"] for r in records] == rows["screen_name"].tolist()
    for r in records:
        assert set(r) == {
            "screen_name", "flagged", "categories", "category_scores", "model", "thresholds"
        }  # fmt: skip
        assert 0 <= r["category_scores"]["bot"] <= 1 and r["thresholds"] == {"bot": 0.5}
    csv = tmp_path / "anonymous.csv"
    rows.drop(columns="screen_name").to_csv(csv, index=False)
    # a model trained with screen names needs them: the error names the column
    result = CliRunner().invoke(app, ["accounts", "detect", str(out), str(csv)])
    assert result.exit_code == 2 and "screen_name" in result.output
    rows.to_csv(csv, index=False)
    result = CliRunner().invoke(app, ["accounts", "detect", str(out), str(csv), "-t", "0"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert all(r["flagged"] and r["thresholds"] == {"bot": 0.0} for r in records)


def test_mlp_without_cv_and_row_numbers(tmp_path):
    data = tmp_path / "accounts.csv"
    synthetic_accounts(120, seed=2).drop(columns=["screen_name", "name"]).to_csv(data, index=False)
    out = tmp_path / "mlp"
    result = CliRunner().invoke(
        app,
        ["accounts", "detect-train", "--data", str(data), "--model", "mlp", "--folds", "0",
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (out / "model.safetensors").is_file()
    result = CliRunner().invoke(app, ["accounts", "detect", str(out), str(data)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["row"] for line in result.output.splitlines()][:3] == [1, 2, 3]


def test_bad_input_is_one_line_and_exit_2(trained, tmp_path):
    root, out, _ = trained
    data = root / "accounts.csv"
    nolabel = tmp_path / "nolabel.csv"
    synthetic_accounts(30).drop(columns="bot").to_csv(nolabel, index=False)
    for args, message in (
        (["detect-train", "--data", str(nolabel), "--out", str(tmp_path / "m")], "'bot'"),
        (["detect-train", "--data", str(data), "--model", "svm", "--out", str(tmp_path)], "gbm"),
        (["detect-train", "--data", str(data), "--folds", "1", "--out", str(tmp_path)], "folds"),
        (["detect-train", "--data", "nope.csv", "--out", str(tmp_path / "m")], "nope.csv"),
        (["detect", str(out), str(data), "--threshold", "1.5"], "threshold"),
        (["detect", str(tmp_path), str(data)], "config.json"),
        (["detect", str(out), str(tmp_path / "missing.csv")], "missing.csv"),
    ):
        result = CliRunner().invoke(app, ["accounts", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
