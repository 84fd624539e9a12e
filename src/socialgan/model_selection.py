"""One way to choose a regularization strength: the lowest out-of-fold log-loss.

Every detector that searches a grid of C values (the TF-IDF, stacked and spectral detectors)
does it here, on pooled out-of-fold probabilities. Log-loss, not accuracy: on LIAR an
accuracy-based choice flipped with BLAS threads and solver tolerance (test accuracy moved by
more than a point), the log-loss choice did not. scikit-learn's ``GridSearchCV`` averages
per-fold scores and refits the winner; the detectors need the pooled out-of-fold
probabilities themselves (the stacked detector feeds them to its combiner), so the loop is
this small function and the folds and the scoring are scikit-learn's.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import numpy as np
from sklearn.metrics import log_loss

__all__ = ["lowest_log_loss", "out_of_fold_proba"]

C = TypeVar("C", bound=Hashable)


def out_of_fold_proba(
    fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray],
    n_rows: int,
    n_classes: int,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """``(n_rows, n_classes)`` probabilities, each row from the fold that held it out.

    ``fit_predict(train_idx, test_idx)`` fits on the training rows and returns the test
    rows' probabilities."""
    proba = np.zeros((n_rows, n_classes))
    for train, test in folds:
        proba[test] = fit_predict(train, test)
    return proba


def lowest_log_loss(
    candidates: Sequence[C],
    oof: Callable[[C], np.ndarray],
    y: np.ndarray,
    n_classes: int,
) -> tuple[C, np.ndarray, dict[C, float]]:
    """``(best candidate, its out-of-fold probabilities, every candidate's log-loss)``.

    ``oof(c)`` returns the pooled out-of-fold probabilities ``(N, n_classes)`` of candidate
    ``c`` for labels ``y`` in ``0 .. n_classes - 1``. Ties go to the earliest candidate, so
    list them from the simplest (most regularized) up."""
    if not candidates:
        raise ValueError("no candidates to choose from")
    labels = np.arange(n_classes)
    losses: dict[C, float] = {}
    best: tuple[Any, float, np.ndarray] | None = None
    for c in candidates:
        proba = oof(c)
        loss = float(log_loss(y, proba, labels=labels))
        losses[c] = loss
        if best is None or loss < best[1]:
            best = (c, loss, proba)
    assert best is not None
    return best[0], best[2], losses
