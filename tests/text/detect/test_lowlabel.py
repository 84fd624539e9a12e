import numpy as np
import pytest

from socialgan.errors import DataError
from socialgan.text.detect.classic import TfidfDetector
from socialgan.text.detect.lowlabel import (
    accepts_unlabeled,
    format_curve,
    low_label_curve,
    nested_label_subsets,
)

from ..conftest import make_texts


class _Recorder:
    """A majority-class detector that records what ``fit`` received."""

    calls: list[dict] = []

    def fit(self, texts, y, unlabeled_texts=None):
        _Recorder.calls.append({"n": len(texts), "y": np.asarray(y), "unl": unlabeled_texts})
        values, counts = np.unique(y, return_counts=True)
        self.majority = values[counts.argmax()]
        return self

    def predict(self, texts):
        return np.full(len(texts), self.majority)


def test_nested_stratified_subsets():
    y = np.array([0] * 80 + [1] * 20)
    subsets = nested_label_subsets(y, (0.05, 0.1, 0.5, 1.0), seed=0)
    assert [len(subsets[f]) for f in (0.05, 0.1, 0.5, 1.0)] == [5, 10, 50, 100]
    assert np.bincount(y[subsets[0.1]]).tolist() == [8, 2]
    assert set(subsets[0.05]) <= set(subsets[0.1]) <= set(subsets[0.5])
    assert np.bincount(y[nested_label_subsets(y, (0.01,), seed=0)[0.01]]).tolist() == [1, 1]


def test_curve_passes_unlabeled_only_where_accepted():
    texts, y = make_texts(60, seed=0)
    _Recorder.calls = []
    curve = low_label_curve(_Recorder, texts, y, fractions=(0.1, 1.0), seed=1)
    assert curve["semi_supervised"] and accepts_unlabeled(_Recorder())
    small, full = _Recorder.calls
    assert small["n"] == 4 and len(small["unl"]) == 38 and (small["y"] >= 0).all()
    assert full["n"] == 42 and full["unl"] is None
    assert [r["fraction"] for r in curve["rows"]] == [0.1, 1.0]
    assert "| 10% | 4 | 38 |" in format_curve(curve, "majority")

    assert accepts_unlabeled(TfidfDetector())  # self-training
    assert not accepts_unlabeled(TfidfDetector(self_training_rounds=0))
    small = {"char_ngrams": (2, 4), "calibration_cv": 2, "style_weight": 0.0}
    semi = low_label_curve(lambda: TfidfDetector(**small), texts, y, fractions=(0.25,), cv=2)
    assert semi["semi_supervised"] and semi["rows"][0]["n_unlabeled"] > 0
    tfidf = low_label_curve(
        lambda: TfidfDetector(**small, self_training_rounds=0),
        texts,
        y,
        fractions=(0.25, 1.0),
        cv=2,
    )
    assert not tfidf["semi_supervised"] and tfidf["rows"][0]["n_unlabeled"] == 0
    assert tfidf["rows"][1]["accuracy"] >= 0.9 and tfidf["rows"][1]["macro_f1"] >= 0.9


def test_curve_errors():
    with pytest.raises(DataError, match="empty"):
        low_label_curve(_Recorder, [], [])
    with pytest.raises(DataError, match="2 labels for 3 texts"):
        low_label_curve(_Recorder, ["a", "b", "c"], [0, 1])
    with pytest.raises(ValueError, match="fractions"):
        low_label_curve(_Recorder, ["a", "b"] * 5, [0, 1] * 5, fractions=(0.0, 1.0))
