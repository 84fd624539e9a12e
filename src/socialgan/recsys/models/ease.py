"""EASE: the closed-form shallow autoencoder (Steck, WWW 2019), fast on many items.

EASE learns an item-item matrix ``B`` with a zero diagonal minimizing
``||X - XB||² + ||Λ^½ B||²``; its closed form is ``B = I - P / diag(P)`` (column-wise) with
``P = (XᵀX + Λ)⁻¹``. Plain EASE has ``Λ = λI``. Two options go beyond it:

- ``l2_diag = κ`` adds ``κ · diag(XᵀX)`` to ``Λ``: a penalty that grows with an item's
  popularity, which is the closed form of training the autoencoder with dropout of
  probability ``p = κ / (1 + κ)`` on its input (Steck, NeurIPS 2020, "Autoencoders that
  don't overfit towards the identity", EDLAE);
- ``weighting="log"`` fits on ``log(1 + strength)`` of each interaction (Last.fm's play
  counts, a rating), scaled so that each user's weights average 1, instead of on 0/1;
- ``pop_penalty = γ`` divides each item's score by its training popularity to the power
  ``γ`` at ranking time, as RP3beta does to its item-item weights (0: plain EASE).

On Last.fm's 17,632 artists the dense inverse of the items x items matrix takes minutes.
With fewer users than items this module inverts a users x users matrix instead, by the
Woodbury identity (``A = Λ`` diagonal):

    P = A⁻¹ - A⁻¹Xᵀ M X A⁻¹,   M = (I + X A⁻¹ Xᵀ)⁻¹,

so that a user's scores ``x B = x - (x P) / diag(P)`` need only ``M``, the training matrix
and ``diag(P)``; nothing of size items x items is formed. With more users than items the
items x items inverse is cheaper and is used. Both give the same scores (tests check it).

Example:
    >>> model = EASE(l2=300).fit(train)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from .base import Recommender

__all__ = ["EASE", "WeightedEASE", "log_weights"]

WEIGHTINGS = ("binary", "log")


def _inverse_spd(a: np.ndarray) -> np.ndarray:
    """The inverse of a symmetric positive definite matrix by Cholesky (float64)."""
    factor = sla.cho_factor(a, lower=False, overwrite_a=True, check_finite=False)
    return sla.cho_solve(factor, np.eye(a.shape[0]), overwrite_b=True, check_finite=False)


def log_weights(values: sp.csr_matrix) -> sp.csr_matrix:
    """``log(1 + v)`` of each interaction strength, each user's row scaled to mean 1."""
    W = sp.csr_matrix(values, dtype=np.float64, copy=True)
    W.data = np.log1p(np.maximum(W.data, 0.0))
    sums = np.asarray(W.sum(axis=1)).ravel()
    counts = np.diff(W.indptr)
    scale = np.where(sums > 0, counts / np.where(sums > 0, sums, 1.0), 1.0)
    out = sp.csr_matrix(sp.diags(scale) @ W, dtype=np.float32)
    out.sort_indices()
    return out


