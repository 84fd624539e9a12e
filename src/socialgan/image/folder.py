"""Load a folder of image files (PNG, JPEG, PGM/PPM, WebP, BMP, GIF) with Pillow.

Layout rules (the usual "ImageFolder" convention):

* subfolders that contain images are classes; class ids follow the natural sort order of the
  folder names (``s2`` before ``s10``) and ``class_names`` holds the folder names;
* otherwise the top-level images form an unlabelled dataset;
* hidden files/folders (name starting with ``.``) and files without an image extension
  (README, .txt, ...) are skipped silently, but a file *with* an image extension that Pillow
  cannot decode is an error naming it, since it is almost certainly a broken download.

Each image is size-checked against a pixel limit *before* it is decoded, so a small file
declaring gigantic dimensions (a decompression bomb) is rejected without allocating memory.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from socialgan.errors import DataError
from socialgan.image.dataset import ImageDataset

__all__ = ["DEFAULT_MAX_PIXELS", "IMAGE_EXTENSIONS", "load_image_folder"]

#: File extensions (lower case) treated as images.
IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".pgm", ".ppm", ".pnm", ".pbm", ".webp", ".bmp", ".gif"}
)
#: Default largest accepted image, in pixels (width * height).
DEFAULT_MAX_PIXELS = 50_000_000

_SIXTEEN_BIT = {"I;16", "I;16B", "I;16L", "I;16N", "I"}


def _natural_key(name: str) -> list[tuple[int, int | str]]:
    """Sort key putting ``s2`` before ``s10`` (digits compared as numbers)."""
    parts = re.split(r"(\d+)", name)
    return [(0, int(p)) if i % 2 else (1, p.lower()) for i, p in enumerate(parts)]


def _path_key(path: Path) -> tuple[list[list[tuple[int, int | str]]], str]:
    return [_natural_key(part) for part in path.parts], str(path)


def _image_files(folder: Path, recursive: bool) -> list[Path]:
    """Non-hidden files with an image extension, naturally sorted."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for fname in filenames:
            if not fname.startswith(".") and Path(fname).suffix.lower() in IMAGE_EXTENSIONS:
                found.append(Path(dirpath) / fname)
        if not recursive:
            break
    return sorted(found, key=lambda p: _path_key(p.relative_to(folder)))


def _decode(
    path: Path, size: int | None, grayscale: bool, crop: str, max_pixels: int
) -> np.ndarray:
    """Decode one file to a float32 ``(C, H, W)`` array in ``[0, 1]``."""
    try:
        with warnings.catch_warnings():
            # Our own limit (checked below, before decoding) is the authority, not Pillow's.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                w, h = opened.size
                if w * h > max_pixels:
                    raise DataError(
                        f"{path}: image is {w}x{h} = {w * h} pixels, more than the limit of "
                        f"{max_pixels} (possible decompression bomb; raise max_pixels if the "
                        "file is genuine)"
                    )
                im = ImageOps.exif_transpose(opened)
                if im.mode in _SIXTEEN_BIT or im.mode == "F":
                    arr = np.asarray(im, dtype=np.float32)
                    scale = 1.0 if im.mode == "F" else 65535.0
                    im = Image.fromarray(np.clip(arr / scale, 0.0, 1.0).astype(np.float32))
                else:
                    im = im.convert("L" if grayscale else "RGB")
                if size is not None:
                    if crop == "center":
                        s = min(im.size)
                        left, top = (im.width - s) // 2, (im.height - s) // 2
                        im = im.crop((left, top, left + s, top + s))
                    if im.size != (size, size):
                        im = im.resize((size, size), Image.Resampling.LANCZOS)
                arr = np.asarray(im)
    except DataError:
        raise
    except Image.DecompressionBombError as exc:
        raise DataError(f"{path}: rejected as a decompression bomb: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise DataError(f"{path}: not a readable image file: {exc}") from exc
    if arr.dtype == np.uint8:
        out = arr.astype(np.float32) / 255.0
    else:
        out = np.clip(arr.astype(np.float32), 0.0, 1.0)
    if out.ndim == 2:
        out = out[None]
        if not grayscale:
            out = np.repeat(out, 3, axis=0)
    else:
        out = out.transpose(2, 0, 1)
    return np.ascontiguousarray(out)


def load_image_folder(
    path: str | Path,
    size: int | None = None,
    grayscale: bool = True,
    crop: str = "center",
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    limit: int | None = None,
    name: str | None = None,
) -> ImageDataset:
    """Load every image under ``path`` (see the module docstring for the layout rules).

    Args:
        path: the folder.
        size: resize every image to ``size x size``; ``None`` keeps the native size, which must
            then be the same for all images.
        grayscale: decode to 1 channel (``True``) or RGB (``False``).
        crop: ``"center"`` crops to the central square before resizing (keeps aspect ratio);
            ``"none"`` stretches. Only used when ``size`` is given.
        max_pixels: reject images with more than this many pixels (decompression bombs).
        limit: keep only the first ``limit`` images (in sorted order).
        name: dataset name; defaults to the folder path.

    Raises:
        DataError: missing/empty folder, a broken image file, an oversized image, images of
            different sizes with ``size=None``, or images both at the top level and in classes.
    """
    root = Path(path)
    if crop not in ("center", "none"):
        raise DataError(f"{root}: crop must be 'center' or 'none', got {crop!r}")
    if size is not None and size < 1:
        raise DataError(f"{root}: size must be >= 1, got {size}")
    if not root.is_dir():
        raise DataError(f"{root}: not a directory")
    exts = ", ".join(sorted(IMAGE_EXTENSIONS))
    subdirs = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: _natural_key(p.name),
    )
    classes = [(d, files) for d in subdirs if (files := _image_files(d, recursive=True))]
    top = _image_files(root, recursive=False)
    if classes and top:
        raise DataError(
            f"{root}: found images both at the top level ({top[0].name}) and in class "
            f"subfolders ({classes[0][0].name}); use one layout"
        )
    if not classes and not top:
        raise DataError(f"{root}: no image files found (looked for {exts})")

    items: list[tuple[Path, int]] = [(p, -1) for p in top]
    for class_id, (_, files) in enumerate(classes):
        items.extend((p, class_id) for p in files)
    if limit is not None:
        items = items[: max(limit, 0)]

    arrays: list[np.ndarray] = []
    for p, _ in items:
        arr = _decode(p, size, grayscale, crop, max_pixels)
        if arrays and arr.shape != arrays[0].shape:
            first = items[0][0]
            h0, w0 = arrays[0].shape[1:]
            h1, w1 = arr.shape[1:]
            raise DataError(
                f"{root}: images have different sizes: {first} is {w0}x{h0}, {p} is {w1}x{h1} "
                "(pass a size to resize them all)"
            )
        arrays.append(arr)
    if not arrays:
        raise DataError(f"{root}: no images left after limit={limit}")

    images = torch.from_numpy(np.stack(arrays))
    if not classes:
        return ImageDataset(images, None, 0, name or str(root), None)
    labels = torch.tensor([c for _, c in items], dtype=torch.int64)
    class_names = [d.name for d, _ in classes]
    return ImageDataset(images, labels, len(classes), name or str(root), class_names)
