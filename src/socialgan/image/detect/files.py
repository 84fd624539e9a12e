"""Score image files into moderation records, one per file, in batches.

A directory stands for the image files under it (naturally sorted, hidden files skipped).
A file that cannot be scored (missing, not an image, corrupt, too large, an empty
directory) gets a record ``{"file": ..., "error": ...}`` and the other files are still
scored.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ...errors import DataError
from ..folder import DEFAULT_MAX_PIXELS
from ..folder import _decode as _decode_file  # the loaders' safe decoder (pixel limit)
from ..folder import _image_files as _image_files_under
from .base import CATEGORY, ImageDetector

__all__ = ["expand_paths", "moderation_record", "moderate_files", "read_image_file"]


def expand_paths(paths: Sequence[str | Path]) -> list[str | Path]:
    """Replace each directory by the image files under it (recursively, naturally sorted);
    an empty directory stays, so that it gets its own error record."""
    out: list[str | Path] = []
    for p in paths:
        found = _image_files_under(Path(p), recursive=True) if Path(p).is_dir() else []
        out.extend(found or [p])
    return out


def read_image_file(
    path: str | Path, channels: int | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Tensor:
    """Decode one image file to ``(C, H, W)`` in [0, 1]; ``channels`` 1 = grey, else RGB.

    Raises :class:`DataError` naming the file and the reason.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file")
    if p.is_dir():
        raise DataError(f"{p}: a directory with no image files in it")
    arr = _decode_file(p, None, channels == 1, "center", max_pixels)
    return torch.from_numpy(arr)


def moderation_record(score: float, threshold: float, model: str) -> dict[str, Any]:
    """The moderation-API shape for one image and the ``gan_generated`` category."""
    s = float(np.clip(score, 0.0, 1.0))
    flagged = s >= threshold
    return {
        "flagged": flagged,
        "categories": {CATEGORY: flagged},
        "category_scores": {CATEGORY: s},
        "model": model,
        "thresholds": {CATEGORY: threshold},
    }


def moderate_files(
    detector: ImageDetector,
    files: Sequence[str | Path],
    *,
    threshold: float | None = None,
    batch_size: int = 64,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Iterator[dict[str, Any]]:
    """Yield one record per file, in order: ``{"file": ..., **moderation_record}`` or
    ``{"file": ..., "error": ...}``. Files are decoded and scored ``batch_size`` at a time.
    """
    t = detector.threshold if threshold is None else float(threshold)
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {t}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    channels = detector.input_channels
    files = expand_paths(files)
    for start in range(0, len(files), batch_size):
        chunk = files[start : start + batch_size]
        inputs: list[Tensor | None] = []
        errors: dict[int, str] = {}
        for i, f in enumerate(chunk):
            try:
                x = read_image_file(f, channels, max_pixels)
                inputs.append(detector.preprocess(x[None])[0])
            except DataError as e:
                inputs.append(None)
                errors[i] = str(e)
        good = [x for x in inputs if x is not None]
        scores = iter(detector.category_score(torch.stack(good)) if good else [])
        for i, f in enumerate(chunk):
            if i in errors:
                yield {"file": str(f), "error": errors[i]}
            else:
                yield {"file": str(f), **moderation_record(next(scores), t, detector.name_)}
