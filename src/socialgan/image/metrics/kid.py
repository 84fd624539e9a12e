"""Kernel distance (KID) in the offline extractor's feature space.

As in Bińkowski et al. 2018 ("Demystifying MMD GANs"): the unbiased estimate of the
squared MMD with the cubic polynomial kernel ``k(x, y) = (x . y / d + 1)^3``, averaged over
``num_subsets`` random subsets of ``subset_size`` samples drawn without replacement from
each set (default 100 subsets of 1,000). The mean and the standard deviation over subsets
are reported. Unlike FLD the estimator is unbiased, so values near 0 (possibly slightly
negative) mean "same distribution"; the standard deviation over subsets says how far
from 0 that is. Computed in float64.

The kernel is not scale-free: on features of large magnitude ``x . y / d`` dwarfs the
``+ 1`` and KID grows with the sixth power of the scale. ``scale`` divides both sets by a
common factor first; :func:`feature_rms` of the real features (unit mean square, as for
the Inception features KID was defined on) keeps the values readable and comparable
between feature nets. ``scale=1.0`` is the raw estimate.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["feature_rms", "kid", "mmd2_unbiased", "polynomial_kernel"]


def _as_features(x: Tensor | np.ndarray, what: str) -> Tensor:
    t = x.detach().cpu() if isinstance(x, Tensor) else torch.as_tensor(np.asarray(x))
    if t.dim() != 2:
        raise ValueError(f"{what}: expected a 2-d (N, D) feature array, got {tuple(t.shape)}")
    return t.to(torch.float64)


def feature_rms(features: Tensor | np.ndarray) -> float:
    """Root mean square of all entries of an ``(N, D)`` feature array (1.0 if all zero)."""
    rms = float(_as_features(features, "features").pow(2).mean().sqrt())
    return rms if rms > 0 else 1.0


#: Kernel matrices computed at once: subsets are batched up to about this many entries.
_BATCH_ENTRIES = 1 << 22


def polynomial_kernel(x: Tensor, y: Tensor, degree: int = 3, coef0: float = 1.0) -> Tensor:
    """``(x @ y.T / d + coef0) ** degree`` (batched over leading dimensions)."""
    return (x @ y.transpose(-1, -2) / x.shape[-1] + coef0) ** degree


def _mmd2_batch(x: Tensor, y: Tensor, degree: int, coef0: float) -> Tensor:
    """Unbiased squared MMD of each pair ``(x[s], y[s])`` of a batch ``(S, m, d)``."""
    m, n = x.shape[-2], y.shape[-2]
    kxx = polynomial_kernel(x, x, degree, coef0)
    kyy = polynomial_kernel(y, y, degree, coef0)
    kxy = polynomial_kernel(x, y, degree, coef0)
    sxx = (kxx.sum((-1, -2)) - kxx.diagonal(dim1=-2, dim2=-1).sum(-1)) / (m * (m - 1))
    syy = (kyy.sum((-1, -2)) - kyy.diagonal(dim1=-2, dim2=-1).sum(-1)) / (n * (n - 1))
    return sxx + syy - 2.0 * kxy.mean((-1, -2))


def mmd2_unbiased(x: Tensor, y: Tensor, degree: int = 3, coef0: float = 1.0) -> float:
    """Unbiased squared MMD between equally sized (or not) samples ``x`` and ``y``."""
    if x.shape[0] < 2 or y.shape[0] < 2:
        raise ValueError("MMD needs at least 2 samples per set")
    return float(_mmd2_batch(x[None], y[None], degree, coef0)[0])


def kid(
    fake_features: Tensor | np.ndarray,
    real_features: Tensor | np.ndarray,
    *,
    subset_size: int = 1000,
    num_subsets: int = 100,
    seed: int = 0,
    degree: int = 3,
    coef0: float = 1.0,
    scale: float = 1.0,
) -> dict[str, float | int]:
    """KID: ``{"kid": mean, "kid_std": std over subsets, "subset_size", "num_subsets",
    "feature_scale"}``.

    ``subset_size`` is reduced to ``min(n_fake, n_real)`` when a set is smaller. Both
    feature sets are divided by ``scale`` first (see the module docstring).
    """
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    x = _as_features(fake_features, "fake features") / float(scale)
    y = _as_features(real_features, "real features") / float(scale)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature dims differ: {x.shape[1]} vs {y.shape[1]}")
    m = min(int(subset_size), x.shape[0], y.shape[0])
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {x.shape[0]}/{y.shape[0]}")
    if num_subsets < 1:
        raise ValueError("num_subsets must be >= 1")
    gen = torch.Generator().manual_seed(int(seed))
    picks = [
        (
            torch.randperm(x.shape[0], generator=gen)[:m],
            torch.randperm(y.shape[0], generator=gen)[:m],
        )
        for _ in range(int(num_subsets))
    ]
    chunk = max(1, _BATCH_ENTRIES // (m * max(m, x.shape[1])))
    parts = []
    for i in range(0, len(picks), chunk):
        ix = torch.stack([a for a, _ in picks[i : i + chunk]])
        iy = torch.stack([b for _, b in picks[i : i + chunk]])
        parts.append(_mmd2_batch(x[ix], y[iy], degree, coef0))
    values = torch.cat(parts).numpy()
    return {
        "kid": float(values.mean()),
        "kid_std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
        "subset_size": m,
        "num_subsets": int(num_subsets),
        "feature_scale": float(scale),
    }
