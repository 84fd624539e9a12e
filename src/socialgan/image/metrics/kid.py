"""Kernel distance (KID) in the offline extractor's feature space.

As in Bińkowski et al. 2018 ("Demystifying MMD GANs"): the unbiased estimate of the
squared MMD with the cubic polynomial kernel ``k(x, y) = (x . y / d + 1)^3``, averaged over
``num_subsets`` random subsets of ``subset_size`` samples drawn without replacement from
each set (default 100 subsets of 1,000). The mean and the standard deviation over subsets
are reported. Unlike FLD the estimator is unbiased, so values near 0 (possibly slightly
negative) mean "same distribution". Computed in float64.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["kid", "mmd2_unbiased", "polynomial_kernel"]


def _as_features(x: Tensor | np.ndarray, what: str) -> Tensor:
    t = x.detach().cpu() if isinstance(x, Tensor) else torch.as_tensor(np.asarray(x))
    if t.dim() != 2:
        raise ValueError(f"{what}: expected a 2-d (N, D) feature array, got {tuple(t.shape)}")
    return t.to(torch.float64)


def polynomial_kernel(x: Tensor, y: Tensor, degree: int = 3, coef0: float = 1.0) -> Tensor:
    """``(x @ y.T / d + coef0) ** degree``."""
    return (x @ y.T / x.shape[1] + coef0) ** degree


def mmd2_unbiased(x: Tensor, y: Tensor, degree: int = 3, coef0: float = 1.0) -> float:
    """Unbiased squared MMD between equally sized (or not) samples ``x`` and ``y``."""
    m, n = x.shape[0], y.shape[0]
    if m < 2 or n < 2:
        raise ValueError("MMD needs at least 2 samples per set")
    kxx = polynomial_kernel(x, x, degree, coef0)
    kyy = polynomial_kernel(y, y, degree, coef0)
    kxy = polynomial_kernel(x, y, degree, coef0)
    sxx = (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
    syy = (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
    return float(sxx + syy - 2.0 * kxy.mean())


def kid(
    fake_features: Tensor | np.ndarray,
    real_features: Tensor | np.ndarray,
    *,
    subset_size: int = 1000,
    num_subsets: int = 100,
    seed: int = 0,
    degree: int = 3,
    coef0: float = 1.0,
) -> dict[str, float | int]:
    """KID: ``{"kid": mean, "kid_std": std over subsets, "subset_size", "num_subsets"}``.

    ``subset_size`` is reduced to ``min(n_fake, n_real)`` when a set is smaller.
    """
    x = _as_features(fake_features, "fake features")
    y = _as_features(real_features, "real features")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature dims differ: {x.shape[1]} vs {y.shape[1]}")
    m = min(int(subset_size), x.shape[0], y.shape[0])
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {x.shape[0]}/{y.shape[0]}")
    if num_subsets < 1:
        raise ValueError("num_subsets must be >= 1")
    gen = torch.Generator().manual_seed(int(seed))
    values = np.empty(int(num_subsets), dtype=np.float64)
    for i in range(int(num_subsets)):
        ix = torch.randperm(x.shape[0], generator=gen)[:m]
        iy = torch.randperm(y.shape[0], generator=gen)[:m]
        values[i] = mmd2_unbiased(x[ix], y[iy], degree, coef0)
    return {
        "kid": float(values.mean()),
        "kid_std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
        "subset_size": m,
        "num_subsets": int(num_subsets),
    }
