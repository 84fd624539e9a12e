import numpy as np
import pytest

from socialgan.text.detect.classic import TfidfDetector
from socialgan.text.detect.moderation import moderate

SMALL = {"char_ngrams": (2, 4), "calibration_cv": 3}


def test_moderation_shape_and_thresholds(tiny, tiny_multi):
    spam = TfidfDetector(**SMALL).fit(tiny)
    topic = TfidfDetector(**SMALL, positive_labels=["high", "mid"]).fit(tiny_multi)
    texts = ["free money click now", "love this song so much"]
    out = moderate(texts, {"spam": spam, "topic": topic}, thresholds={"spam": 0.6})
    assert len(out) == 2
    for r in out:
        assert set(r) == {"flagged", "categories", "category_scores", "model", "thresholds"}
        assert set(r["categories"]) == {"spam", "topic"}
        assert all(0.0 <= s <= 1.0 for s in r["category_scores"].values())
        assert r["thresholds"] == {"spam": 0.6, "topic": 0.5}
        assert r["flagged"] == any(r["categories"].values())
        assert isinstance(r["category_scores"]["spam"], float)
    assert out[0]["categories"]["spam"] and not out[1]["categories"]["spam"]
    proba = topic.predict_proba(texts)
    assert np.isclose(out[0]["category_scores"]["topic"], proba[0, 1] + proba[0, 2])
    everything = moderate(texts, {"spam": spam}, thresholds=0.0)
    assert all(r["flagged"] for r in everything)


def test_moderation_errors(tiny, tiny_multi):
    spam = TfidfDetector(**SMALL).fit(tiny)
    with pytest.raises(ValueError, match="unknown categories"):
        moderate(["x"], {"spam": spam}, thresholds={"scam": 0.5})
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        moderate(["x"], {"spam": spam}, thresholds=1.5)
    with pytest.raises(ValueError, match="single string"):
        moderate("x", {"spam": spam})
    multi = TfidfDetector(**SMALL).fit(tiny_multi)
    with pytest.raises(ValueError, match="positive_labels"):
        moderate(["x"], {"topic": multi})
