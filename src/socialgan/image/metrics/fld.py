"""Fréchet LeNet Distance (FLD).

The Fréchet distance between Gaussians fitted to two feature sets,

    d^2 = ||mu_1 - mu_2||^2 + tr(S_1) + tr(S_2) - 2 tr((S_1 S_2)^{1/2}),

computed in the 128-d feature space of the project's small offline classifier
(:class:`~socialgan.image.metrics.features.FeatureNet`). It is *not* FID: the numbers are
not comparable with Inception-based FID values, only with other FLD values computed with
the same extractor and the same sample sizes (the estimate is biased upwards for small N).

Matrix square root: instead of ``scipy.linalg.sqrtm`` on the non-symmetric product
``S_1 S_2`` (which can return small imaginary parts), we use the identity
``tr((S_1 S_2)^{1/2}) = tr((A S_2 A)^{1/2})`` with ``A = S_1^{1/2}`` (``S_1 S_2`` is similar
to the symmetric PSD matrix ``A S_2 A``). Both square roots come from symmetric
eigendecompositions (``numpy.linalg.eigh``) in float64; tiny negative eigenvalues from
round-off are clipped to zero, so the result is always real. The final value is clipped at
0.
"""

from __future__ import annotations

import numpy as np
from torch import Tensor

__all__ = ["feature_statistics", "fld", "frechet_distance"]


def _as_2d_float64(x: Tensor | np.ndarray, what: str) -> np.ndarray:
    a = x.detach().cpu().double().numpy() if isinstance(x, Tensor) else np.asarray(x, np.float64)
    if a.ndim != 2:
        raise ValueError(f"{what}: expected a 2-d (N, D) feature array, got shape {a.shape}")
    if a.shape[0] < 2:
        raise ValueError(f"{what}: need at least 2 samples to estimate a covariance")
    if not np.isfinite(a).all():
        raise ValueError(f"{what}: contains NaN or infinite values")
    return a


def feature_statistics(features: Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and unbiased covariance ``(D, D)`` of ``(N, D)`` features, float64."""
    a = _as_2d_float64(features, "features")
    return a.mean(axis=0), np.atleast_2d(np.cov(a, rowvar=False))


def _psd_sqrt(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2.0)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """Squared Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2 = (
        np.atleast_1d(np.asarray(mu1, np.float64)),
        np.atleast_1d(np.asarray(mu2, np.float64)),
    )
    s1, s2 = (
        np.atleast_2d(np.asarray(sigma1, np.float64)),
        np.atleast_2d(np.asarray(sigma2, np.float64)),
    )
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError(
            f"shape mismatch: mu1 {mu1.shape}, mu2 {mu2.shape}, sigma1 {s1.shape}, "
            f"sigma2 {s2.shape}"
        )
    a = _psd_sqrt(s1)
    m = a @ s2 @ a
    eig = np.linalg.eigvalsh((m + m.T) / 2.0)
    tr_covmean = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    diff = mu1 - mu2
    d = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)
    return max(d, 0.0)


def fld(fake_features: Tensor | np.ndarray, real_features: Tensor | np.ndarray) -> float:
    """FLD between two ``(N, D)`` feature sets (lower is better, 0 for identical sets)."""
    mu1, s1 = feature_statistics(fake_features)
    mu2, s2 = feature_statistics(real_features)
    if mu1.shape != mu2.shape:
        raise ValueError(f"feature dims differ: {mu1.shape[0]} vs {mu2.shape[0]}")
    return frechet_distance(mu1, s1, mu2, s2)
