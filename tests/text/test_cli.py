import json

from typer.testing import CliRunner

from socialgan.cli import app

from .conftest import make_texts

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


def test_neural_detector_train_detect_evaluate(tmp_path):
    data, model = _data(tmp_path), tmp_path / "cnn"
    cols = ["--text-column", "body", "--label-column", "kind"]
    fast = ["--set", "detector.max_epochs=2", "--set", "detector.hash_buckets=1024"]
    res = runner.invoke(
        app,
        ["text", "detect-train", "-d", str(data), *cols, "-o", str(model), "--cv", "0"]
        + ["--detector", "charcnn", *fast],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["text", "detect", "free money click", "--model", str(model)])
    assert res.exit_code == 0, res.output
    assert 0 <= next(iter(json.loads(res.output)["category_scores"].values())) <= 1
    res = runner.invoke(
        app,
        ["text", "evaluate", "-d", str(data), *cols, "--cv", "2", "--detector", "ssgan"]
        + ["--set", "detector.max_epochs=1"],
    )
    assert res.exit_code == 0, res.output
    assert "accuracy" in res.output
    res = runner.invoke(app, ["text", "evaluate", "-d", str(data), *cols, "--detector", "bert"])
    assert res.exit_code == 2 and "--detector must be one of" in res.output


def test_stacked_detector_train_detect(tmp_path):
    data, model = _data(tmp_path), tmp_path / "stacked"
    cols = ["--text-column", "body", "--label-column", "kind"]
    base = ["text", "detect-train", "-d", str(data), *cols, "-o", str(model), "--cv", "0"]
    res = runner.invoke(app, [*base, "--detector", "stacked"])
    assert res.exit_code == 2 and "meta_columns" in res.output
    res = runner.invoke(
        app,
        [*base, "--detector", "stacked", "--set", "detector.meta_columns=[video]"]
        + ["--set", "detector.cv=2"],
    )
    assert res.exit_code == 0, res.output
    assert json.loads((model / "config.json").read_text())["format"].endswith("StackedDetector")
    res = runner.invoke(app, ["text", "detect", "free money click", "--model", str(model)])
    assert res.exit_code == 0, res.output
    assert 0 <= next(iter(json.loads(res.stdout)["category_scores"].values())) <= 1
    assert "metadata columns ['video'] missing" in res.stderr  # scored as unknown, said once
