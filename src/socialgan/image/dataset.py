"""The in-memory image dataset type shared by every loader, plus tensor-level transforms.

Kept apart from the loaders (``data.py``, ``folder.py``) so both can build datasets without
import cycles. Import it from :mod:`socialgan.image.data`, which re-exports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from socialgan.errors import DataError

__all__ = ["ImageDataset", "center_crop_square", "resize", "to_grayscale"]

# ITU-R BT.601 luma weights, the same ones Pillow uses for RGB -> L.
_LUMA = (0.299, 0.587, 0.114)


@dataclass
class ImageDataset:
    """Images (and optional class labels) held in memory.

    Attributes:
        images: ``float32`` tensor ``(N, C, H, W)`` with values in ``[0, 1]``.
        labels: ``int64`` tensor ``(N,)`` with values in ``[0, num_classes)``, or ``None``.
        num_classes: number of classes; ``0`` exactly when ``labels`` is ``None``.
        name: short human-readable origin (source name or path), used in logs and model cards.
        class_names: one name per class (index = class id), or ``None``.
    """

    images: torch.Tensor
    labels: torch.Tensor | None = None
    num_classes: int = 0
    name: str = "images"
    class_names: list[str] | None = None

    def __post_init__(self) -> None:
        """Check the invariants above (raising DataError) so every consumer can rely on them."""
        x = self.images
        if not isinstance(x, torch.Tensor) or x.dtype != torch.float32 or x.ndim != 4:
            desc = f"{x.dtype} {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x)
            raise DataError(f"{self.name}: images must be float32 (N, C, H, W), got {desc}")
        if x.numel() and (not torch.isfinite(x).all() or x.min() < 0 or x.max() > 1):
            raise DataError(f"{self.name}: image values must be finite and in [0, 1]")
        if self.labels is None:
            if self.num_classes != 0:
                raise DataError(f"{self.name}: num_classes must be 0 without labels")
            if self.class_names is not None:
                raise DataError(f"{self.name}: class_names given without labels")
            return
        y = self.labels
        if not isinstance(y, torch.Tensor) or y.dtype != torch.int64 or y.shape != (len(x),):
            desc = f"{y.dtype} {tuple(y.shape)}" if isinstance(y, torch.Tensor) else type(y)
            raise DataError(f"{self.name}: labels must be int64 ({len(x)},), got {desc}")
        if self.num_classes < 1:
            raise DataError(f"{self.name}: num_classes must be >= 1 when labels are given")
        if y.numel() and (y.min() < 0 or y.max() >= self.num_classes):
            raise DataError(
                f"{self.name}: labels must be in [0, {self.num_classes}), "
                f"found [{int(y.min())}, {int(y.max())}]"
            )
        if self.class_names is not None and len(self.class_names) != self.num_classes:
            raise DataError(
                f"{self.name}: {len(self.class_names)} class_names for {self.num_classes} classes"
            )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def channels(self) -> int:
        """Number of channels ``C`` (1 = grey, 3 = RGB)."""
        return int(self.images.shape[1])

    @property
    def size(self) -> int:
        """Image height ``H`` (the side length for the square images the nets expect)."""
        return int(self.images.shape[2])

    def subset(self, indices: Sequence[int] | torch.Tensor | slice) -> ImageDataset:
        """A new dataset with the selected rows; class metadata is kept."""
        if not isinstance(indices, slice | torch.Tensor):
            indices = torch.as_tensor(list(indices), dtype=torch.int64)
        labels = None if self.labels is None else self.labels[indices]
        return replace(self, images=self.images[indices], labels=labels)


def center_crop_square(images: torch.Tensor) -> torch.Tensor:
    """Crop ``(N, C, H, W)`` images to the central ``min(H, W)`` square."""
    h, w = images.shape[-2:]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return images[..., top : top + s, left : left + s]


def resize(dataset: ImageDataset, size: int, crop: str = "center") -> ImageDataset:
    """Resize to ``size x size`` (centre-cropping non-square images first unless ``crop="none"``).

    Uses antialiased bilinear interpolation so downscaling does not alias; a no-op when the
    images already have that size.
    """
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    x = dataset.images
    if crop == "center":
        x = center_crop_square(x)
    elif crop != "none":
        raise ValueError(f"crop must be 'center' or 'none', got {crop!r}")
    if tuple(x.shape[-2:]) != (size, size) and len(x):
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True)
        x = x.clamp_(0.0, 1.0)
    return replace(dataset, images=x.contiguous())


def to_grayscale(dataset: ImageDataset) -> ImageDataset:
    """Convert 3-channel images to 1 channel with BT.601 luma weights; others unchanged."""
    if dataset.channels != 3:
        return dataset
    w = torch.tensor(_LUMA, dtype=torch.float32).view(1, 3, 1, 1)
    grey = (dataset.images * w).sum(dim=1, keepdim=True).clamp_(0.0, 1.0)
    return replace(dataset, images=grey)
