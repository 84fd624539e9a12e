"""Training augmentation of the CNN detector, the CNNDetection recipe (Wang et al., CVPR 2020)
scaled down: random Gaussian blur and JPEG re-compression, so the detector does not lean on
fragile high-frequency cues alone, plus random crops and horizontal flips.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .perturb import gaussian_blur, jpeg_compress

__all__ = ["AugmentConfig", "augment_batch"]


@dataclass
class AugmentConfig:
    """Probabilities and ranges of the training augmentation.

    Attributes:
        blur_prob: probability of a Gaussian blur (0.5).
        blur_sigma: ``(lo, hi)``: sigma drawn uniformly (0, 3) pixels.
        jpeg_prob: probability of a JPEG re-compression (0.5), done with Pillow.
        jpeg_quality: ``(lo, hi)``: quality drawn uniformly from lo..hi (30..100).
        crop_scale: ``(lo, hi)`` area fraction of the random crop before it is resized to
            the input size; ``(1, 1)`` (default) is a plain random crop with no resampling,
            which keeps pixel-level artefacts intact.
        flip: random horizontal flips.
    """

    blur_prob: float = 0.5
    blur_sigma: tuple[float, float] = (0.0, 3.0)
    jpeg_prob: float = 0.5
    jpeg_quality: tuple[int, int] = (30, 100)
    crop_scale: tuple[float, float] = (1.0, 1.0)
    flip: bool = True

    def __post_init__(self) -> None:
        for name in ("blur_prob", "jpeg_prob"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {p}")
        lo, hi = self.jpeg_quality
        if not 1 <= lo <= hi <= 100:
            raise ValueError(f"jpeg_quality must satisfy 1 <= lo <= hi <= 100, got {lo, hi}")
        s_lo, s_hi = self.crop_scale
        if not 0.0 < s_lo <= s_hi <= 1.0:
            raise ValueError(f"crop_scale must satisfy 0 < lo <= hi <= 1, got {s_lo, s_hi}")
        if self.blur_sigma[0] < 0 or self.blur_sigma[0] > self.blur_sigma[1]:
            raise ValueError(f"blur_sigma must satisfy 0 <= lo <= hi, got {self.blur_sigma}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AugmentConfig:
        """Inverse of :meth:`to_dict`."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown augmentation option(s) {unknown}; known: {sorted(known)}")
        args: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**args)


def _random_crop(x: Tensor, size: int, scale: tuple[float, float], rng: np.random.Generator):
    """One ``(C, H, W)`` image -> a random ``(C, size, size)`` crop (resized if scaled)."""
    h, w = int(x.shape[-2]), int(x.shape[-1])
    side = min(h, w)
    if scale != (1.0, 1.0):
        side = max(1, round(side * float(np.sqrt(rng.uniform(*scale)))))
    elif side > size:
        side = size
    top = int(rng.integers(0, h - side + 1))
    left = int(rng.integers(0, w - side + 1))
    patch = x[:, top : top + side, left : left + side]
    if side != size:
        patch = F.interpolate(
            patch[None], size=(size, size), mode="bilinear", antialias=side > size
        )[0].clamp(0, 1)
    return patch


def augment_batch(
    images: Tensor, size: int, config: AugmentConfig, rng: np.random.Generator
) -> Tensor:
    """Augment a batch ``(N, C, H, W)`` in [0, 1] into ``(N, C, size, size)``.

    Order per image: blur, JPEG, crop, flip (degradations first, as on a platform that
    re-encodes an upload before anyone crops it). All randomness comes from ``rng``.
    """
    out = []
    for x in images:
        if rng.random() < config.blur_prob:
            x = gaussian_blur(x[None], float(rng.uniform(*config.blur_sigma)))[0]
        if rng.random() < config.jpeg_prob:
            lo, hi = config.jpeg_quality
            x = jpeg_compress(x, int(rng.integers(lo, hi + 1)))
        x = _random_crop(x, size, config.crop_scale, rng)
        if config.flip and rng.random() < 0.5:
            x = x.flip(-1)
        out.append(x)
    return torch.stack(out) if out else images.new_zeros((0, images.shape[1], size, size))
