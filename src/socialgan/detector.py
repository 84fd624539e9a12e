"""The detector contract: what every socialgan detector (text or image) answers.

A detector is scikit-learn shaped for training and scoring and Hugging Face shaped for
files; :class:`Detector` spells it out as a ``typing.Protocol`` so that
``isinstance(det, Detector)`` checks it at run time. ``docs/DETECTORS.md`` is the prose
version.

* ``fit(X, y, *, ...)``: everything after ``y`` is keyword-only (``label_names=``,
  ``unlabeled_texts=`` ...), so no two detectors can read the same positional call two
  ways. Returns the detector.
* ``predict_proba(X)``: ``(N, K)`` class probabilities in the order of ``classes_``
  (images: column 1 = p(generated)).
* ``decision_function(X)``: scores that rank like ``predict_proba``, scikit-learn's shape:
  ``(N,)`` for a binary detector (larger = the positive class), ``(N, K)`` otherwise.
* ``predict(X, threshold=None)``: binary detectors flag at ``threshold`` or, when it is
  not given, at the calibrated :attr:`Detector.threshold` stored in the model (default
  :data:`DEFAULT_THRESHOLD`); multi-class detectors predict the most probable class and
  refuse a ``threshold``.
* ``save_pretrained(dir, *, ...)`` writes ``config.json`` (with ``model_type``, the
  ``socialgan.load`` key), ``model.safetensors`` and a ``README.md`` model card; extras such
  as ``metrics=`` are keyword-only. ``Cls.from_pretrained(dir)`` reads it back, and
  :func:`socialgan.load` opens any saved model by its ``model_type``.
* Same seed, same data and same thread count give the same model (see
  :mod:`socialgan.reproducibility`).

Example:
    >>> from socialgan.detector import Detector
    >>> from socialgan.text import TfidfDetector
    >>> isinstance(TfidfDetector(), Detector)
    True
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from socialgan.errors import DataError

__all__ = ["DEFAULT_THRESHOLD", "Detector", "check_threshold", "fpr_threshold"]

#: The score at or above which a binary detector flags, until it is calibrated.
DEFAULT_THRESHOLD = 0.5


@runtime_checkable
class Detector(Protocol):
    """The methods and attributes every socialgan detector has (see the module docstring).

    ``threshold`` is the one name of the stored decision threshold, text and image alike:
    a score in ``[0, 1]`` (p(flagged)), set by ``calibrate_threshold`` or by hand, saved
    in ``config.json`` and used by ``predict`` when no threshold is given.
    """

    model_type: ClassVar[str]
    threshold: float

    def fit(self, X: Any, y: Any, **kwargs: Any) -> Any:
        """Learn from inputs ``X`` and labels ``y``; keyword-only extras; returns self."""
        ...

    def predict_proba(self, X: Any) -> np.ndarray:
        """``(N, K)`` class probabilities."""
        ...

    def predict(self, X: Any, threshold: float | None = None) -> np.ndarray:
        """Labels; binary at ``threshold`` (default: the stored one), else argmax."""
        ...

    def decision_function(self, X: Any) -> np.ndarray:
        """``(N,)`` (binary) or ``(N, K)`` scores that rank like ``predict_proba``."""
        ...

    def save_pretrained(self, directory: str | Path, **kwargs: Any) -> Path:
        """Write the model folder; keyword-only extras (``metrics=`` ...)."""
        ...

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> Any:
        """Read a folder written by :meth:`save_pretrained`."""
        ...


def check_threshold(value: Any) -> float:
    """``value`` as a float in ``[0, 1]``, else ``ValueError`` saying so."""
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {value!r}")
    return t


def fpr_threshold(negative_scores: Any, target_fpr: float) -> tuple[float, float]:
    """``(threshold, achieved false positive rate)`` for scores of negatives (texts that
    should not be flagged, real images): the lowest threshold that flags at most
    ``floor(target_fpr * N)`` of them, so the rate on this set is as close to the target
    as ties allow and never above it. Use held-out negatives, not training ones."""
    if not 0.0 <= target_fpr < 1.0:
        raise ValueError(f"target_fpr must be in [0, 1), got {target_fpr}")
    scores = np.sort(np.asarray(negative_scores, dtype=np.float64))[::-1]
    if len(scores) == 0:
        raise DataError("need at least one negative example to calibrate a threshold")
    k = int(math.floor(target_fpr * len(scores) + 1e-9))
    t = 0.0 if k >= len(scores) else float(np.nextafter(scores[k], np.inf))
    t = float(min(max(t, 0.0), 1.0))
    return t, float(np.mean(scores >= t))
