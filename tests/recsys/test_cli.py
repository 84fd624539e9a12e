"""``socialgan recsys evaluate | train | recommend`` on small files."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from socialgan.cli import app

from .conftest import planted

runner = CliRunner()


@pytest.fixture()
def files(tmp_path):
    data = planted(n_users=60, n_items=30)
    lines = [
        f"{data.user_ids[u]}\t{data.item_ids[i]}\t{r:g}\n"
        for u, i, r in zip(data.users, data.items, data.ratings, strict=True)
    ]
    whole = tmp_path / "u.data"
    whole.write_text("".join(lines))
    (tmp_path / "a.train").write_text("".join(lines[::2] + lines[1::4]))
    (tmp_path / "a.test").write_text("".join(lines[3::4]))
    return tmp_path


def test_evaluate_prints_a_table_with_the_protocol(files):
    result = runner.invoke(
        app,
        ["recsys", "evaluate", "--data", str(files / "u.data"), "--models", "toppop,ease",
         "--budget", "2", "--out", str(files / "out")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "random 0.8:0.1:0.1 per user, seed 2020" in result.output
    assert "toppop" in result.output and "ease" in result.output
    saved = json.loads((files / "out" / "results.json").read_text())
    assert [r["model"] for r in saved["results"]] == ["toppop", "ease"]
    ease = saved["results"][1]
    assert len(ease["trials"]) == 2 and 0 <= ease["test"]["recall@10"] <= 1


def test_evaluate_a_given_train_test_pair_as_json(files):
    result = runner.invoke(
        app,
        ["recsys", "evaluate", "--train", str(files / "a.train"), "--test",
         str(files / "a.test"), "--models", "itemknn", "--budget", "1", "--json",
         "--set", "itemknn.top_k=10"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert "given train / test files" in payload["protocol"]
    assert payload["results"][0]["params"]["top_k"] == 10


def test_train_then_recommend_with_names_and_a_new_user(files):
    out = files / "model"
    result = runner.invoke(
        app, ["recsys", "train", "--data", str(files / "u.data"), "--model", "ease", "--out",
              str(out), "--set", "l2=5"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["recsys", "recommend", str(out), "--user", "10", "-k", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") >= 4 and "1. " in result.output
    result = runner.invoke(
        app, ["recsys", "recommend", str(out), "--user", "9999", "-k", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert "unknown user(s) 9999" in result.output
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("{"))
    assert len(json.loads(line)["items"]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evaluate", "--models", "deepfm", "--data", "lastfm"], "unknown model(s) deepfm"),
        (["evaluate", "--train", "x.train"], "--train and --test go together"),
        (["evaluate", "--data", "nope.txt", "--models", "toppop"], "no such file"),
        (["evaluate", "--data", "DATA", "--split", "kfold"], "choose one of"),
        (
            ["evaluate", "--data", "DATA", "--set", "ease.alpha=1", "--models", "ease"],
            "ease has no parameter alpha",
        ),
        (["evaluate", "--data", "DATA", "--set", "oops"], "expected [MODEL.]PARAM=VALUE"),
        (["evaluate", "--data", "DATA", "--split", "temporal"], "no timestamps"),
        (["recommend", "MODEL", "--user", "1"], "no such model folder"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(files, args, message):
    args = [a.replace("DATA", str(files / "u.data")).replace("MODEL", str(files / "none"))
            for a in args]  # fmt: skip
    result = runner.invoke(app, ["recsys", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
