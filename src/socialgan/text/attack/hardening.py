"""Defences against evasion: input normalization around any detector, and adversarial
training data.

- :class:`NormalizingDetector` wraps a detector so that every text it is trained on or
  scores first goes through :func:`~socialgan.text.attack.normalize.normalize_text`: the
  invisible-character, look-alike, spacing and leetspeak disguises of
  :mod:`socialgan.text.attack.attacks` fold back to the words the detector knows.
- :func:`adversarial_augment` adds attacked copies of the positives to the training set,
  so the detector also learns what normalization cannot undo (synonyms, new tricks).

Saved models are the inner detector's files plus ``normalization.json``; load them with
:func:`socialgan.load` (which opens plain detectors too) or
:meth:`NormalizingDetector.from_pretrained`.

Example:
    >>> import socialgan
    >>> from socialgan.text import TfidfDetector, load_youtube_spam
    >>> from socialgan.text.attack.hardening import NormalizingDetector, adversarial_augment
    >>> data = load_youtube_spam()
    >>> det = NormalizingDetector(TfidfDetector()).fit(adversarial_augment(data))
    >>> det.predict(["ch\\u200beck my с h a n n e l"])
    >>> det.save_pretrained("models/spam-hardened")
    >>> socialgan.load("models/spam-hardened")  # a NormalizingDetector again
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np
import pandas as pd

from socialgan.detector import DEFAULT_THRESHOLD
from socialgan.errors import DataError
from socialgan.loading import load, model_class, read_config
from socialgan.text.attack.attacks import (
    ATTACKS,
    Attack,
    RngLike,
    check_labels,
    check_text_list,
    get_attack,
)
from socialgan.text.attack.normalize import NORMALIZE_STEPS, normalize_text
from socialgan.text.data import TextDataset

__all__ = [
    "NORMALIZATION_FILE",
    "NormalizingDetector",
    "adversarial_augment",
    "load_text_detector",
]

#: File beside the inner detector's files that holds the normalization settings.
NORMALIZATION_FILE = "normalization.json"
_MODEL_TYPE = "socialgan.text.NormalizingDetector"
#: 1: ``format`` names the class, ``detector`` the inner format; 2: ``model_type`` and the
#: inner ``model_type``.
_FORMAT_VERSION = 2


class NormalizingDetector:
    """A detector that normalizes its input texts (fit and scoring alike).

    Args:
        detector: the inner detector (e.g. a :class:`TfidfDetector`), fitted or not.
        invisible, nfkc, confusables, spacing, leet: the steps of
            :func:`~socialgan.text.attack.normalize.normalize_text` to apply. Default: all.
        adversarial: attacks (names in :data:`~socialgan.text.attack.attacks.ATTACKS`) whose
            outputs on the flagged class are added to the training data in :meth:`fit`
            (adversarial training); empty = none.

    Accepts the inputs the inner detector accepts: a list of texts, a ``DataFrame``
    (its text column, the inner ``text_column`` or ``"text"``, is normalized) or a
    :class:`TextDataset`. Fitted attributes of the inner detector (``classes_``,
    ``label_names_``, ``category_`` ...) are readable on the wrapper; ``threshold`` is the
    inner detector's (setting it sets theirs, and it is saved with them).
    """

    model_type = _MODEL_TYPE

    def __init__(
        self,
        detector: Any,
        *,
        invisible: bool = True,
        nfkc: bool = True,
        confusables: bool = True,
        spacing: bool = True,
        leet: bool = True,
        adversarial: Sequence[str] = (),
    ) -> None:
        self.detector = detector
        self.adversarial = tuple(adversarial)
        self.steps = {
            "invisible": bool(invisible),
            "nfkc": bool(nfkc),
            "confusables": bool(confusables),
            "spacing": bool(spacing),
            "leet": bool(leet),
        }

    def __repr__(self) -> str:
        off = [k for k, v in self.steps.items() if not v]
        extra = f", off={off}" if off else ""
        return f"NormalizingDetector({self.detector!r}{extra})"

    def __getattr__(self, name: str) -> Any:
        # Only fitted attributes (trailing underscore) are forwarded: a forwarded method
        # would score texts without normalizing them.
        if name.endswith("_") and not name.startswith("__") and "detector" in self.__dict__:
            return getattr(self.__dict__["detector"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def threshold(self) -> float:
        """The inner detector's ``threshold`` attribute, else 0.5."""
        return float(getattr(self.detector, "threshold", DEFAULT_THRESHOLD))

    @threshold.setter
    def threshold(self, value: float) -> None:
        self.detector.threshold = value

    # ------------------------------------------------------------------ normalization
    def normalize(self, texts: Sequence[str]) -> list[str]:
        """The texts as the inner detector sees them."""
        if isinstance(texts, (str, bytes)):
            raise DataError("expected a list of texts, got a single string (wrap it in a list)")
        out = []
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise DataError(f"text {i}: expected a string, found {type(t).__name__}")
            out.append(normalize_text(t, **self.steps))
        return out

    def _normalize_input(self, X: Any) -> Any:
        if isinstance(X, TextDataset):
            return dataclasses.replace(X, texts=self.normalize(X.texts))
        if isinstance(X, pd.DataFrame):
            column = getattr(self.detector, "text_column", "text")
            if column not in X.columns:
                raise DataError(
                    f"input frame has no text column {column!r}; found: {list(X.columns)}"
                )
            out = X.copy()
            out[column] = self.normalize(X[column].tolist())
            return out
        return self.normalize(X)

    # ------------------------------------------------------------------ detector API
    def fit(self, X: Any, y: Any = None, **kwargs: Any) -> NormalizingDetector:
        """Fit the inner detector on the normalized texts (``kwargs`` go to its ``fit``),
        plus attacked copies of the flagged class when ``adversarial`` names attacks."""
        if self.adversarial:
            X, y = self._augment(X, y)
        self.detector.fit(self._normalize_input(X), y, **kwargs)
        return self

    def _augment(self, X: Any, y: Any) -> tuple[Any, Any]:
        if isinstance(X, TextDataset):
            names = getattr(self.detector, "positive_labels", None) or [X.label_names[-1]]
            for name in names:
                if name not in X.label_names:
                    raise DataError(f"positive label {name!r} is not one of {X.label_names}")
                X = adversarial_augment(
                    X, attacks=self.adversarial, positive_label=X.label_names.index(name)
                )
            return X, y
        if isinstance(X, pd.DataFrame):
            raise DataError("adversarial training needs a list of texts or a TextDataset")
        return adversarial_augment(X, y, attacks=self.adversarial)

    def predict_proba(self, X: Any) -> np.ndarray:
        """The inner detector's ``predict_proba`` of the normalized texts."""
        return np.asarray(self.detector.predict_proba(self._normalize_input(X)))

    def predict(self, X: Any, threshold: float | None = None) -> np.ndarray:
        """The inner detector's ``predict`` of the normalized texts (at its stored threshold
        unless ``threshold`` is given)."""
        if threshold is None:
            return np.asarray(self.detector.predict(self._normalize_input(X)))
        return np.asarray(self.detector.predict(self._normalize_input(X), threshold=threshold))

    def decision_function(self, X: Any) -> np.ndarray:
        """The inner detector's ``decision_function`` of the normalized texts."""
        return np.asarray(self.detector.decision_function(self._normalize_input(X)))

    def calibrate_threshold(self, X: Any, target_fpr: float = 0.05) -> NormalizingDetector:
        """Calibrate the inner detector's threshold on the normalized texts ``X`` (held-out
        texts that should not be flagged; see ``TextDetectorMixin.calibrate_threshold``)."""
        self.detector.calibrate_threshold(self._normalize_input(X), target_fpr)
        return self

    def category_score(self, X: Any) -> np.ndarray:
        """``(N,)`` flagged-labels probability (what moderation reports), normalized input."""
        if hasattr(self.detector, "category_score"):
            return np.asarray(self.detector.category_score(self._normalize_input(X)))
        return self.predict_proba(X)[:, 1]

    def flagged_indices(self) -> list[int]:
        """The inner detector's flagged columns (binary default: ``[1]``)."""
        if hasattr(self.detector, "flagged_indices"):
            return list(self.detector.flagged_indices())
        return [1]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy of :meth:`predict`."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    # ------------------------------------------------------------------ persistence
    def save_pretrained(self, directory: str | Path, **kwargs: Any) -> Path:
        """Save the inner detector (``kwargs``, keyword-only, go to its ``save_pretrained``),
        then ``normalization.json``; the model card gets a note on the normalization."""
        directory = Path(directory)
        self.detector.save_pretrained(directory, **kwargs)
        config = {
            "model_type": _MODEL_TYPE,
            "format_version": _FORMAT_VERSION,
            "detector": getattr(self.detector, "model_type", type(self.detector).__qualname__),
            "steps": self.steps,
        }
        (directory / NORMALIZATION_FILE).write_text(json.dumps(config, indent=2), encoding="utf-8")
        card = directory / "README.md"
        if card.is_file():
            on = ", ".join(k for k, v in self.steps.items() if v) or "none"
            note = (
                "\n## Input normalization\nTexts are normalized before scoring "
                f"(`socialgan.text.normalize_text`; steps: {on}). Load with "
                "`socialgan.load(dir)` or "
                "`socialgan.text.NormalizingDetector.from_pretrained(dir)` to keep it.\n"
            )
            card.write_text(card.read_text(encoding="utf-8") + note, encoding="utf-8")
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> NormalizingDetector:
        """Load a detector saved by :meth:`save_pretrained` (JSON + safetensors, no pickle)."""
        directory = Path(directory)
        steps = _read_steps(directory / NORMALIZATION_FILE)
        inner = model_class(read_config(directory, "socialgan.text.")["model_type"])
        return cls(inner.from_pretrained(directory), **steps)


