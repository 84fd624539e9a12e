"""Top-k ranking metrics over a full ranking of every item (no sampled negatives).

Definitions (those of RecBole, so that its published figures compare): for a user with
ground-truth set ``T`` and top-k list ``L``,

- ``precision@k = |L ∩ T| / k``;
- ``recall@k = |L ∩ T| / |T|``;
- ``ndcg@k = DCG / IDCG`` with ``DCG = Σ_{i in L ∩ T} 1 / log2(rank_i + 1)`` (rank from 1)
  and ``IDCG`` the DCG of ``min(|T|, k)`` hits at the top;
- ``mrr@k = 1 / rank`` of the first hit (0 without one); ``hit@k = 1`` if any hit.

Each is averaged over the users that have ground truth. Beside them: ``coverage@k``, the
share of all items recommended to anyone, and ``popularity@k``, the mean share of training
users who consumed a recommended item (how much a model leans on what is popular).

Example:
    >>> import numpy as np
    >>> hits = np.array([[True, False, True]])
    >>> round(ranking_metrics(hits, np.array([2]), ks=(3,))["ndcg@3"], 4)
    0.9197
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

__all__ = ["DEFAULT_KS", "beyond_accuracy", "hit_matrix", "ranking_metrics", "top_k"]

#: The cut-offs reported by default.
DEFAULT_KS = (5, 10, 20)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores per row, best first (ties: lower index first)."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part.sort(axis=1)  # ties are then broken by item index, deterministically
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def hit_matrix(ranked: np.ndarray, truth: sp.csr_matrix, users: np.ndarray) -> np.ndarray:
    """``hits[r, j]``: is item ``ranked[r, j]`` in user ``users[r]``'s ground truth."""
    hits = np.zeros(ranked.shape, bool)
    for r, u in enumerate(users):
        row = truth.indices[truth.indptr[u] : truth.indptr[u + 1]]
        if len(row):
            hits[r] = np.isin(ranked[r], row, assume_unique=True)
    return hits


def ranking_metrics(
    hits: np.ndarray, n_truth: np.ndarray, ks: Sequence[int] = DEFAULT_KS
) -> dict[str, float]:
    """Mean precision, recall, NDCG, MRR and hit rate at each ``k`` from a hit matrix
    (users x ranks, best first) and each user's ground-truth size (users with none are
    left out)."""
    keep = n_truth > 0
    hits, n_truth = hits[keep], n_truth[keep].astype(np.float64)
    if not len(hits):
        raise ValueError("no user has ground truth to evaluate")
    discounts = 1.0 / np.log2(np.arange(2, hits.shape[1] + 2))
    out: dict[str, float] = {}
    for k in ks:
        if k > hits.shape[1]:
            raise ValueError(f"k={k} is longer than the ranked lists ({hits.shape[1]})")
        h = hits[:, :k]
        n_hit = h.sum(axis=1)
        dcg = (h * discounts[:k]).sum(axis=1)
        ideal = np.cumsum(discounts[:k])[np.minimum(n_truth, k).astype(int) - 1]
        first = np.where(n_hit > 0, h.argmax(axis=1) + 1, np.inf)
        out[f"precision@{k}"] = float((n_hit / k).mean())
        out[f"recall@{k}"] = float((n_hit / n_truth).mean())
        out[f"ndcg@{k}"] = float((dcg / ideal).mean())
        out[f"mrr@{k}"] = float((1.0 / first).mean())
        out[f"hit@{k}"] = float((n_hit > 0).mean())
    return out


def beyond_accuracy(
    ranked: np.ndarray, train: sp.csr_matrix, ks: Sequence[int] = DEFAULT_KS
) -> dict[str, float]:
    """Item coverage and mean popularity (share of training users) of the top-k lists."""
    popularity = np.asarray((train > 0).sum(axis=0)).ravel() / max(1, train.shape[0])
    out: dict[str, float] = {}
    for k in ks:
        top = ranked[:, :k]
        out[f"coverage@{k}"] = float(len(np.unique(top)) / train.shape[1])
        out[f"popularity@{k}"] = float(popularity[top].mean())
    return out
