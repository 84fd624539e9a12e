"""Moderation output in the familiar shape of public moderation APIs.

Example:
    >>> from socialgan.text import TfidfDetector, moderate
    >>> spam = TfidfDetector.from_pretrained("models/spam")
    >>> moderate(["subscribe to my channel!!"], {"spam": spam}, thresholds={"spam": 0.7})
    [{'flagged': True, 'categories': {'spam': True}, 'category_scores': {'spam': 0.98},
      'model': 'socialgan-tfidf-svm-spam', 'thresholds': {'spam': 0.7}}]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from socialgan.detector import DEFAULT_THRESHOLD

__all__ = [
    "DEFAULT_THRESHOLD",
    "category_scores",
    "moderate",
    "resolve_thresholds",
    "stored_thresholds",
]


def category_scores(detector: Any, X: Any) -> np.ndarray:
    """``(N,)`` probability that each text belongs to the detector's flagged labels.

    Uses ``detector.category_score`` when it exists (``TfidfDetector``: the summed
    probability of ``positive_labels``); otherwise the last column of a binary
    ``predict_proba``.
    """
    if hasattr(detector, "category_score"):
        return np.asarray(detector.category_score(X), dtype=np.float64)
    proba = np.asarray(detector.predict_proba(X), dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] != 2:
        raise ValueError(
            f"{type(detector).__name__}: predict_proba gives {proba.shape[1:]} columns; "
            "a moderation category needs a binary detector or a category_score method"
        )
    return proba[:, 1]


def stored_thresholds(detectors: Mapping[str, Any]) -> dict[str, float]:
    """``{category: the detector's stored threshold}`` (0.5 for a detector without one)."""
    return {c: float(getattr(d, "threshold", DEFAULT_THRESHOLD)) for c, d in detectors.items()}


def resolve_thresholds(
    categories: list[str],
    thresholds: Mapping[str, float] | float | None,
    defaults: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """One threshold in [0, 1] per category: a number applies to all; a mapping names some
    categories; the others get ``defaults[category]`` (e.g. :func:`stored_thresholds`),
    else 0.5."""
    fallback = {c: float((defaults or {}).get(c, DEFAULT_THRESHOLD)) for c in categories}
    if thresholds is None:
        out = fallback
    elif isinstance(thresholds, (int, float)):
        out = dict.fromkeys(categories, float(thresholds))
    else:
        unknown = set(thresholds) - set(categories)
        if unknown:
            raise ValueError(
                f"thresholds for unknown categories {sorted(unknown)}; categories: {categories}"
            )
        out = {c: float(thresholds.get(c, fallback[c])) for c in categories}
    for c, t in out.items():
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"threshold for {c!r} must be in [0, 1], got {t}")
    return out


def _model_name(detectors: Mapping[str, Any]) -> str:
    names: list[str] = []
    for det in detectors.values():
        name = getattr(det, "name_", None) or type(det).__name__
        if name not in names:
            names.append(name)
    return ",".join(names)


def moderate(
    texts: Any,
    detectors: Mapping[str, Any],
    thresholds: Mapping[str, float] | float | None = None,
    model: str | None = None,
) -> list[dict[str, Any]]:
    """Score ``texts`` with one detector per category.

    Args:
        texts: a list of strings (or whatever the detectors accept, e.g. a DataFrame with
            metadata columns).
        detectors: ``{category: detector}``, e.g. ``{"spam": ..., "deceptive": ...}``.
        thresholds: ``{category: t}`` or one number for all; a category is flagged when its
            score is ``>= t``. Default: each detector's stored ``threshold`` (0.5 unless
            calibrated).
        model: the ``"model"`` string to report (default: the detectors' names).

    Returns:
        One dict per text: ``{"flagged": bool, "categories": {name: bool},
        "category_scores": {name: float in [0, 1]}, "model": str, "thresholds": {name: t}}``.
    """
    if not detectors:
        raise ValueError("moderate needs at least one detector")
    if isinstance(texts, str):
        raise ValueError("expected a list of texts, got a single string (wrap it in a list)")
    cats = list(detectors)
    thr = resolve_thresholds(cats, thresholds, stored_thresholds(detectors))
    scores = {c: category_scores(det, texts) for c, det in detectors.items()}
    n = len(next(iter(scores.values())))
    name = model or _model_name(detectors)
    results = []
    for i in range(n):
        cat_scores = {c: float(np.clip(scores[c][i], 0.0, 1.0)) for c in cats}
        flags = {c: cat_scores[c] >= thr[c] for c in cats}
        results.append(
            {
                "flagged": any(flags.values()),
                "categories": flags,
                "category_scores": cat_scores,
                "model": name,
                "thresholds": dict(thr),
            }
        )
    return results
