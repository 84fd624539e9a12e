"""Image grids and PNG output (torchvision is not available beside the pinned torch)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor


def make_grid(images: Tensor, nrow: int | None = None, padding: int = 2, pad_value: float = 1.0):
    """Tile ``(N, C, H, W)`` images in [0, 1] into one ``(C, H', W')`` tensor."""
    if images.dim() != 4:
        raise ValueError(f"expected (N, C, H, W) images, got shape {tuple(images.shape)}")
    n, c, h, w = images.shape
    nrow = nrow or max(1, int(math.ceil(math.sqrt(n))))
    ncol = int(math.ceil(n / nrow))
    grid = torch.full(
        (c, ncol * (h + padding) + padding, nrow * (w + padding) + padding), float(pad_value)
    )
    for i in range(n):
        r, col = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, top : top + h, left : left + w] = images[i].detach().float().cpu()
    return grid.clamp(0, 1)


def to_pil(image_chw: Tensor, upscale: int = 1) -> Image.Image:
    """Convert a ``(C, H, W)`` tensor in [0, 1] to a PIL image (grey or RGB)."""
    arr = (image_chw.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
    arr = arr[0] if arr.shape[0] == 1 else np.transpose(arr, (1, 2, 0))
    img = Image.fromarray(arr)
    if upscale > 1:
        img = img.resize((img.width * upscale, img.height * upscale), Image.Resampling.NEAREST)
    return img


def save_grid(images: Tensor, path: str | Path, nrow: int | None = None, upscale: int = 2) -> Path:
    """Write images as one PNG grid; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    to_pil(make_grid(images, nrow=nrow), upscale=upscale).save(path)
    return path