def _read_steps(path: Path) -> dict[str, Any]:
    """The normalization steps of a ``normalization.json`` (any format version so far)."""
    if not path.is_file():
        raise DataError(f"{path.parent}: not a saved NormalizingDetector ({path.name} missing)")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: not valid JSON ({e})") from None
    found = config.get("model_type", config.get("format")) if isinstance(config, dict) else None
    if found != _MODEL_TYPE:
        raise DataError(f"{path}: not a {_MODEL_TYPE} config (model_type={found!r})")
    if config.get("format_version", 0) > _FORMAT_VERSION:
        raise DataError(
            f"{path}: format version {config['format_version']} is newer than this "
            f"socialgan reads ({_FORMAT_VERSION}); upgrade socialgan"
        )
    steps = config.get("steps", {})
    if not isinstance(steps, dict) or set(steps) - set(NORMALIZE_STEPS):
        raise DataError(f"{path}: 'steps' must map steps of {NORMALIZE_STEPS} to true/false")
    return {k: bool(v) for k, v in steps.items()}


def load_text_detector(directory: str | Path) -> Any:
    """Load any saved text detector (TF-IDF, stacked, CharCNN, SSGAN; hardened ones as a
    :class:`NormalizingDetector`): :func:`socialgan.load` limited to text models, so an
    image model or another folder says what it holds."""
    return load(directory, expect="socialgan.text.")


