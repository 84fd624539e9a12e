"""Matrix factorization baselines on the ``implicit`` library's CPU kernels.

- :class:`BPR`: Bayesian Personalized Ranking (Rendle et al., UAI 2009), SGD over
  (user, consumed item, unconsumed item) triples; ``implicit`` learns an item bias as the
  last factor column (the user side holds a constant 1 there), kept here as ``item_bias``.
- :class:`ALS`: weighted matrix factorization for implicit feedback (Hu, Koren and
  Volinsky, ICDM 2008) by alternating least squares, every user-item cell weighted by its
  confidence ``1 + alpha * x`` (``x`` = 1 for a consumed item, 0 otherwise).

Both score ``user_factors @ item_factors.T`` (+ the item bias for BPR). The CPU classes are
used explicitly so that a machine with CUDA gives the same model; BLAS runs single-threaded
during fitting (``implicit`` slows down badly otherwise), and ``num_threads`` sets the
library's own threads. BPR's SGD is Hogwild with more than one thread, so only
``num_threads=1`` (its default) is exactly reproducible for a seed.

Defaults: 64 factors (RecBole's embedding size) and the rest picked on LastFM's validation
part (8:1:1 split, seed 2020): BPR ``lr=0.005, regularization=0.01, iterations=150``
(longer or faster SGD overfits); ALS ``regularization=30, alpha=5, iterations=15``
(implicit's ``0.01`` and HKV's ``alpha=40`` are far worse on this binary data).

Example:
    >>> model = ALS(factors=64, alpha=10).fit(split.train)  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from socialgan.errors import DataError

from .base import Recommender

__all__ = ["ALS", "BPR"]


def _check_positive(model: Recommender, ints: tuple[str, ...], floats: tuple[str, ...]) -> None:
    """``DataError`` for hyperparameters that must be positive (``floats`` may be 0)."""
    for name in ints:
        if int(getattr(model, name)) < 1:
            raise DataError(f"{name} must be >= 1, got {getattr(model, name)!r}")
    for name in floats:
        value = float(getattr(model, name))
        if not np.isfinite(value) or value < 0:
            raise DataError(f"{name} must be a finite number >= 0, got {getattr(model, name)!r}")


class _Factorization(Recommender):
    """Scores ``user_factors @ item_factors.T + item_bias``; the factors are the state."""

    user_factors_: np.ndarray
    item_factors_: np.ndarray
    item_bias_: np.ndarray

    def _score(self, users: np.ndarray) -> np.ndarray:
        scores = self.user_factors_[users] @ self.item_factors_.T
        return np.asarray(scores + self.item_bias_[None, :], np.float32)

    def _state(self) -> dict[str, np.ndarray]:
        return {
            "user_factors": self.user_factors_,
            "item_factors": self.item_factors_,
            "item_bias": self.item_bias_,
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.user_factors_ = np.asarray(state["user_factors"], np.float32)
        self.item_factors_ = np.asarray(state["item_factors"], np.float32)
        self.item_bias_ = np.asarray(state["item_bias"], np.float32)


class BPR(_Factorization):
    """BPR-MF: pairwise ranking matrix factorization (``implicit``'s CPU SGD)."""

    model_type: ClassVar[str] = "socialgan.recsys.BPR"
    description: ClassVar[str] = (
        "BPR-MF (Rendle et al., 2009): matrix factorization with an item bias trained to rank "
        "each consumed item above a random unconsumed one (implicit's CPU implementation)."
    )
    #: A small grid for tuning on validation data.
    search_space: ClassVar[dict[str, list[Any]]] = {
        "factors": [32, 64, 128],
        "lr": [0.002, 0.005, 0.01, 0.03],
        "regularization": [0.001, 0.01, 0.03],
        "iterations": [50, 150, 300],
    }

    def __init__(
        self,
        factors: int = 64,
        lr: float = 0.005,
        regularization: float = 0.01,
        iterations: int = 150,
        seed: int = 0,
        num_threads: int = 1,
        progress: bool = False,
    ) -> None:
        self.factors = factors
        self.lr = lr
        self.regularization = regularization
        self.iterations = iterations
        self.seed = seed
        self.num_threads = num_threads
        self.progress = progress

    def _fit(self, X: sp.csr_matrix, social: sp.csr_matrix | None) -> None:
        del social
        _check_positive(self, ("factors", "iterations", "num_threads"), ("regularization",))
        if not float(self.lr) > 0:
            raise DataError(f"lr must be > 0, got {self.lr!r}")
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # implicit's BLAS-threads check
            model = BayesianPersonalizedRanking(
                factors=int(self.factors),
                learning_rate=float(self.lr),
                regularization=float(self.regularization),
                iterations=int(self.iterations),
                num_threads=int(self.num_threads),
                verify_negative_samples=True,
                random_state=int(self.seed),
            )
            model.fit(sp.csr_matrix(X, dtype=np.float32), show_progress=bool(self.progress))
        users = np.asarray(model.user_factors, np.float32)
        items = np.asarray(model.item_factors, np.float32)
        if np.all(users[:, -1] == 1.0):
            # implicit appends the item bias as a last column that users hold fixed at 1
            self.user_factors_ = np.ascontiguousarray(users[:, :-1])
            self.item_factors_ = np.ascontiguousarray(items[:, :-1])
            self.item_bias_ = np.ascontiguousarray(items[:, -1])
        else:  # a layout without that column: the plain dot product is the score
            self.user_factors_, self.item_factors_ = users, items
            self.item_bias_ = np.zeros(X.shape[1], np.float32)
        if not (np.isfinite(self.user_factors_).all() and np.isfinite(self.item_factors_).all()):
            raise DataError(f"BPR diverged (non-finite factors); try a lower lr than {self.lr}")


class ALS(_Factorization):
    """Implicit-feedback weighted MF (Hu-Koren-Volinsky) by alternating least squares."""

    model_type: ClassVar[str] = "socialgan.recsys.ALS"
    description: ClassVar[str] = (
        "ALS for implicit feedback (Hu, Koren & Volinsky, 2008): matrix factorization fitted "
        "to every user-item cell, each weighted by its confidence 1 + alpha * x "
        "(implicit's CPU conjugate-gradient solver)."
    )
    #: A small grid for tuning on validation data.
    search_space: ClassVar[dict[str, list[Any]]] = {
        "factors": [32, 64, 128],
        "regularization": [1.0, 10.0, 30.0, 60.0],
        "alpha": [1.0, 5.0, 20.0],
        "iterations": [10, 15, 30],
    }

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 30.0,
        alpha: float = 5.0,
        iterations: int = 15,
        seed: int = 0,
        num_threads: int = 1,
        progress: bool = False,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.seed = seed
        self.num_threads = num_threads
        self.progress = progress

    def _fit(self, X: sp.csr_matrix, social: sp.csr_matrix | None) -> None:
        del social
        _check_positive(self, ("factors", "iterations", "num_threads"), ("regularization", "alpha"))
        from implicit.cpu.als import AlternatingLeastSquares

        # implicit reads each stored value as the confidence itself (its own alpha only
        # multiplies them), so the matrix carries 1 + alpha * x and its alpha stays 1
        confidence = sp.csr_matrix(X, dtype=np.float32, copy=True)
        confidence.data = (1.0 + float(self.alpha) * confidence.data).astype(np.float32)
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # implicit's BLAS-threads check
            model = AlternatingLeastSquares(
                factors=int(self.factors),
                regularization=float(self.regularization),
                alpha=1.0,
                iterations=int(self.iterations),
                num_threads=int(self.num_threads),
                random_state=int(self.seed),
            )
            model.fit(confidence, show_progress=bool(self.progress))
        self.user_factors_ = np.ascontiguousarray(model.user_factors, np.float32)
        self.item_factors_ = np.ascontiguousarray(model.item_factors, np.float32)
        self.item_bias_ = np.zeros(X.shape[1], np.float32)
