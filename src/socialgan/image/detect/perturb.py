"""Image degradations: the test-time perturbations of the robustness table, and the
building blocks of the training augmentation (:mod:`.augment`).

Every function takes and returns float images ``(N, C, H, W)`` in ``[0, 1]`` of the same
shape; the perturbations are deterministic (``noise`` takes a seed).

Example:
    >>> from socialgan.image.detect.perturb import PERTURBATIONS
    >>> for name, fn in PERTURBATIONS.items():  # doctest: +SKIP
    ...     print(name, detector.evaluate(fn(real), fn(fake))["auc"])
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

__all__ = [
    "PERTURBATIONS",
    "blur",
    "downscale",
    "gaussian_blur",
    "jpeg",
    "jpeg_compress",
    "noise",
    "perturb",
]


def _gaussian_kernel(sigma: float) -> Tensor:
    radius = max(1, math.ceil(3.0 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


def gaussian_blur(images: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur with reflected borders; ``sigma <= 0`` returns a copy."""
    if sigma <= 0:
        return images.clone()
    n, c, h, w = images.shape
    k = _gaussian_kernel(sigma)
    r = (len(k) - 1) // 2
    x = images.reshape(n * c, 1, h, w)
    # reflect padding needs pad < size; replicate beyond that (tiny images, large sigma)
    mode_h = "reflect" if r < h else "replicate"
    mode_w = "reflect" if r < w else "replicate"
    x = F.pad(x, (r, r, 0, 0), mode=mode_w)
    x = F.conv2d(x, k.view(1, 1, 1, -1))
    x = F.pad(x, (0, 0, r, r), mode=mode_h)
    x = F.conv2d(x, k.view(1, 1, -1, 1))
    return x.reshape(n, c, h, w).clamp(0.0, 1.0)


def jpeg_compress(image: Tensor, quality: int) -> Tensor:
    """JPEG-encode and decode one ``(C, H, W)`` image with Pillow at ``quality`` (1..100)."""
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be in 1..100, got {quality}")
    arr = (image.clamp(0, 1) * 255.0).round().to(torch.uint8).permute(1, 2, 0).numpy()
    pil = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
    buf = io.BytesIO()
    pil.save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    with Image.open(buf) as decoded:
        out = np.asarray(decoded, dtype=np.float32) / 255.0
    if out.ndim == 2:
        out = out[..., None]
    return torch.from_numpy(out.copy()).permute(2, 0, 1).contiguous()


def jpeg(images: Tensor, quality: int = 75) -> Tensor:
    """JPEG re-compression of every image at ``quality`` (75, a common upload setting)."""
    if len(images) == 0:
        return images.clone()
    return torch.stack([jpeg_compress(x, quality) for x in images])


def downscale(images: Tensor, factor: float = 0.5) -> Tensor:
    """Downscale by ``factor`` (antialiased bilinear), then back up to the original size."""
    if not 0.0 < factor <= 1.0:
        raise ValueError(f"factor must be in (0, 1], got {factor}")
    if len(images) == 0:
        return images.clone()
    h, w = images.shape[-2:]
    small = (max(1, round(h * factor)), max(1, round(w * factor)))
    x = F.interpolate(images, size=small, mode="bilinear", antialias=True)
    return F.interpolate(x, size=(h, w), mode="bilinear").clamp(0.0, 1.0)


def blur(images: Tensor, sigma: float = 1.0) -> Tensor:
    """Gaussian blur with standard deviation ``sigma`` pixels."""
    return gaussian_blur(images, sigma)


def noise(images: Tensor, std: float = 0.02, seed: int = 0) -> Tensor:
    """Additive Gaussian noise of standard deviation ``std`` (in [0, 1] units), clamped."""
    gen = torch.Generator().manual_seed(seed)
    eps = torch.randn(images.shape, generator=gen, dtype=images.dtype)
    return (images + std * eps).clamp(0.0, 1.0)


#: The four test-time perturbations at their default strengths, by name.
PERTURBATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "jpeg": jpeg,
    "downscale": downscale,
    "blur": blur,
    "noise": noise,
}


def perturb(images: Tensor, name: str, **kwargs: float) -> Tensor:
    """Apply the perturbation ``name`` (a key of :data:`PERTURBATIONS`) with ``kwargs``.

    Example: ``perturb(x, "jpeg", quality=50)``.
    """
    if name not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {name!r}; expected one of {list(PERTURBATIONS)}")
    return PERTURBATIONS[name](images, **kwargs)  # type: ignore[call-arg]
