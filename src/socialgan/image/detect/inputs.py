"""Input handling shared by the image detectors: check and convert images, match channels,
bring them to a fixed size, labelled training sets (``fit(X, y)``: :func:`stack_real_fake`
builds ``X, y`` from real and generated images, :func:`split_real_fake` takes them apart)
and a couple of scoring helpers."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import expit
from torch import Tensor

from ...errors import DataError

__all__ = [
    "as_images",
    "binary_auc",
    "fit_to_size",
    "match_channels",
    "split_real_fake",
    "stack_real_fake",
    "to_grayscale",
]

#: Tolerance for values a little outside [0, 1] (rounding in upstream arithmetic).
_RANGE_TOL = 1e-4
_LUMA = (0.299, 0.587, 0.114)


def as_images(images: Any, what: str = "images") -> Tensor:
    """Check and convert ``images`` to a float32 ``(N, C, H, W)`` tensor in ``[0, 1]``.

    Accepts a torch tensor or numpy array, ``(N, H, W)`` or ``(N, C, H, W)`` with ``C`` in
    {1, 3}; integer arrays are taken as 0..255. Raises :class:`DataError` otherwise, with a
    hint when the values look like the ``[-1, 1]`` range of a tanh generator.
    """
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, Tensor):
        raise DataError(f"{what}: expected a tensor or array of images, got {type(images)}")
    x = images.detach().cpu()
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise DataError(
            f"{what}: expected images (N, C, H, W) or (N, H, W) with C in {{1, 3}}, "
            f"got shape {tuple(x.shape)}"
        )
    if not x.is_floating_point():
        if x.dtype == torch.bool:
            raise DataError(f"{what}: boolean images are not supported")
        x = x.float() / 255.0
    x = x.float()
    if x.numel():
        if not bool(torch.isfinite(x).all()):
            raise DataError(f"{what}: pixel values contain NaN or infinity")
        lo, hi = float(x.min()), float(x.max())
        if lo < -_RANGE_TOL or hi > 1 + _RANGE_TOL:
            hint = " (looks like [-1, 1]: pass (x + 1) / 2)" if lo >= -1 - _RANGE_TOL else ""
            raise DataError(f"{what}: pixel values must be in [0, 1], found [{lo:g}, {hi:g}]{hint}")
        x = x.clamp(0.0, 1.0)
    return x.contiguous()


def to_grayscale(x: Tensor) -> Tensor:
    """``(N, 3, H, W)`` -> ``(N, 1, H, W)`` with BT.601 luma weights; 1 channel unchanged."""
    if x.shape[1] == 1:
        return x
    w = torch.tensor(_LUMA, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


def match_channels(x: Tensor, channels: int) -> Tensor:
    """Convert to ``channels`` (3 -> 1 by luma, 1 -> 3 by repetition)."""
    if x.shape[1] == channels:
        return x
    if channels == 1:
        return to_grayscale(x)
    return x.expand(-1, channels, -1, -1).contiguous()


def fit_to_size(x: Tensor, size: int, mode: str = "crop") -> Tensor:
    """Bring images to ``size x size``.

    ``mode="crop"`` (default) takes the central ``size x size`` patch when both sides are at
    least ``size``: pixels stay untouched, so up-sampling artefacts survive. Smaller images
    (and every image with ``mode="resize"``) are centre-cropped to a square and resized with
    antialiased bilinear interpolation, which smooths such artefacts away.
    """
    if mode not in ("crop", "resize"):
        raise ValueError(f"mode must be 'crop' or 'resize', got {mode!r}")
    h, w = int(x.shape[-2]), int(x.shape[-1])
    if (h, w) == (size, size):
        return x
    if mode == "crop" and h >= size and w >= size:
        top, left = (h - size) // 2, (w - size) // 2
        return x[..., top : top + size, left : left + size].contiguous()
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    x = x[..., top : top + s, left : left + s]
    if x.shape[0] == 0:
        return x.new_zeros((0, x.shape[1], size, size))
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True).clamp(0, 1)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(expit(np.asarray(z, dtype=np.float64)))


def binary_auc(labels: Any, scores: Any) -> float:
    """ROC AUC of ``scores`` for binary ``labels`` (ties count one half)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.asarray(labels), np.asarray(scores)))


def stack_real_fake(real: Any, fake: Any) -> tuple[Tensor, np.ndarray]:
    """``(X, y)`` for ``fit``: the ``real`` images (label 0), then the ``fake`` ones (label 1).

    Sets of different channel counts meet at RGB (grey repeated); of different sizes, at
    the central square of the smallest side (what every detector crops to anyway).
    """
    r, f = as_images(real, "real images"), as_images(fake, "fake images")
    if r.shape[1] != f.shape[1]:
        r, f = match_channels(r, 3), match_channels(f, 3)
    if r.shape[-2:] != f.shape[-2:]:
        side = min(*r.shape[-2:], *f.shape[-2:])
        r, f = fit_to_size(r, side), fit_to_size(f, side)
    y = np.r_[np.zeros(len(r), dtype=np.int64), np.ones(len(f), dtype=np.int64)]
    return torch.cat([r, f]), y


def split_real_fake(X: Any, y: Any) -> tuple[Tensor, Tensor]:
    """The ``(real, fake)`` images of a training set ``X`` with labels ``y`` (0 real,
    1 generated); ``DataError`` for labels that do not fit or fewer than 2 of a kind."""
    x = as_images(X)
    labels = np.asarray(y.detach().cpu() if isinstance(y, Tensor) else y)
    if labels.ndim != 1 or len(labels) != len(x):
        raise DataError(f"labels: expected one per image ({len(x)}), got shape {labels.shape}")
    if labels.dtype.kind not in "biuf" or not np.isin(labels, (0, 1)).all():
        raise DataError("labels: expected 0 (real) or 1 (generated)")
    fake = torch.from_numpy(labels.astype(bool))
    r, f = x[~fake], x[fake]
    for part, what in ((r, "real"), (f, "fake")):
        if len(part) < 2:
            raise DataError(f"{what} images: need at least 2 to fit a detector, got {len(part)}")
    return r, f
