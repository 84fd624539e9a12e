"""Item-item neighbourhood baselines: popularity, ItemKNN and RP3beta.

In the form that Ferrari Dacrema et al. (RecSys 2019, "Are we really making much progress?")
found hard to beat once tuned:

- :class:`TopPop`: every user gets the most consumed items;
- :class:`ItemKNN`: cosine similarity between item columns with a shrink term,
  ``s(i, j) = x_i · x_j / (|x_i| |x_j| + shrink)``, each item keeping its ``top_k`` most
  similar neighbours; a user's score for ``j`` is the sum of ``s(i, j)`` over consumed ``i``;
- :class:`RP3beta` (Paudel et al., 2017): the three-step random walk user -> item -> user
  -> item with transition probabilities raised to ``alpha``, each target item's weight
  divided by its popularity to the power ``beta``, ``top_k`` neighbours per item.

Example:
    >>> ItemKNN(top_k=100, shrink=10).fit(train).recommend(["2"], k=10)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from .base import Recommender, csr_from_state, csr_state

__all__ = ["ItemKNN", "RP3beta", "TopPop", "keep_top_k"]


def keep_top_k(sim: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the ``k`` largest entries of each row of a sparse matrix (ties: lower column)."""
    sim = sp.csr_matrix(sim, dtype=np.float32)
    sim.sort_indices()
    indptr, indices, data = sim.indptr, sim.indices, sim.data
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for r in range(sim.shape[0]):
        lo, hi = indptr[r], indptr[r + 1]
        if hi == lo:
            continue
        v = data[lo:hi]
        if hi - lo > k:
            keep = np.argsort(-v, kind="stable")[:k]
        else:
            keep = np.arange(hi - lo)
        rows.append(np.full(len(keep), r, np.int64))
        cols.append(indices[lo:hi][keep])
        vals.append(v[keep])
    if not rows:
        return sp.csr_matrix(sim.shape, dtype=np.float32)
    out = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=sim.shape,
        dtype=np.float32,
    )
    out.sort_indices()
    return out


class _ItemItem(Recommender):
    """A model whose scores are ``X W`` for a sparse items x items matrix ``W``."""

    W_: sp.csr_matrix

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.asarray((self.train_[users] @ self.W_).toarray(), dtype=np.float32)

    def _state(self) -> dict[str, np.ndarray]:
        return csr_state("W", self.W_)

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.W_ = csr_from_state(state, "W")


class TopPop(Recommender):
    """The most popular items first, the same list for every user (minus what they know)."""

    model_type = "socialgan.recsys.TopPop"
    description = "TopPop: items ranked by how many training users consumed them."
    search_space: ClassVar[dict[str, list]] = {}

    def __init__(self) -> None:
        pass

    def _fit(self, X: sp.csr_matrix, social: sp.csr_matrix | None) -> None:
        self.counts_ = np.asarray(X.sum(axis=0), dtype=np.float32).ravel()

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.counts_, (len(users), len(self.counts_))).copy()

    def _state(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.counts_ = state["counts"]


class ItemKNN(_ItemItem):
    """Item-based nearest neighbours, cosine similarity with shrinkage.

    Args:
        top_k: neighbours kept per item.
        shrink: added to the norms' product; damps similarities built on few users.
        normalize: divide by the norms (cosine); False keeps the raw co-occurrence counts.
    """

    model_type = "socialgan.recsys.ItemKNN"
    description = "ItemKNN: item-item cosine similarity with shrinkage, top-k neighbours."
    search_space: ClassVar[dict[str, list]] = {
        "top_k": [5, 10, 20, 50, 100, 200, 500, 1000],
        "shrink": [0, 2, 5, 10, 20, 50, 100, 200, 500],
    }

    def __init__(self, top_k: int = 100, shrink: float = 10.0, normalize: bool = True) -> None:
        self.top_k = top_k
        self.shrink = shrink
        self.normalize = normalize

    def _fit(self, X: sp.csr_matrix, social: sp.csr_matrix | None) -> None:
        XT = X.T.tocsr()
        sim = (XT @ X).tocsr().astype(np.float32)
        sim.setdiag(0.0)
        sim.eliminate_zeros()
        if self.normalize:
            norms = np.sqrt(np.asarray(X.sum(axis=0)).ravel()).astype(np.float32)
            coo = sim.tocoo()
            denom = norms[coo.row] * norms[coo.col] + float(self.shrink) + 1e-6
            sim = sp.csr_matrix((coo.data / denom, (coo.row, coo.col)), shape=sim.shape)
        # keep the top_k neighbours of each target item: rows of W are source items, so
        # prune the columns by pruning the rows of the transpose
        self.W_ = keep_top_k(sim.T.tocsr(), int(self.top_k)).T.tocsr()


class RP3beta(_ItemItem):
    """Random walk with restart-like item-item graph model, popularity-penalized.

    Args:
        alpha: exponent on the transition probabilities (1 = plain random walk).
        beta: popularity penalty: item ``j``'s column is divided by ``degree_j ** beta``.
        top_k: neighbours kept per item.
        normalize: L1-normalize each item's row of weights after pruning.
    """

    model_type = "socialgan.recsys.RP3beta"
    description = "RP3beta (Paudel et al. 2017): 3-step random walk, popularity-penalized."
    search_space: ClassVar[dict[str, list]] = {
        "alpha": [0.25, 0.5, 0.75, 1.0, 1.25, 1.5],
        "beta": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8],
        "top_k": [20, 50, 100, 200, 500],
    }

    def __init__(
        self, alpha: float = 1.0, beta: float = 0.5, top_k: int = 100, normalize: bool = True
    ) -> None:
        self.alpha = alpha
        self.beta = beta
        self.top_k = top_k
        self.normalize = normalize

    def _fit(self, X: sp.csr_matrix, social: sp.csr_matrix | None) -> None:
        user_deg = np.asarray(X.sum(axis=1)).ravel()
        item_deg = np.asarray(X.sum(axis=0)).ravel()
        Pui = sp.diags(1.0 / np.maximum(user_deg, 1)).dot(X).tocsr()
        Piu = sp.diags(1.0 / np.maximum(item_deg, 1)).dot(X.T).tocsr()
        if self.alpha != 1.0:
            Pui = Pui.power(float(self.alpha))
            Piu = Piu.power(float(self.alpha))
        W = (Piu @ Pui).tocsr()
        penalty = np.power(np.maximum(item_deg, 1), -float(self.beta))
        W = W.dot(sp.diags(penalty)).tocsr().astype(np.float32)
        W.setdiag(0.0)
        W.eliminate_zeros()
        W = keep_top_k(W, int(self.top_k))
        if self.normalize:
            sums = np.asarray(W.sum(axis=1)).ravel()
            W = sp.diags(1.0 / np.where(sums > 0, sums, 1.0)).dot(W).tocsr()
        self.W_ = W.astype(np.float32)
