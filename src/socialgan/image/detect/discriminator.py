"""Baseline: the discriminator of a trained :class:`~socialgan.image.gan.ImageGAN` as a
detector (the seed design's idea). D was trained to tell real images from *its own*
generator's samples, so it is a natural first detector for that generator, and a weak one
for any other: the game ends with D unable to tell them apart.

Score: ``p(generated) = sigmoid(a * (-D(x)) + b)`` with ``a = 1, b = 0`` until :meth:`fit`
calibrates ``(a, b)`` by 1-D logistic regression on labelled images (a monotone map: the
ranking, hence the AUC, is D's own).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ...errors import DataError
from .base import ImageDetector
from .inputs import as_images, fit_to_size, match_channels, split_real_fake

__all__ = ["DiscriminatorDetector"]


class DiscriminatorDetector(ImageDetector):
    """Wrap ``gan.discriminator`` as a detector.

    Args:
        gan: a fitted :class:`~socialgan.image.gan.ImageGAN`, or the folder of one saved with
            ``save_pretrained``. ``None`` only when loading with :meth:`from_pretrained`.
        calibrate: :meth:`fit` learns the 1-D logistic calibration ``(a, b)``; with False,
            ``fit`` only checks its inputs and the raw ``sigmoid(-D(x))`` is the score.
        resize_mode: how images are brought to D's size (``"crop"`` or ``"resize"``).
        threshold: flagging threshold on p(generated) (0.5).
        batch_size: images per batch when scoring.

    A class-conditional D is scored with its logit averaged over all classes.

    Example:
        >>> det = DiscriminatorDetector("runs/dcgan-mnist5k/model")  # doctest: +SKIP
        >>> det.fit(*stack_real_fake(real_heldout, gan.sample(1000)))  # doctest: +SKIP
    """

    kind = "discriminator"
    model_type = "socialgan.image.DiscriminatorDetector"

    def __init__(
        self,
        gan: Any = None,
        *,
        calibrate: bool = True,
        resize_mode: str = "crop",
        threshold: float = 0.5,
        batch_size: int = 256,
    ) -> None:
        super().__init__(threshold=threshold, batch_size=batch_size)
        if resize_mode not in ("crop", "resize"):
            raise ValueError(f"resize_mode must be 'crop' or 'resize', got {resize_mode!r}")
        self.calibrate = calibrate
        self.resize_mode = resize_mode
        self.D_: nn.Module | None = None
        self.net_config_: dict[str, Any] = {}
        self.net_range_: tuple[float, float] = (-1.0, 1.0)
        self.calibration_: tuple[float, float] = (1.0, 0.0)
        if gan is not None:
            self._attach(gan)

    def _attach(self, gan: Any) -> None:
        from ..gan import ImageGAN

        if isinstance(gan, str | Path):
            gan = ImageGAN.from_pretrained(gan)
        if not isinstance(gan, ImageGAN):
            raise TypeError(f"gan must be an ImageGAN or its folder, got {type(gan).__name__}")
        if gan.discriminator is None or gan.generator is None:
            raise ValueError("the ImageGAN is not fitted: call fit() or from_pretrained() first")
        d = copy.deepcopy(gan.discriminator).cpu()
        # standard (not channels_last) weights, as after loading: same kernels, same bits
        for t in [*d.parameters(), *d.buffers()]:
            t.data = t.data.clone(memory_format=torch.contiguous_format)
        self.D_ = d.eval()
        self.net_config_ = dict(gan.net_config)
        lo, hi = tuple(gan.generator.out_range)  # type: ignore[arg-type]
        self.net_range_ = (float(lo), float(hi))
        self.data_info = {"gan_data": dict(gan.data_info)}

    # ---------------------------------------------------------------- preprocessing
    def preprocess(self, images: Any) -> Tensor:
        """Images at D's size and channel count, still in [0, 1]."""
        self._check_fitted()
        cfg = self.net_config_
        x = match_channels(as_images(images), int(cfg["channels"]))
        return fit_to_size(x, int(cfg["img_size"]), self.resize_mode)

    def d_logits(self, images: Any) -> np.ndarray:
        """D's raw logits ``(N,)`` (positive = judged real), in batches, under no_grad."""
        x = self.preprocess(images)
        out = [np.zeros(0)]
        with torch.no_grad():
            for i in range(0, len(x), self.batch_size):
                out.append(self._d_logits(x[i : i + self.batch_size]).double().numpy())
        return np.concatenate(out)

    def _d_logits(self, batch: Tensor) -> Tensor:
        assert self.D_ is not None
        self.D_.eval()
        lo, hi = self.net_range_
        z = batch * (hi - lo) + lo
        k = int(self.net_config_.get("num_classes") or 0)
        if not k:
            return self.D_(z, None)
        per_class = [self.D_(z, torch.full((len(z),), c, dtype=torch.long)) for c in range(k)]
        return torch.stack(per_class).mean(dim=0)

    # ------------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any) -> DiscriminatorDetector:
        """Calibrate ``(a, b)`` on images ``X`` with labels ``y`` (0 real, 1 generated), if
        ``calibrate``."""
        from sklearn.linear_model import LogisticRegression

        if self.D_ is None:
            raise ValueError("DiscriminatorDetector needs a GAN: DiscriminatorDetector(gan)")
        r, f = split_real_fake(X, y)
        if not self.calibrate:
            return self
        s = -np.r_[self.d_logits(r), self.d_logits(f)]
        labels = np.r_[np.zeros(len(r), dtype=np.int64), np.ones(len(f), dtype=np.int64)]
        if not np.isfinite(s).all():
            raise DataError("the discriminator gave non-finite logits; cannot calibrate")
        model = LogisticRegression(C=1e4, class_weight="balanced", max_iter=5000)
        model.fit(s[:, None], labels)
        self.calibration_ = (float(model.coef_[0, 0]), float(model.intercept_[0]))
        self.data_info.update(n_real=len(r), n_fake=len(f))
        return self

    # -------------------------------------------------------------------- scoring
    @property
    def input_channels(self) -> int | None:
        """Channels of the wrapped discriminator (None before a GAN is attached)."""
        ch = self.net_config_.get("channels")
        return int(ch) if ch is not None else None

    @property
    def is_fitted(self) -> bool:
        """True once a discriminator is attached (fit only calibrates)."""
        return self.D_ is not None

    def _logit(self, batch: Tensor) -> Tensor:
        a, b = self.calibration_
        return a * -self._d_logits(batch).double() + b

    # ---------------------------------------------------------------- persistence
    def _params(self) -> dict[str, Any]:
        return {
            "calibrate": self.calibrate,
            "resize_mode": self.resize_mode,
            "batch_size": self.batch_size,
        }

    def _state(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        tensors: dict[str, Tensor] = {}
        if self.D_ is not None:
            tensors = {f"D.{k}": v for k, v in self.D_.state_dict().items()}
        tensors["calibration"] = torch.tensor(self.calibration_, dtype=torch.float64)
        return tensors, {"net": self.net_config_, "net_range": list(self.net_range_)}

    def _restore(self, tensors: dict[str, Tensor], state: dict[str, Any]) -> None:
        from ..nets import build_nets

        net = dict(state["net"])
        self.net_config_ = net
        self.net_range_ = (float(state["net_range"][0]), float(state["net_range"][1]))
        _, D = build_nets(**{k: v for k, v in net.items() if k != "conditional"})
        D.load_state_dict({k[2:]: v for k, v in tensors.items() if k.startswith("D.")})
        self.D_ = D.eval()
        a, b = tensors["calibration"].tolist()
        self.calibration_ = (float(a), float(b))
