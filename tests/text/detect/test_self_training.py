"""Self-training of ``TfidfDetector`` on unlabeled texts and transductive evaluation."""

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from socialgan.cli import app
from socialgan.errors import DataError
from socialgan.text.data import TextDataset
from socialgan.text.detect.classic import TfidfDetector
from socialgan.text.detect.evaluation import (
    TRANSDUCTIVE,
    cross_validate,
    format_table,
    nested_group_selection,
)

from ..conftest import make_texts

FAST = {"char_ngrams": (2, 3), "calibration_cv": 3}


def _unlabeled():
    texts, _ = make_texts(30, seed=1)
    return [f"{t} zzqx" for t in texts]  # a token only the unlabeled texts have


def test_self_training_adds_pseudo_labeled_texts(tiny):
    plain = TfidfDetector(**FAST).fit(tiny)
    det = TfidfDetector(**FAST).fit(tiny, unlabeled_texts=_unlabeled())
    assert 1 <= len(det.pseudo_labeled_) <= 2 and det.pseudo_labeled_[0] > 0
    assert "zzqx" in det.vectorizers_["word"].vocabulary_  # refitted on pseudo-labeled texts
    assert "zzqx" not in plain.vectorizers_["word"].vocabulary_
    # C and style_weight are chosen once, on the labeled texts
    assert (det.C_, det.style_weight_) == (plain.C_, plain.style_weight_)
    assert det.selection_scores_ == plain.selection_scores_
    assert det.label_names_ == ["ham", "spam"]


def test_nothing_changes_without_unlabeled_texts(tiny):
    probe = tiny.texts[:5] + ["free money zzqx", "nice song"]
    plain = TfidfDetector(**FAST).fit(tiny)
    for det in (
        TfidfDetector(**FAST).fit(tiny, unlabeled_texts=[]),
        TfidfDetector(**FAST, self_training_rounds=0).fit(tiny, unlabeled_texts=_unlabeled()),
    ):
        assert det.pseudo_labeled_ == []
        np.testing.assert_array_equal(det.predict_proba(probe), plain.predict_proba(probe))


def test_minus_one_labels_are_unlabeled(tiny):
    unl = _unlabeled()
    y = np.concatenate([tiny.labels, np.full(len(unl), -1)])
    det = TfidfDetector(**FAST).fit(tiny.texts + unl, y, label_names=tiny.label_names)
    ref = TfidfDetector(**FAST).fit(tiny.texts, tiny.labels, unlabeled_texts=unl)
    assert det.classes_.tolist() == [0, 1] and det.label_names_ == ["ham", "spam"]
    assert det.pseudo_labeled_ == ref.pseudo_labeled_
    np.testing.assert_allclose(det.predict_proba(unl), ref.predict_proba(unl))


@pytest.mark.parametrize(
    ("param", "value", "match"),
    [
        ("self_training_threshold", 0.5, r"in \(0.5, 1\]"),
        ("self_training_threshold", 1.2, r"in \(0.5, 1\]"),
        ("self_training_threshold", "high", r"in \(0.5, 1\]"),
        ("self_training_rounds", -1, "integer >= 0"),
        ("self_training_rounds", 1.5, "integer >= 0"),
    ],
)
def test_bad_self_training_params(tiny, param, value, match):
    with pytest.raises(ValueError, match=match):
        TfidfDetector(**FAST, **{param: value}).fit(tiny)


def test_unlabeled_rows_keep_their_metadata(tiny_multi):
    params = {**FAST, "meta_columns": ["party", "tags", "count"]}
    train, rest = tiny_multi.subset(np.arange(60)), tiny_multi.subset(np.arange(60, 90))
    det = TfidfDetector(**params).fit(train, unlabeled_texts=rest)
    assert det.pseudo_labeled_[0] > 0
    frame = rest.meta.assign(text=rest.texts)
    y = np.concatenate([train.labels, np.full(len(rest), -1)])
    both = pd.concat([train.meta.assign(text=train.texts), frame], ignore_index=True)
    same = TfidfDetector(**params).fit(both, y, label_names=train.label_names)
    np.testing.assert_allclose(same.predict_proba(frame), det.predict_proba(frame))
    with pytest.raises(DataError, match="unlabeled_texts must be a DataFrame"):
        TfidfDetector(**params).fit(train, unlabeled_texts=list(rest.texts))


def test_round_trip_and_old_config(tmp_path, tiny):
    det = TfidfDetector(**FAST, self_training_threshold=0.95).fit(
        tiny, unlabeled_texts=_unlabeled()
    )
    det.save_pretrained(tmp_path / "m")
    loaded = TfidfDetector.from_pretrained(tmp_path / "m")
    assert loaded.self_training_threshold == 0.95 and loaded.self_training_rounds == 2
    np.testing.assert_allclose(loaded.predict_proba(tiny.texts), det.predict_proba(tiny.texts))
    config_path = tmp_path / "m" / "config.json"
    config = json.loads(config_path.read_text())
    for key in ("self_training_threshold", "self_training_rounds"):
        del config["params"][key]  # as written before self-training existed
    config_path.write_text(json.dumps(config))
    old = TfidfDetector.from_pretrained(tmp_path / "m")
    assert old.self_training_threshold == 0.9
    np.testing.assert_allclose(old.predict_proba(tiny.texts), det.predict_proba(tiny.texts))


