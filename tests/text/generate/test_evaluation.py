"""Generator evaluation: curve comparison at matched diversity, conditional accuracy and
detectability on hand-made cases."""

from __future__ import annotations

import numpy as np

from socialgan.text import TfidfDetector
from socialgan.text.generate.evaluation import (
    conditional_accuracy,
    curve_relation,
    detectability_auc,
    temperature_sweep,
)
from socialgan.text.generate.metrics import embed_texts, fbd

from .tweets import NEGATIVE, POSITIVE


def _curve(points):
    return [{"self_bleu5": x, "bleu5": y} for x, y in points]


def test_curve_relation_at_matched_diversity():
    base = _curve([(0.2, 0.2), (0.5, 0.4), (0.8, 0.6)])
    assert curve_relation(_curve([(0.3, 0.5), (0.7, 0.7)]), base) == "above"
    assert curve_relation(_curve([(0.3, 0.1), (0.7, 0.3)]), base) == "below"
    assert curve_relation(_curve([(0.2, 0.1), (0.8, 0.9)]), base) == "crosses"
    assert curve_relation(_curve([(0.9, 0.9), (0.95, 0.95)]), base) == "disjoint"
    # higher BLEU-5 at a *different* diversity is not "above": only the overlap counts
    assert curve_relation(_curve([(0.75, 0.55), (0.8, 0.9)]), base) == "crosses"


class _Echo:
    """A 'generator' that returns texts of the class it is asked for."""

    def sample(self, n, *, seed=0, label=None, temperature=1.0, top_p=1.0):
        pool = POSITIVE if label == "positive" else NEGATIVE
        return [pool[i % len(pool)] for i in range(n)]


class _Keyword:
    """A 'classifier': positive when the text says thank/love/great."""

    def predict(self, texts):
        words = ("thank", "love", "great")
        return np.array([int(any(w in t.lower() for w in words)) for t in texts])


def test_conditional_accuracy_counts_requested_class():
    acc = conditional_accuracy(_Echo(), _Keyword(), ["negative", "positive"], n_per_class=25)
    expected_pos = _Keyword().predict(POSITIVE).mean()
    expected_neg = 1 - _Keyword().predict(NEGATIVE).mean()
    assert acc["positive"] == expected_pos and acc["negative"] == expected_neg
    assert acc["mean"] == (expected_pos + expected_neg) / 2


def test_detectability_separates_different_texts():
    make = lambda: TfidfDetector(char_ngrams=(2, 3), calibration_cv=3, style_weight=0.0)  # noqa: E731
    assert detectability_auc(NEGATIVE, POSITIVE, make, cv=3) > 0.9
    # unequal sizes are balanced by subsampling the larger set (12 of each here)
    assert detectability_auc(NEGATIVE[:12], POSITIVE, make, cv=3) > 0.8


def test_temperature_sweep_scores_the_same_samples_against_other_sets() -> None:
    ref = embed_texts(POSITIVE)
    curve = temperature_sweep(
        _Echo(), NEGATIVE, (0.8, 1.2), n=10, max_hypotheses=5, other_features={"pos": ref}
    )
    assert [r["temperature"] for r in curve] == [0.8, 1.2]
    samples = _Echo().sample(10)  # the echo ignores temperature: both records agree
    assert curve[0]["fbd_pos"] == curve[1]["fbd_pos"] == fbd(embed_texts(samples), ref)
    assert curve[0]["fbd"] == fbd(embed_texts(samples), embed_texts(NEGATIVE))
