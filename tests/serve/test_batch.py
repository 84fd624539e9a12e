"""Batch scoring: bad rows, a crash and a resume, the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from socialgan.cli import app
from socialgan.errors import DataError
from socialgan.serve.batch import Scorer, score_file
from socialgan.text.detect.classic import TfidfDetector

SPAM = ["free money click now", "win cash prize today", "cheap pills buy now", "click link win"]
HAM = ["love this song so much", "great video thanks", "my favourite band", "nice voice"]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models") / "spam"  # the category is the folder name
    texts, labels = (SPAM + HAM) * 5, ([1] * 4 + [0] * 4) * 5
    det = TfidfDetector(char_ngrams=(2, 4), calibration_cv=3).fit(texts, labels)
    det.save_pretrained(folder)
    return folder


@pytest.fixture()
def posts(tmp_path):
    lines = []
    for i in range(23):
        text = (SPAM + HAM)[i % 8] + f" {i}"
        lines.append(json.dumps({"id": f"p{i}", "text": text}))
    lines[4] = "{not json"
    lines[9] = json.dumps({"id": "p9", "text": ""})
    lines[15] = json.dumps({"id": "p15"})
    lines.insert(12, "")  # a blank line is skipped, not an error
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_bad_rows_are_reported_and_the_rest_scored(model, posts, tmp_path):
    out = tmp_path / "scores.jsonl"
    report = score_file(Scorer([model]), posts, out, chunk_size=5)
    rows = read(out)
    assert len(rows) == 23 and report.scored == 20 and report.errors == 3
    errors = {r["line"]: r["error"] for r in rows if "error" in r}
    assert errors[5].startswith("not valid JSON")
    assert "empty" in errors[10] and "missing" in errors[17]
    good = [r for r in rows if "error" not in r]
    assert {"flagged", "categories", "category_scores", "model", "thresholds"} <= set(good[0])
    assert good[0]["id"] == "p0" and good[0]["categories"]["spam"] is True
    assert [r["line"] for r in rows] == sorted(r["line"] for r in rows)


def test_a_crash_then_resume_equals_one_clean_run(model, posts, tmp_path):
    clean, crashed = tmp_path / "clean.jsonl", tmp_path / "crashed.jsonl"
    score_file(Scorer([model]), posts, clean, chunk_size=4)
    first = score_file(Scorer([model]), posts, crashed, chunk_size=4, max_chunks=2)
    assert first.scored + first.errors == 8
    with open(crashed, "a") as handle:  # the crash tore the next chunk's first line
        handle.write('{"line": 9, "flag')
    second = score_file(Scorer([model]), posts, crashed, chunk_size=4)
    assert second.skipped == 8  # two chunks of 4 lines were written: lines 1-8
    assert crashed.read_text() == clean.read_text()
    again = score_file(Scorer([model]), posts, crashed, chunk_size=4)
    assert again.scored == again.errors == 0  # nothing left: nothing scored twice


def test_output_that_is_not_ours_and_missing_input_are_clear(model, posts, tmp_path):
    other = tmp_path / "other.jsonl"
    other.write_text("hello\n")
    with pytest.raises(DataError, match="not a scored record"):
        score_file(Scorer([model]), posts, other)
    with pytest.raises(DataError, match="no such input"):
        score_file(Scorer([model]), tmp_path / "none.jsonl", other)
    with pytest.raises(DataError, match="at least one model"):
        Scorer([])


def test_the_cli_scores_resumes_and_overwrites(model, posts, tmp_path):
    out = tmp_path / "cli.jsonl"
    args = ["score", "--model", str(model), "--input", str(posts), "--output", str(out)]
    result = CliRunner().invoke(app, [*args, "--chunk-size", "7"])
    assert result.exit_code == 0, result.output
    assert "20 scored, 3 bad lines" in result.output
    result = CliRunner().invoke(app, args)
    assert "0 scored, 0 bad lines (resumed after line 24)" in result.output
    result = CliRunner().invoke(app, [*args, "--overwrite", "--threshold", "0.99"])
    assert result.exit_code == 0 and "20 scored" in result.output
    assert all(r["thresholds"] == {"spam": 0.99} for r in read(out) if "error" not in r)
    result = CliRunner().invoke(app, [*args, "--chunk-size", "0"])
    assert result.exit_code == 2 and "--chunk-size" in result.output
