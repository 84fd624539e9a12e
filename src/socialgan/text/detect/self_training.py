"""Unlabeled texts for the TF-IDF detector: the ``-1`` label convention and the checks and
bookkeeping of self-training (``TfidfDetector(self_training_threshold=...,
self_training_rounds=...)``; the rounds themselves run in ``TfidfDetector.fit``).
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from socialgan.errors import DataError

__all__ = ["UNLABELED", "check_self_training", "split_unlabeled"]

#: Integer label that marks an unlabeled row (scikit-learn's semi-supervised convention);
#: ``TfidfDetector`` and the neural detectors alike.
UNLABELED = -1


def check_self_training(threshold: Any, rounds: Any) -> tuple[float, int]:
    """``(threshold, rounds)`` as numbers; ``ValueError`` unless the threshold is in
    (0.5, 1] and the rounds an integer >= 0."""
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, Real)
        or not 0.5 < float(threshold) <= 1
    ):
        raise ValueError(f"self_training_threshold must be a number in (0.5, 1], not {threshold!r}")
    if isinstance(rounds, bool) or not isinstance(rounds, Integral) or rounds < 0:
        raise ValueError(f"self_training_rounds must be an integer >= 0, not {rounds!r}")
    return float(threshold), int(rounds)


def split_unlabeled(
    texts: list[str],
    meta: pd.DataFrame | None,
    y: np.ndarray,
    extra: tuple[list[str], pd.DataFrame | None] | None,
    meta_columns: Sequence[str] | None,
) -> tuple[list[str], pd.DataFrame | None, np.ndarray, list[str], pd.DataFrame | None]:
    """Split off the ``-1`` rows and append ``extra`` unlabeled ``(texts, meta)``: returns
    ``(texts, meta, y, unlabeled texts, their meta)``; the unlabeled meta is ``None``
    unless ``meta_columns``, and then every unlabeled text must come with its metadata."""
    unl_texts: list[str] = []
    unl_metas: list[pd.DataFrame | None] = []
    if y.dtype.kind == "i" and (y == UNLABELED).any():
        mask = y == UNLABELED
        unl_texts = [t for t, m in zip(texts, mask, strict=True) if m]
        texts = [t for t, m in zip(texts, mask, strict=True) if not m]
        if meta is not None:
            unl_metas.append(meta[mask].reset_index(drop=True))
            meta = meta[~mask].reset_index(drop=True)
        y = y[~mask]
        if len(np.unique(y)) < 2:
            raise DataError(
                f"label -1 marks unlabeled rows ({int(mask.sum())} here), leaving the classes "
                f"{np.unique(y).tolist()}; if -1 is a class, relabel the classes 0..K-1"
            )
    if extra is not None:
        unl_texts += extra[0]
        unl_metas.append(extra[1])
    if not meta_columns or not unl_texts:
        return texts, meta, y, unl_texts, None
    if any(m is None for m in unl_metas):
        raise DataError(
            "with meta_columns, unlabeled_texts must be a DataFrame or TextDataset "
            f"holding the metadata columns {list(meta_columns)}"
        )
    return texts, meta, y, unl_texts, pd.concat(unl_metas, ignore_index=True)
