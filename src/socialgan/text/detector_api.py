"""What every saved text detector answers besides ``predict_proba``: labels with an optional
threshold, accuracy, and the moderation hooks (which columns count as flagged, and their
summed probability).

``TfidfDetector`` and the PyTorch detectors (``CharCNNDetector``, ``SSGANDetector``) mix
in :class:`TextDetectorMixin` before scikit-learn's ``ClassifierMixin``, so they predict,
score and flag alike.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np

from socialgan.errors import DataError
from socialgan.text.data import TextDataset

__all__ = ["TextDetectorMixin", "encode_labels", "fit_takes_unlabeled", "training_labels"]


def fit_takes_unlabeled(detector: Any) -> bool:
    """True when ``detector.fit`` has an ``unlabeled_texts`` argument."""
    try:
        return "unlabeled_texts" in inspect.signature(detector.fit).parameters
    except (AttributeError, TypeError, ValueError):
        return False


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
    """``predict`` (with ``threshold``), ``score``, ``flagged_indices`` and
    ``category_score`` from a subclass's ``predict_proba`` and ``_check_fitted``, and its
    fitted ``classes_`` and ``label_names_`` and ``positive_labels`` hyperparameter."""

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
        """Predicted labels. Binary: positive class when its probability >= ``threshold``
        (default 0.5); multi-class: the most probable class (``threshold`` not allowed)."""
        proba = self.predict_proba(X)
        if len(self.classes_) == 2:
            t = 0.5 if threshold is None else float(threshold)
            return self.classes_[(proba[:, 1] >= t).astype(np.int64)]
        if threshold is not None:
            raise ValueError("threshold applies to binary detectors only")
        return self.classes_[proba.argmax(axis=1)]

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

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy (scikit-learn's ``ClassifierMixin.score``; ``sample_weight`` ignored)."""
        return float(np.mean(self.predict(X) == np.asarray(y)))
