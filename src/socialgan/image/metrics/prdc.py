"""Improved precision and recall with k-NN manifolds (Kynkäänniemi et al. 2019).

Each sample of a set spans a ball whose radius is the distance to its k-th nearest
neighbour within the same set (k = 3 by default); the union of the balls estimates the
set's manifold.

* precision: share of fake samples that fall inside the real manifold (sample quality);
* recall: share of real samples that fall inside the fake manifold (diversity; low recall
  signals mode collapse).

Two related scores from Naeem et al. 2020 come from the same distances at no extra cost:
``density`` (average number of real balls holding a fake sample, divided by k; ~1 for
matching distributions) and ``knn_coverage`` (share of real samples whose ball holds at
least one fake sample).

Distances use ``torch.cdist`` on row chunks (float64), so memory stays bounded
(``chunk_size x N`` distances at a time) even for 10k x 10k sets. All scores depend on the
sample sizes: compare them only at equal sizes (and see the real-vs-real floor).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["knn_radii", "precision_recall"]


def _as_features(x: Tensor | np.ndarray, what: str) -> Tensor:
    t = x.detach().cpu() if isinstance(x, Tensor) else torch.as_tensor(np.asarray(x))
    if t.dim() != 2:
        raise ValueError(f"{what}: expected a 2-d (N, D) feature array, got {tuple(t.shape)}")
    return t.to(torch.float64)


def knn_radii(features: Tensor, k: int = 3, chunk_size: int = 1024) -> Tensor:
    """Distance from each row to its k-th nearest neighbour among the other rows."""
    n = features.shape[0]
    if n <= k:
        raise ValueError(f"k-NN radii with k={k} need more than {k} samples, got {n}")
    out = torch.empty(n, dtype=torch.float64)
    for i in range(0, n, chunk_size):
        d = torch.cdist(features[i : i + chunk_size], features)
        # the k+1 smallest include the row itself (distance ~0)
        out[i : i + chunk_size] = d.kthvalue(k + 1, dim=1).values
    return out


def _ball_stats(
    queries: Tensor, centers: Tensor, radii: Tensor, chunk_size: int
) -> tuple[Tensor, Tensor]:
    """Per query: number of balls holding it; per center: whether any query lies in it."""
    counts = torch.empty(queries.shape[0], dtype=torch.int64)
    hit = torch.zeros(centers.shape[0], dtype=torch.bool)
    for i in range(0, queries.shape[0], chunk_size):
        inside = torch.cdist(queries[i : i + chunk_size], centers) <= radii[None, :]
        counts[i : i + chunk_size] = inside.sum(dim=1)
        hit |= inside.any(dim=0)
    return counts, hit


def precision_recall(
    fake_features: Tensor | np.ndarray,
    real_features: Tensor | np.ndarray,
    *,
    k: int = 3,
    chunk_size: int = 1024,
) -> dict[str, float | int]:
    """``{"precision", "recall", "density", "knn_coverage", "k"}`` for two feature sets."""
    fake = _as_features(fake_features, "fake features")
    real = _as_features(real_features, "real features")
    if fake.shape[1] != real.shape[1]:
        raise ValueError(f"feature dims differ: {fake.shape[1]} vs {real.shape[1]}")
    real_r = knn_radii(real, k, chunk_size)
    fake_r = knn_radii(fake, k, chunk_size)
    # fake queries in real balls -> precision, density, coverage
    counts, real_hit = _ball_stats(fake, real, real_r, chunk_size)
    # real queries in fake balls -> recall
    real_counts, _ = _ball_stats(real, fake, fake_r, chunk_size)
    return {
        "precision": float((counts > 0).double().mean()),
        "recall": float((real_counts > 0).double().mean()),
        "density": float(counts.double().mean() / k),
        "knn_coverage": float(real_hit.double().mean()),
        "k": int(k),
    }
