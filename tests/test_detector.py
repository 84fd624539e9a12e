"""The detector contract (socialgan.detector): every detector class has its shape."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from socialgan.detector import Detector, check_threshold, fpr_threshold
from socialgan.errors import DataError
from socialgan.image.detect import CNNDetector, DiscriminatorDetector, SpectralDetector
from socialgan.loading import MODEL_TYPES, load, model_class
from socialgan.tabular import AccountDetector
from socialgan.text import (
    CharCNNDetector,
    MiniLMDetector,
    NormalizingDetector,
    SSGANDetector,
    StackedDetector,
    TfidfDetector,
)

DETECTORS = [
    TfidfDetector,
    StackedDetector,
    CharCNNDetector,
    SSGANDetector,
    MiniLMDetector,
    NormalizingDetector,
    SpectralDetector,
    CNNDetector,
    DiscriminatorDetector,
    AccountDetector,
]


def _instance(cls: type) -> object:
    return cls(TfidfDetector()) if cls is NormalizingDetector else cls()


def _after(method: object, n_positional: int) -> list[inspect.Parameter]:
    return list(inspect.signature(method).parameters.values())[n_positional:]  # type: ignore[arg-type]


@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_every_detector_follows_the_contract(cls):
    det = _instance(cls)
    assert isinstance(det, Detector)
    assert MODEL_TYPES[cls.model_type] and model_class(cls.model_type) is cls
    assert 0.0 <= det.threshold <= 1.0
    # fit(X, y, *, ...) and save_pretrained(dir, *, ...): nothing positional after them
    for method, n in ((det.fit, 2), (det.save_pretrained, 1)):
        kinds = {p.kind for p in _after(method, n)}
        assert kinds <= {inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.VAR_KEYWORD}, method
    assert list(inspect.signature(det.predict).parameters)[1:] == ["threshold"]
    assert isinstance(inspect.getattr_static(cls, "from_pretrained"), classmethod)


@pytest.fixture
def tiny_accounts() -> pd.DataFrame:
    """20 accounts: the bots have few followers and digits in their screen names."""
    bot = np.arange(20) % 2
    return pd.DataFrame(
        {
            "screen_name": [f"user{i}" + ("123" if b else "") for i, b in enumerate(bot)],
            "followers_count": np.where(bot, 3, 300) + np.arange(20),
            "statuses_count": np.where(bot, 9000, 200) + np.arange(20),
            "bot": bot,
        }
    )


def test_account_detector_keeps_the_contract_when_fitted(tiny_accounts, tmp_path):
    pytest.importorskip("lightgbm", reason="the `tabular` extra: pip install 'socialgan[tabular]'")
    det = AccountDetector(n_estimators=5, min_child_samples=2).fit(tiny_accounts)
    assert det.predict_proba(tiny_accounts).shape == (20, 2)
    assert det.decision_function(tiny_accounts).shape == (20,)
    assert det.predict(tiny_accounts, threshold=1.0).tolist() == [0] * 20
    det.calibrate_threshold(tiny_accounts[tiny_accounts["bot"] == 0], target_fpr=0.0)
    det.save_pretrained(tmp_path, metrics={"cv_accuracy": 1.0})
    again = load(tmp_path)
    assert type(again) is AccountDetector and again.threshold == det.threshold
    np.testing.assert_array_equal(again.predict(tiny_accounts), det.predict(tiny_accounts))


def test_fpr_threshold_flags_at_most_the_target_share():
    scores = np.linspace(0.0, 0.99, 100)
    t, achieved = fpr_threshold(scores, 0.05)
    assert np.mean(scores >= t) == achieved <= 0.05 and achieved == pytest.approx(0.05)
    assert fpr_threshold(scores, 0.0)[1] == 0.0
    assert fpr_threshold([0.3, 0.3, 0.3], 0.5) == (pytest.approx(0.3, abs=1e-12), 0.0)
    with pytest.raises(DataError, match="at least one"):
        fpr_threshold([], 0.1)
    with pytest.raises(ValueError, match="target_fpr"):
        fpr_threshold(scores, 1.0)


def test_check_threshold():
    assert check_threshold(1) == 1.0
    for bad in (-0.1, 1.5, "high", None):
        with pytest.raises(ValueError, match="threshold"):
            check_threshold(bad)