@overload
def adversarial_augment(
    texts: TextDataset,
    labels: None = None,
    attacks: Sequence[str | Attack] = ...,
    rng: RngLike = ...,
    *,
    strength: float = ...,
    copies: int = ...,
    positive_label: int = ...,
) -> TextDataset: ...


@overload
def adversarial_augment(
    texts: Sequence[str],
    labels: Any,
    attacks: Sequence[str | Attack] = ...,
    rng: RngLike = ...,
    *,
    strength: float = ...,
    copies: int = ...,
    positive_label: int = ...,
) -> tuple[list[str], np.ndarray]: ...


def adversarial_augment(
    texts: Sequence[str] | TextDataset,
    labels: Any = None,
    attacks: Sequence[str | Attack] = ("mixed",),
    rng: RngLike = 0,
    *,
    strength: float = 0.3,
    copies: int = 1,
    positive_label: int = 1,
) -> tuple[list[str], np.ndarray] | TextDataset:
    """Training data for adversarial training: the originals plus attacked copies of the
    positives (``copies`` per attack; copies an attack leaves unchanged are dropped).

    Augment the training split only, after splitting: an attacked copy of a test text in
    the training data would inflate the measured robustness.

    Args:
        texts: the training texts, or a :class:`TextDataset` (then ``labels`` come from
            it, and a ``TextDataset`` is returned whose added rows repeat the source
            row's group and metadata).
        labels: ``(n,)`` labels when ``texts`` is a list.
        attacks: names in :data:`ATTACKS` or attack functions. Default ``("mixed",)``.
        rng: seed or generator for the attacks. Default 0.
        strength: fraction of words each attacked copy disguises. Default 0.3.
        copies: attacked copies per positive text and attack. Default 1.
        positive_label: the label whose texts are attacked. Default 1.

    Returns:
        ``(texts, labels)`` (originals first), or a ``TextDataset`` for a ``TextDataset``.
    """
    data = texts if isinstance(texts, TextDataset) else None
    if data is not None:
        if labels is not None:
            raise DataError("labels come from the TextDataset; do not pass them too")
        labels = data.labels
    originals = check_text_list(data.texts if data is not None else texts)
    if labels is None:
        raise DataError("adversarial_augment needs the labels of the texts")
    y = check_labels(labels, len(originals))
    if isinstance(attacks, str) or not attacks:
        raise DataError(f"attacks must be a non-empty list of names from {list(ATTACKS)}")
    if copies < 1:
        raise DataError(f"copies must be at least 1, got {copies}")
    fns = [get_attack(a)[1] for a in attacks]
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng or 0)
    positives = np.flatnonzero(y == positive_label)
    new_texts: list[str] = []
    source: list[int] = []
    for _ in range(copies):
        for fn in fns:
            for i in positives:
                attacked = fn(originals[i], gen, strength)
                if attacked != originals[i]:
                    new_texts.append(attacked)
                    source.append(int(i))
    if data is not None:
        out = data.subset(np.concatenate([np.arange(len(data)), np.array(source, dtype=np.int64)]))
        out.texts = originals + new_texts
        return out
    return originals + new_texts, np.concatenate([y, y[np.array(source, dtype=np.int64)]])
