import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from socialgan.cli import app
from socialgan.text.attack.hardening import load_text_detector
from socialgan.text.data import load_text_file
from socialgan.text.detect.neural import CharCNNDetector
from socialgan.text.detect.ssgan import SSGANDetector
from socialgan.text.detect.stacked import StackedDetector

from .conftest import make_texts

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # fast and reproducible on 2 cores

runner = CliRunner()
TINY = ["--set", "detector.char_ngrams=[2, 3]", "--set", "detector.calibration_cv=3"]


def _data(tmp_path):
    texts, labels = make_texts(40)
    path = tmp_path / "comments.csv"
    lines = ["body,kind,video"] + [
        f"{t},{'spam' if y else 'ham'},v{i // 20}"
        for i, (t, y) in enumerate(zip(texts, labels, strict=True))
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_help_lists_text_commands():
    out = runner.invoke(app, ["text", "--help"]).output
    assert "detect-train" in out and "evaluate" in out and "detect" in out


def test_train_detect_evaluate(tmp_path):
    data, model = _data(tmp_path), tmp_path / "model"
    cols = ["--text-column", "body", "--label-column", "kind"]
    res = runner.invoke(
        app,
        ["text", "detect-train", "--data", str(data), *cols, "--out", str(model), "--cv", "2"]
        + TINY,
    )
    assert res.exit_code == 0, res.output
    assert (model / "model.safetensors").is_file() and "cv_accuracy" in res.output
    res = runner.invoke(app, ["text", "detect", "free money click", "--model", str(model)])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["categories"] == {"spam": True} and out["model"] == "socialgan-tfidf-svm-spam"

    inp = tmp_path / "in.jsonl"
    inp.write_text('{"text": "love this song", "id": "a"}\nnot json\n{"text": ""}\n"win a prize"\n')
    res = runner.invoke(app, ["text", "detect", "--file", str(inp), "-m", str(model), "-t", "0.6"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.strip().splitlines()]
    assert [r["line"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["id"] == "a" and rows[0]["flagged"] is False
    assert "error" in rows[1] and "error" in rows[2] and rows[3]["flagged"] is True
    assert rows[3]["thresholds"] == {"spam": 0.6}

    res = runner.invoke(
        app, ["text", "evaluate", "--data", str(data), *cols, "--cv", "2", "--json"] + TINY
    )
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout[res.stdout.index("{") :])
    assert result["protocol"].startswith("stratified 2-fold") and len(result["folds"]) == 2

    res = runner.invoke(
        app,
        ["text", "evaluate", "-d", str(data), *cols, "--lovo", "--group-column", "video"] + TINY,
    )
    assert res.exit_code == 0, res.output
    assert "leave-one-group-out over 2 groups" in res.output and "| v1 |" in res.output


def test_bad_input_one_line_exit_2(tmp_path):
    data = _data(tmp_path)
    res = runner.invoke(app, ["text", "evaluate", "--data", str(data), "--cv", "2"])
    assert res.exit_code == 2 and "missing column" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["text", "evaluate", "--data", "nope.csv"])
    assert res.exit_code == 2 and "nope.csv" in res.output
    res = runner.invoke(app, ["text", "detect", "hi", "--model", str(tmp_path)])
    assert res.exit_code == 2 and "config.json" in res.output
    res = runner.invoke(
        app, ["text", "detect-train", "-d", "x.csv", "-o", "m", "--set", "detector.bogus=1"]
    )
    assert res.exit_code == 2 and "bogus" in res.output


def test_dry_run_shows_preset():
    res = runner.invoke(app, ["text", "detect-train", "-d", "liar", "-o", "m", "--dry-run"])
    assert res.exit_code == 0 and "party" in res.output and "pants-fire" in res.output


def test_hardened_model_resists_disguised_spam(tmp_path):
    data, model = _data(tmp_path), tmp_path / "hard"
    cols = ["--text-column", "body", "--label-column", "kind"]
    res = runner.invoke(
        app,
        ["text", "detect-train", "-d", str(data), *cols, "-o", str(model), "--cv", "0", "--harden"]
        + TINY,
    )
    assert res.exit_code == 0, res.output
    assert (model / "normalization.json").is_file()
    plain = "free money click"
    disguised = "fr\u200bee m\u043ene\u0443 cl1ck"  # zero-width, Cyrillic o/y, leet
    scores = []
    for text in (plain, disguised):
        res = runner.invoke(app, ["text", "detect", text, "--model", str(model)])
        assert res.exit_code == 0, res.output
        scores.append(next(iter(json.loads(res.output)["category_scores"].values())))
    assert abs(scores[0] - scores[1]) < 1e-9  # normalized to the same text before scoring


#: ``--set`` options of each learned detector's CLI run, and the same detector built in Python.
LEARNED = {
    "charcnn": (
        {"max_epochs": 4, "hash_buckets": 1024},
        lambda: CharCNNDetector(max_epochs=4, hash_buckets=1024),
    ),
    "ssgan": ({"max_epochs": 3}, lambda: SSGANDetector(max_epochs=3)),
    "stacked": (
        {"meta_columns": "[video]", "cv": 2},
        lambda: StackedDetector(meta_columns=["video"], cv=2),
    ),
}
_OBVIOUS = {"spam": "free money click, win a prize now", "ham": "love this song, great video"}


def _settings(options: dict[str, object]) -> list[str]:
    return [arg for k, v in options.items() for arg in ("--set", f"detector.{k}={v}")]


def _held_out(tmp_path: Path) -> tuple[Path, list[dict[str, str]], np.ndarray]:
    """JSONL of 40 new texts (other seed than the training file) plus the two obvious ones."""
    texts, labels = make_texts(40, seed=1)
    rows = [{"text": t, "video": f"v{i // 20}"} for i, t in enumerate(texts)]
    rows += [{"text": t, "video": "v0"} for t in _OBVIOUS.values()]
    path = tmp_path / "held_out.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path, rows, labels


def _cli_scores(model: Path, path: Path) -> np.ndarray:
    """The ``spam`` score of every line of ``path``, from ``socialgan text detect --file``."""
    res = runner.invoke(app, ["text", "detect", "--file", str(path), "--model", str(model)])
    assert res.exit_code == 0, res.output
    return np.array(
        [json.loads(line)["category_scores"]["spam"] for line in res.stdout.splitlines()]
    )


@pytest.mark.parametrize("kind", list(LEARNED))
def test_learned_detector_scores_held_out_texts_and_reloads_identically(tmp_path, kind):
    options, make = LEARNED[kind]
    data, model = _data(tmp_path), tmp_path / kind
    cols = ["--text-column", "body", "--label-column", "kind"]
    res = runner.invoke(
        app,
        ["text", "detect-train", "-d", str(data), *cols, "-o", str(model), "--cv", "0"]
        + ["--detector", kind, *_settings(options)],
    )
    assert res.exit_code == 0, res.output
    path, rows, labels = _held_out(tmp_path)
    scores = _cli_scores(model, path)
    held, (spam, ham) = scores[: len(labels)], scores[len(labels) :]
    assert ((held >= 0.5) == labels).mean() >= 0.9  # chance is 0.5
    assert held[labels == 1].min() > held[labels == 0].max()  # every spam above every ham
    assert spam >= 0.5 > ham
    # the same detector fitted here: the saved model must give its very scores
    fitted = make().fit(load_text_file(data, "body", "kind"))
    frame = pd.DataFrame(rows)
    np.testing.assert_allclose(scores, fitted.predict_proba(frame)[:, 1], rtol=0, atol=1e-12)
    loaded = load_text_detector(model)
    np.testing.assert_array_equal(loaded.predict_proba(frame)[:, 1], scores)


def test_ssgan_cross_validation_beats_chance(tmp_path):
    data = _data(tmp_path)
    cols = ["--text-column", "body", "--label-column", "kind"]
    res = runner.invoke(
        app,
        ["text", "evaluate", "-d", str(data), *cols, "--cv", "2", "--detector", "ssgan", "--json"]
        + _settings({"max_epochs": 3}),
    )
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout[res.stdout.index("{") :])
    assert len(result["folds"]) == 2 and result["accuracy"] >= 0.8
    res = runner.invoke(app, ["text", "evaluate", "-d", str(data), *cols, "--detector", "bert"])
    assert res.exit_code == 2 and "--detector must be one of" in res.output


def test_stacked_detector_needs_meta_columns_and_warns_when_they_are_missing(tmp_path):
    data, model = _data(tmp_path), tmp_path / "stacked"
    cols = ["--text-column", "body", "--label-column", "kind"]
    base = ["text", "detect-train", "-d", str(data), *cols, "-o", str(model), "--cv", "0"]
    res = runner.invoke(app, [*base, "--detector", "stacked"])
    assert res.exit_code == 2 and "meta_columns" in res.output
    res = runner.invoke(app, [*base, "--detector", "stacked", *_settings(LEARNED["stacked"][0])])
    assert res.exit_code == 0, res.output
    assert isinstance(load_text_detector(model), StackedDetector)
    res = runner.invoke(app, ["text", "detect", _OBVIOUS["spam"], "--model", str(model)])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["categories"] == {"spam": True}  # the text alone says spam
    assert "metadata columns ['video'] missing" in res.stderr  # scored as unknown, said once


def test_tweepfake_is_scored_on_its_official_splits_as_machine_generated():
    from socialgan.text.cli import _eval_splits, default_config
    from socialgan.text.detect.presets import preset_for

    assert _eval_splits("tweepfake") == _eval_splits("tweepfake:train") == ("validation", "test")
    assert _eval_splits("tweepfake:test") == () and _eval_splits("ott") == ()
    assert _eval_splits("liar") == ("valid", "test")
    assert preset_for("tweepfake")["category"] == "machine_generated"
    assert default_config("tweepfake")["detector"]["positive_labels"] == ["bot"]
    minilm = default_config("tweepfake", "minilm")["detector"]
    assert minilm["kind"] == "minilm" and minilm["max_tokens"] == 64


def test_detect_train_minilm_dry_run_lists_its_options():
    result = CliRunner().invoke(
        app, ["text", "detect-train", "--data", "tweepfake", "-o", "x", "--detector", "minilm",
              "--dry-run", "--set", "detector.max_epochs=1"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "max_epochs: 1" in result.output and "head_lr" in result.output