class Recorder:
    """A detector double: records what ``fit`` got; predicts class ``value``."""

    calls: list[tuple[TextDataset, list[str]]] = []

    def __init__(self, value: int = 1) -> None:
        self.value = value

    def fit(self, X, y=None, label_names=None, unlabeled_texts=None):
        Recorder.calls.append((X, unlabeled_texts))
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        return np.tile(np.eye(2)[self.value], (len(X), 1))


class NoUnlabeled(Recorder):
    def fit(self, X, y=None, label_names=None):
        return super().fit(X, y, label_names)


def test_cross_validate_transductive_gives_test_texts_unlabeled(tiny):
    Recorder.calls = []
    result = cross_validate(tiny, Recorder, groups=True, transductive=True, progress=False)
    assert result["protocol"].endswith(TRANSDUCTIVE) and len(Recorder.calls) == 3
    for (train, unlabeled), fold in zip(Recorder.calls, result["folds"], strict=True):
        held_out = tiny.groups == fold["group"]
        assert fold["group"] not in set(train.groups)  # no held-out text or label in training
        assert isinstance(unlabeled, list) and all(isinstance(t, str) for t in unlabeled)
        assert unlabeled == [t for t, h in zip(tiny.texts, held_out, strict=True) if h]
    Recorder.calls = []
    cross_validate(tiny, Recorder, cv=2, progress=False)
    assert [u for _, u in Recorder.calls] == [None, None]
    with pytest.raises(DataError, match="fit takes unlabeled_texts"):
        cross_validate(tiny, NoUnlabeled, groups=True, transductive=True, progress=False)


def test_transductive_tfidf_reports_pseudo_labels(tiny):
    result = cross_validate(
        tiny, lambda: TfidfDetector(**FAST), groups=True, transductive=True, progress=False
    )
    assert all(len(f["pseudo_labeled"]) >= 1 for f in result["folds"])


@pytest.mark.filterwarnings("ignore")  # constant predictions: ill-defined F1
def test_nested_group_selection(tiny):
    # 2/3 spam in every group (i % 3): always spam (1) beats always ham (0) in every split
    labels = np.array([int(i // 3 % 3 != 0) for i in range(len(tiny))])
    data = TextDataset(tiny.texts, labels, tiny.label_names, groups=tiny.groups, name="t")
    Recorder.calls = []
    result = nested_group_selection(data, Recorder, [0, 1], progress=False)
    assert result["chosen"] == {"v0": 1, "v1": 1, "v2": 1}
    assert result["folds"][0]["inner_accuracy"][1] > result["folds"][0]["inner_accuracy"][0]
    assert all(u is not None for _, u in Recorder.calls)  # inner and outer fits transductive
    assert len(Recorder.calls) == 3 * (2 * 2 + 1)
    tie = nested_group_selection(data, Recorder, [1, 1], transductive=False, progress=False)
    assert TRANSDUCTIVE not in tie["protocol"] and "v1 1" in format_table(tie)

    real = nested_group_selection(
        tiny, lambda t: TfidfDetector(**FAST, self_training_threshold=t), [0.9, 0.99]
    )
    assert set(real["chosen"].values()) <= {0.9, 0.99} and 0 <= real["accuracy"] <= 1


def test_cli_evaluate_transductive(tmp_path):
    texts, labels = make_texts(40)
    data = tmp_path / "comments.csv"
    rows = [
        f"{t},{'spam' if y else 'ham'},v{i // 20}"
        for i, (t, y) in enumerate(zip(texts, labels, strict=True))
    ]
    data.write_text("\n".join(["body,kind,video", *rows]) + "\n")
    cols = ["--text-column", "body", "--label-column", "kind", "--group-column", "video"]
    fast = ["--set", "detector.char_ngrams=[2, 3]", "--set", "detector.calibration_cv=3"]
    runner = CliRunner()
    res = runner.invoke(
        app, ["text", "evaluate", "-d", str(data), *cols, "--lovo", "--transductive", *fast]
    )
    assert res.exit_code == 0, res.output
    assert TRANSDUCTIVE in res.output and "| v1 |" in res.output
    assert "--transductive" in runner.invoke(app, ["text", "evaluate", "--help"]).output


def test_minus_one_as_a_class_gets_a_clear_error():
    texts, y = make_texts(20)
    with pytest.raises(DataError, match="label -1 marks unlabeled rows"):
        TfidfDetector().fit(texts, np.where(y == 1, 1, -1))
