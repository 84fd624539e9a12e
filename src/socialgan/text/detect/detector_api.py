"""What every text detector answers besides ``predict_proba``: labels at the stored (or a
given) threshold, threshold calibration, and the moderation hooks (which columns count as
flagged, and their summed probability). The contract itself is
:class:`socialgan.detector.Detector`.

``TfidfDetector``, ``StackedDetector`` and the PyTorch detectors (``CharCNNDetector``,
``SSGANDetector``) mix in :class:`TextDetectorMixin` before scikit-learn's
``ClassifierMixin`` (whose ``score`` is accuracy), so they predict, score and flag alike.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from socialgan.detector import DEFAULT_THRESHOLD, check_threshold, fpr_threshold
from socialgan.errors import DataError
from socialgan.text.data import TextDataset

__all__ = [
    "TextDetectorMixin",
    "encode_labels",
    "fit_takes_unlabeled",
    "split_text_input",
    "training_labels",
]


def fit_takes_unlabeled(detector: Any) -> bool:
    """True when ``detector.fit`` has an ``unlabeled_texts`` argument."""
    try:
        return "unlabeled_texts" in inspect.signature(detector.fit).parameters
    except (AttributeError, TypeError, ValueError):
        return False


def split_text_input(X: Any, text_column: str) -> tuple[list[str], pd.DataFrame | None]:
    """``(texts, metadata frame or None)`` of what a text detector is given: a list of
    strings, a ``DataFrame`` (its ``text_column``; the frame is the metadata) or a
    :class:`TextDataset`. ``DataError`` for a single string, a missing column or a
    non-string text, naming the row."""
    if isinstance(X, TextDataset):
        return list(X.texts), X.meta
    meta = None
    if isinstance(X, pd.DataFrame):
        if text_column not in X.columns:
            raise DataError(
                f"input frame has no text column {text_column!r}; found: {list(X.columns)}"
            )
        X, meta = X[text_column].tolist(), X.reset_index(drop=True)
    if isinstance(X, (str, bytes)):
        raise DataError("expected a list of texts, got a single string (wrap it in a list)")
    try:
        texts = list(X)
    except TypeError:
        raise DataError(f"expected a list of texts, got {type(X).__name__}") from None
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise DataError(f"text {i}: expected a string, found {type(t).__name__}")
    return texts, meta


def training_labels(
    X: Any, y: Any, label_names: Sequence[str] | None
) -> tuple[np.ndarray, Sequence[str] | None]:
    """``(y, label_names)`` for ``fit``: a :class:`TextDataset` supplies its own where they
    are not given; ``ValueError`` when there are no labels."""
    if isinstance(X, TextDataset):
        y = X.labels if y is None else y
        label_names = X.label_names if label_names is None else label_names
    if y is None:
        raise ValueError("fit needs labels y")
    return np.asarray(y), label_names


def encode_labels(
    y: np.ndarray, label_names: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(classes, y as 0..K-1, label names)`` of training labels ``y``. Integer labels
    are named by ``label_names[k]``; string labels name themselves. ``DataError`` for a
    single class or integer labels beyond ``label_names``."""
    classes, encoded = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise DataError(f"need at least 2 classes to train, found {classes.tolist()}")
    if label_names is not None and classes.dtype.kind in "iu":
        if classes.min() < 0 or classes.max() >= len(label_names):
            raise DataError(
                f"label ids {classes.tolist()} do not fit {len(label_names)} label_names"
            )
        return classes, encoded, [str(label_names[int(c)]) for c in classes]
    return classes, encoded, [str(c) for c in classes]


class TextDetectorMixin:
    """``predict`` at a threshold, ``calibrate_threshold``, ``flagged_indices`` and
    ``category_score`` from a subclass's ``predict_proba`` and ``_check_fitted``, and its
    fitted ``classes_`` and ``label_names_`` and ``positive_labels`` hyperparameter.

    ``threshold`` (default 0.5) is the category score at or above which a text is flagged:
    binary ``predict`` uses it when none is given, and it is saved with the model. It is
    calibrated state, not a hyperparameter, so ``clone`` and ``get_params`` leave it out.
    """

    model_type: ClassVar[str]
    threshold: float = DEFAULT_THRESHOLD
    positive_labels: Sequence[str] | None
    classes_: np.ndarray
    label_names_: list[str]

    def _check_fitted(self) -> None:
        """Raise ``ValueError`` unless fitted; implemented by subclasses."""
        raise NotImplementedError

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(N, K)``; implemented by subclasses."""
        raise NotImplementedError

    def predict(self, X: Any, threshold: float | None = None) -> np.ndarray:
        """Predicted labels. Binary: the positive class when its probability is at least
        ``threshold`` (default: the stored :attr:`threshold`); multi-class: the most
        probable class (a ``threshold`` is refused)."""
        proba = self.predict_proba(X)
        if len(self.classes_) == 2:
            t = self.threshold if threshold is None else check_threshold(threshold)
            return self.classes_[(proba[:, 1] >= t).astype(np.int64)]
        if threshold is not None:
            raise ValueError(
                f"threshold applies to binary detectors only; this one has "
                f"{len(self.classes_)} classes ({', '.join(self.label_names_)}) and predicts "
                "the most probable; threshold category_score for moderation instead"
            )
        return self.classes_[proba.argmax(axis=1)]

    def calibrate_threshold(self, X: Any, target_fpr: float = 0.05) -> Any:
        """Set :attr:`threshold` so that at most ``target_fpr`` of ``X`` is flagged.

        ``X``: held-out texts that should not be flagged (ham, truthful reviews), not the
        training texts. The threshold is the lowest that flags at most
        ``floor(target_fpr * N)`` of them; the rate achieved is in ``calibration_``.
        Returns the detector.
        """
        self.threshold, achieved = fpr_threshold(self.category_score(X), target_fpr)
        self.calibration_ = {"target_fpr": float(target_fpr), "fpr": achieved, "n": len(X)}
        return self

    def flagged_indices(self) -> list[int]:
        """Columns of ``predict_proba`` that count as flagged (see ``positive_labels``)."""
        self._check_fitted()
        if self.positive_labels is None:
            if len(self.classes_) != 2:
                raise ValueError(
                    f"multi-class detector ({self.label_names_}): set positive_labels to "
                    "the labels that should be flagged"
                )
            return [1]
        unknown = [p for p in self.positive_labels if p not in self.label_names_]
        if unknown:
            raise ValueError(f"positive_labels {unknown} not in labels {self.label_names_}")
        return [self.label_names_.index(p) for p in self.positive_labels]

    def category_score(self, X: Any) -> np.ndarray:
        """``(N,)`` probability of the flagged labels (what moderation reports)."""
        return self.predict_proba(X)[:, self.flagged_indices()].sum(axis=1)