class EASE(Recommender):
    """Embarrassingly shallow autoencoder.

    Args:
        l2: the L2 penalty λ (Steck's best on ML-20M was 500; tune it on validation).
        l2_diag: κ, the extra penalty per unit of an item's squared norm (EDLAE's dropout
            emphasis; 0 is plain EASE).
        weighting: ``"binary"`` (0/1, plain EASE) or ``"log"`` (log interaction strength).
        pop_penalty: γ; scores are divided by ``max(1, popularity) ** γ`` (0: none).
        solver: ``"auto"`` (the smaller of users x users and items x items), ``"items"``
            (the items x items inverse) or ``"users"`` (Woodbury).
    """

    model_type = "socialgan.recsys.EASE"
    description = "EASE (Steck 2019): closed-form item-item linear autoencoder."
    B_: np.ndarray | None
    M_: np.ndarray | None
    dP_: np.ndarray | None
    search_space: ClassVar[dict[str, list]] = {
        "l2": [5.0, 10.0, 20.0, 30.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 3000.0]
    }

    def __init__(
        self,
        l2: float = 500.0,
        l2_diag: float = 0.0,
        weighting: str = "binary",
        pop_penalty: float = 0.0,
        solver: str = "auto",
    ) -> None:
        self.l2 = l2
        self.l2_diag = l2_diag
        self.weighting = weighting
        self.pop_penalty = pop_penalty
        self.solver = solver

    def _which(self, X: sp.csr_matrix) -> str:
        if self.solver not in ("auto", "items", "users"):
            raise ValueError(f"solver must be 'auto', 'items' or 'users', got {self.solver!r}")
        if self.solver != "auto":
            return self.solver
        return "users" if X.shape[0] < X.shape[1] else "items"

    def _weighted(self, X: sp.csr_matrix) -> sp.csr_matrix:
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {self.weighting!r}")
        if self.weighting == "binary":
            return X
        return log_weights(self.values_)

    def _fit(self, X: sp.csr_matrix, social: sp.csr_matrix | None) -> None:
        lam, kappa = float(self.l2), float(self.l2_diag)
        if lam <= 0 or kappa < 0:
            raise ValueError(f"l2 must be > 0 and l2_diag >= 0, got {self.l2}, {self.l2_diag}")
        self.solver_ = self._which(X)
        self.Xw_ = self._weighted(X)
        Xw = self.Xw_.astype(np.float64)
        a = lam + kappa * np.asarray(Xw.power(2).sum(axis=0)).ravel()  # diag of Λ
        self.inv_a_ = (1.0 / a).astype(np.float32)
        if self.solver_ == "items":
            gram = (Xw.T @ Xw).toarray()
            gram[np.diag_indices_from(gram)] += a
            P = _inverse_spd(gram)
            B = -P / np.diag(P)
            np.fill_diagonal(B, 0.0)
            self.B_ = B.astype(np.float32)
            self.M_ = self.dP_ = None
            return
        XA = Xw @ sp.diags(1.0 / a)  # X A^-1
        gram = (XA @ Xw.T).toarray()
        gram[np.diag_indices_from(gram)] += 1.0
        M = _inverse_spd(gram)
        AXtM = XA.T @ M  # items x users: A^-1 X^T M
        quad = np.asarray(XA.T.multiply(AXtM).sum(axis=1)).ravel()
        self.dP_ = (1.0 / a - quad).astype(np.float32)
        self.M_ = M.astype(np.float32)
        self.B_ = None

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.debias(self.score_histories(self.Xw_[users]))

    def debias(self, scores: np.ndarray) -> np.ndarray:
        """Scores divided by item popularity ** ``pop_penalty`` (unchanged when 0)."""
        gamma = float(self.pop_penalty)
        if not gamma:
            return scores
        popularity = np.maximum(self.item_counts_, 1).astype(np.float32)
        return scores / popularity**gamma

    def score_histories(self, rows: sp.csr_matrix) -> np.ndarray:
        """Scores for arbitrary (weighted) interaction rows, e.g. a new user's history."""
        rows = sp.csr_matrix(rows, dtype=np.float32)
        if self.B_ is not None:
            return np.asarray(rows @ self.B_, dtype=np.float32)
        assert self.M_ is not None and self.dP_ is not None
        X, inv_a = self.Xw_, self.inv_a_
        inner = np.asarray(
            (rows.multiply(inv_a[None, :]) @ X.T).todense(), dtype=np.float32
        )  # x A^-1 X^T
        back = np.asarray((X.T @ (inner @ self.M_).T).T, dtype=np.float32) * inv_a  # . X A^-1
        dense = rows.toarray()
        xP = dense * inv_a - back
        return dense - xP / self.dP_

    def _state(self) -> dict[str, np.ndarray]:
        state = {"inv_a": self.inv_a_, "Xw.data": self.Xw_.data.astype(np.float32)}
        if self.B_ is not None:
            state["B"] = self.B_
        else:
            assert self.M_ is not None and self.dP_ is not None
            state.update(M=self.M_, dP=self.dP_)
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.B_ = state.get("B")
        self.M_ = state.get("M")
        self.dP_ = state.get("dP")
        self.inv_a_ = state["inv_a"]
        X = self.train_
        self.Xw_ = sp.csr_matrix((state["Xw.data"], X.indices, X.indptr), shape=X.shape)
        self.solver_ = "items" if self.B_ is not None else "users"


class WeightedEASE(EASE):
    """EASE searched with its two extensions: log interaction weights and EDLAE's
    popularity-scaled penalty, and a popularity penalty at ranking (see the module
    docstring). Its defaults were chosen on the validation part of Last.fm's 8:1:1 split."""

    model_type = "socialgan.recsys.WeightedEASE"
    description = "EASE on log strengths, popularity-scaled L2 (EDLAE), popularity-penalized."
    search_space: ClassVar[dict[str, list]] = {
        "l2": [20.0, 50.0, 100.0, 200.0, 500.0],
        "l2_diag": [0.0, 0.5, 1.0, 2.0],
        "weighting": ["binary", "log"],
        "pop_penalty": [0.0, 0.1, 0.2, 0.3, 0.4],
    }

    def __init__(
        self,
        l2: float = 100.0,
        l2_diag: float = 2.0,
        weighting: str = "log",
        pop_penalty: float = 0.25,
        solver: str = "auto",
    ) -> None:
        super().__init__(l2, l2_diag, weighting, pop_penalty, solver)
