"""Spatial CNN detector: a small ResNet trained real vs generated, the CNNDetection recipe of
Wang et al. ("CNN-generated images are surprisingly easy to spot... for now", CVPR 2020)
scaled down to run on a CPU: trained from scratch, random blur + JPEG augmentation
(:mod:`.augment`), random crops and flips, Adam, early stopping on a held-out split.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...reproducibility import reproducible
from .augment import AugmentConfig, augment_batch
from .base import ImageDetector
from .inputs import as_images, binary_auc, fit_to_size, split_real_fake
from .inputs import match_channels as _match_channels

__all__ = ["CNNDetector", "SmallResNet"]


class _BasicBlock(nn.Module):
    """Two 3x3 convs with batch norm and an identity (or 1x1 projection) shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: Tensor) -> Tensor:
        """Residual block output, same spatial size divided by the stride."""
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


class SmallResNet(nn.Module):
    """A ResNet-ish binary classifier: 3x3 stem (no early down-sampling, so pixel-level
    artefacts reach the residual stages), three stages of ``blocks`` basic blocks with
    ``width``, ``2 width``, ``4 width`` channels (strides 1, 2, 2), global average pooling and
    one logit. Inputs in [0, 1] are mapped to [-1, 1] inside.
    """

    def __init__(self, channels: int = 1, width: int = 16, blocks: int = 1) -> None:
        super().__init__()
        if width < 1 or blocks < 1:
            raise ValueError(f"width and blocks must be >= 1, got {width}, {blocks}")
        self.stem = nn.Sequential(
            nn.Conv2d(channels, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
        )
        layers: list[nn.Module] = []
        c = width
        for stage, stride in enumerate((1, 2, 2)):
            c_out = width * 2**stage
            for b in range(blocks):
                layers.append(_BasicBlock(c, c_out, stride if b == 0 else 1))
                c = c_out
        self.stages = nn.Sequential(*layers)
        self.fc = nn.Linear(c, 1)

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(N,)``; positive = generated."""
        h = self.stages(self.stem(x * 2.0 - 1.0))
        return self.fc(h.mean(dim=(-2, -1))).squeeze(1)


def _balanced_bce(logits: Tensor, y: Tensor) -> Tensor:
    """Binary cross-entropy with both classes weighted equally."""
    losses = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    pos = y > 0.5
    parts = [losses[m].mean() for m in (pos, ~pos) if bool(m.any())]
    return torch.stack(parts).mean()


class CNNDetector(ImageDetector):
    """Small ResNet detector trained with blur/JPEG augmentation (see the module docstring).

    Args:
        size: input side; training takes random ``size`` crops, scoring the central one
            (images smaller than ``size`` are resized up). ``None``: the smallest training
            side minus an eighth (28 -> 25), so crops shift by up to 1/8 of the image.
        channels: 1 or 3; ``None`` takes 3 if any training image is RGB, else 1.
        width: channels of the first stage (16); stages have width, 2 width, 4 width.
        blocks: basic blocks per stage (1).
        epochs: maximum training epochs (5).
        lr: Adam learning rate (1e-3).
        weight_decay: Adam weight decay (0).
        train_batch_size: images per training step (64).
        val_fraction: fraction of each class held out for early stopping (0.1); 0 trains
            for ``epochs`` and keeps the last weights.
        patience: epochs without a better validation loss before stopping (2).
        augment: an :class:`AugmentConfig` (or its dict); ``None`` = the default recipe
            (blur p=0.5 sigma~U(0,3), JPEG p=0.5 quality~U(30,100), flips).
        seed: seed of initialization, split, batch order and augmentation; same seed, data
            and torch thread count, same weights.
        verbose: print one line per epoch on stderr.
        threshold: flagging threshold on p(generated) (0.5).
        batch_size: images per batch when scoring.
    """

    kind = "cnn"
    model_type = "socialgan.image.CNNDetector"

    def __init__(
        self,
        size: int | None = None,
        *,
        channels: int | None = None,
        width: int = 16,
        blocks: int = 1,
        epochs: int = 5,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        train_batch_size: int = 64,
        val_fraction: float = 0.1,
        patience: int = 2,
        augment: AugmentConfig | dict[str, Any] | None = None,
        seed: int = 0,
        verbose: bool = False,
        threshold: float = 0.5,
        batch_size: int = 256,
    ) -> None:
        super().__init__(threshold=threshold, batch_size=batch_size, size=size)
        if channels not in (None, 1, 3):
            raise ValueError(f"channels must be 1 or 3, got {channels}")
        if epochs < 1 or train_batch_size < 1 or patience < 1:
            raise ValueError("epochs, train_batch_size and patience must be >= 1")
        if not 0.0 <= val_fraction < 0.5:
            raise ValueError(f"val_fraction must be in [0, 0.5), got {val_fraction}")
        if isinstance(augment, dict):
            augment = AugmentConfig.from_dict(augment)
        self.size = size
        self.channels = channels
        self.width = width
        self.blocks = blocks
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.train_batch_size = train_batch_size
        self.val_fraction = val_fraction
        self.patience = patience
        self.augment = augment or AugmentConfig()
        self.seed = seed
        self.verbose = verbose
        SmallResNet(1, width, blocks)  # validate width/blocks now, not after loading data
        self.net_: SmallResNet | None = None
        self.size_: int | None = None
        self.channels_: int | None = None
        self.history_: list[dict[str, float]] = []
        self.best_epoch_: int | None = None

    # ---------------------------------------------------------------- preprocessing
    def preprocess(self, images: Any) -> Tensor:
        """``(N, channels_, size_, size_)`` central crops in [0, 1]."""
        if self.size_ is None or self.channels_ is None:
            raise RuntimeError("CNNDetector: input size unknown before fit()")
        x = _match_channels(as_images(images), self.channels_)
        return fit_to_size(x, self.size_, "crop")

    # ------------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any) -> CNNDetector:
        """Train on images ``X`` with labels ``y`` (0 real, 1 generated); keeps the
        best-validation weights."""
        r, f = split_real_fake(X, y)
        with reproducible(self.seed):
            self._train(r, f)
        return self

    def _train(self, r: Tensor, f: Tensor) -> None:
        """Build the net and train it on ``r`` (0) and ``f`` (1) with early stopping."""
        side = min(r.shape[-2], r.shape[-1], f.shape[-2], f.shape[-1])
        self.size_ = self.size or max(4, side - side // 8)
        self.channels_ = self.channels or (3 if 3 in (r.shape[1], f.shape[1]) else 1)
        base = max(side, self.size_)
        r = fit_to_size(_match_channels(r, self.channels_), base)
        f = fit_to_size(_match_channels(f, self.channels_), base)
        x = torch.cat([r, f])
        y = torch.cat([torch.zeros(len(r)), torch.ones(len(f))])
        rng = np.random.default_rng(self.seed)
        train_idx, val_idx = self._split(y, rng)
        net = SmallResNet(self.channels_, self.width, self.blocks)  # seeded by fit
        opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        x_val = fit_to_size(x[val_idx], self.size_, "crop") if len(val_idx) else None
        best_loss, best_state, stale = float("inf"), copy.deepcopy(net.state_dict()), 0
        self.history_, self.best_epoch_ = [], None
        for epoch in range(1, self.epochs + 1):
            train_loss = self._train_epoch(net, opt, x[train_idx], y[train_idx], rng)
            record = {"epoch": epoch, "train_loss": train_loss}
            if x_val is not None:
                val_loss, val_auc = self._validate(net, x_val, y[val_idx])
                record.update(val_loss=val_loss, val_auc=val_auc)
                if val_loss < best_loss - 1e-6:
                    best_loss, best_state, stale = val_loss, copy.deepcopy(net.state_dict()), 0
                    self.best_epoch_ = epoch
                else:
                    stale += 1
            self.history_.append(record)
            if self.verbose:
                print(
                    "epoch " + ", ".join(f"{k} {v:.4g}" for k, v in record.items()),
                    file=sys.stderr,
                )
            if x_val is not None and stale >= self.patience:
                break
        if x_val is not None:
            net.load_state_dict(best_state)
        else:
            self.best_epoch_ = len(self.history_)
        self.net_ = net.eval()
        self.data_info = {"n_real": len(r), "n_fake": len(f), "size": self.size_}

    def _split(self, y: Tensor, rng: np.random.Generator) -> tuple[Tensor, Tensor]:
        """Stratified train/validation indices."""
        train, val = [], []
        for label in (0.0, 1.0):
            idx = torch.nonzero(y == label).flatten().numpy()
            idx = idx[rng.permutation(len(idx))]
            n_val = round(self.val_fraction * len(idx)) if self.val_fraction else 0
            n_val = min(max(n_val, 1 if self.val_fraction else 0), len(idx) - 1)
            val.append(idx[:n_val])
            train.append(idx[n_val:])
        return torch.from_numpy(np.concatenate(train)), torch.from_numpy(np.concatenate(val))

    def _train_epoch(
        self,
        net: SmallResNet,
        opt: torch.optim.Optimizer,
        x: Tensor,
        y: Tensor,
        rng: np.random.Generator,
    ) -> float:
        assert self.size_ is not None
        net.train()
        order = torch.from_numpy(rng.permutation(len(x)))
        total, seen = 0.0, 0
        for i in range(0, len(x), self.train_batch_size):
            idx = order[i : i + self.train_batch_size]
            if len(idx) < 2:  # batch norm needs two samples
                continue
            xb = augment_batch(x[idx], self.size_, self.augment, rng)
            loss = _balanced_bce(net(xb), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
        return total / max(seen, 1)

    @torch.no_grad()
    def _validate(self, net: SmallResNet, x: Tensor, y: Tensor) -> tuple[float, float]:
        net.eval()
        logits = torch.cat(
            [net(x[i : i + self.batch_size]) for i in range(0, len(x), self.batch_size)]
        )
        auc = binary_auc(y.numpy(), logits.numpy()) if len(set(y.tolist())) == 2 else float("nan")
        return float(_balanced_bce(logits, y)), auc

    # -------------------------------------------------------------------- scoring
    @property
    def input_channels(self) -> int | None:
        """Channels of the trained net (None before fit)."""
        return self.channels_

    @property
    def is_fitted(self) -> bool:
        """True after :meth:`fit` or :meth:`from_pretrained`."""
        return self.net_ is not None

    def _logit(self, batch: Tensor) -> Tensor:
        assert self.net_ is not None
        self.net_.eval()
        return self.net_(batch)

    def logits(self, images: Tensor) -> Tensor:
        """Differentiable log-odds of generated ``(N,)`` for float images in ``[0, 1]``.

        :meth:`decision_function` detaches, batches and returns numpy; this keeps the
        autograd graph back to ``images``, for a generator trained to evade the detector
        (``ImageGAN(g_regularizer=lambda x: F.softplus(det.logits(x)).mean())``) or for
        adversarial examples. Images get :meth:`preprocess`'s channel matching and central
        crop (or resize when smaller), but no range check. The net is put in eval mode;
        call ``det.net_.requires_grad_(False)`` first to freeze its weights, so that only
        the input receives gradients.
        """
        self._check_fitted()
        assert self.net_ is not None and self.size_ is not None and self.channels_ is not None
        x = images[:, None] if images.ndim == 3 else images
        if x.ndim != 4 or x.shape[1] not in (1, 3) or not x.is_floating_point():
            raise ValueError(
                "expected float images (N, C, H, W) or (N, H, W) with C in {1, 3}, "
                f"got {x.dtype} {tuple(x.shape)}"
            )
        x = fit_to_size(_match_channels(x, self.channels_), self.size_, "crop")
        self.net_.eval()
        return self.net_(x)

    # ---------------------------------------------------------------- persistence
    def _params(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "channels": self.channels,
            "width": self.width,
            "blocks": self.blocks,
            "epochs": self.epochs,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "train_batch_size": self.train_batch_size,
            "val_fraction": self.val_fraction,
            "patience": self.patience,
            "augment": self.augment.to_dict(),
            "seed": self.seed,
            "batch_size": self.batch_size,
        }

    def _state(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        tensors = {}
        if self.net_ is not None:
            tensors = {f"net.{k}": v for k, v in self.net_.state_dict().items()}
        state = {
            "size": self.size_,
            "channels": self.channels_,
            "best_epoch": self.best_epoch_,
            "history": self.history_,
        }
        return tensors, state

    def _restore(self, tensors: dict[str, Tensor], state: dict[str, Any]) -> None:
        self.size_ = int(state["size"])
        self.channels_ = int(state["channels"])
        self.best_epoch_ = state.get("best_epoch")
        self.history_ = list(state.get("history") or [])
        net = SmallResNet(self.channels_, self.width, self.blocks)
        net.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
        self.net_ = net.eval()
