"""The typed configuration of one adversarial training run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import torch

from ..checks import (
    OptionError,
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_pair,
    check_str,
)
from .augment import POLICIES, parse_policy
from .losses import LOSSES

PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16")


@dataclass
class TrainConfig:
    """Hyperparameters of the game and of the loop.

    Args:
        loss: ``minimax``, ``non_saturating`` (default), ``hinge`` or ``wasserstein``.
        steps: number of generator updates to train for.
        batch_size: samples per D and per G update.
        n_critic: discriminator updates per generator update (5 is usual for WGAN-GP).
        lr_g, lr_d: Adam learning rates.
        betas_g, betas_d: Adam betas.
        r1_gamma: weight of the R1 penalty on real data (0 disables).
        r1_every: lazy regularization period for R1 (StyleGAN2): applied every N D steps,
            scaled by N.
        gp_lambda: gradient-penalty weight, used with the ``wasserstein`` loss.
        ema_decay: decay of the generator's moving average (0 = plain copy).
        ema_warmup: ramp the decay up as ``(1 + t) / (10 + t)`` early in training.
        grad_clip: clip each net's gradient norm to this value (None = no clipping).
        precision: ``fp32``, ``bf16`` or ``fp16`` (autocast applies on CUDA only).
        device: ``auto`` (cuda, mps, cpu in that order) or an explicit device.
        seed: seeds data order, latents and weights; same seed, same losses on CPU.
        log_every: steps between logged scalars.
        checkpoint_every: steps between checkpoints (0 = only at the end).
        keep_last: checkpoints kept besides the best one.
        snapshot_every: steps between in-memory good states used for NaN rollback.
        max_nonfinite: rollbacks allowed before training stops with an error.
        tensorboard: write TensorBoard events in the run folder.
        reuse_fake: with ``n_critic=1``, reuse the D step's fake batch for the G step
            (one generator forward per step instead of two).
        fuse_d_batches: score real and fake in one D forward when D has no batch norm.
        channels_last: NHWC memory layout for conv nets (faster oneDNN/cuDNN kernels).
        augment: differentiable augmentation of everything D sees, real and fake (see
            :mod:`socialgan.engine.augment`): a comma-separated policy such as
            ``"color,translation,cutout"`` (DiffAugment); ``""`` disables it.
        augment_p: probability of applying each transform to a sample (1.0 = DiffAugment).
        ada_target: adapt the probability as ADA does, starting from 0, so that
            ``E[sign(D(real))]`` stays near this target (0.6 in the ADA paper); None = fixed.
        ada_speed_images: with ``ada_target``, real images over which the probability can
            move from 0 to 1.

    Every value is checked when the config is built (:meth:`validate`): a wrong type, a
    value out of range or an unknown name raises :class:`~socialgan.checks.OptionError`
    naming the field and what it accepts.
    """

    loss: str = "non_saturating"
    steps: int = 2000
    batch_size: int = 64
    n_critic: int = 1
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas_g: tuple[float, float] = (0.5, 0.999)
    betas_d: tuple[float, float] = (0.5, 0.999)
    r1_gamma: float = 0.0
    r1_every: int = 16
    gp_lambda: float = 10.0
    ema_decay: float = 0.999
    ema_warmup: bool = True
    grad_clip: float | None = None
    precision: str = "fp32"
    device: str = "auto"
    seed: int = 0
    log_every: int = 50
    checkpoint_every: int = 0
    keep_last: int = 3
    snapshot_every: int = 50
    max_nonfinite: int = 3
    tensorboard: bool = True
    reuse_fake: bool = True
    fuse_d_batches: bool = True
    channels_last: bool = True
    augment: str = ""
    augment_p: float = 1.0
    ada_target: float | None = None
    ada_speed_images: float = 20_000
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> TrainConfig:
        """Check every field (type, range, known names) and normalise it in place.

        Ints given for float fields become floats, lists of betas become tuples, and loss
        names are spelled as in :data:`~socialgan.engine.LOSSES`. Returns ``self``.
        """
        loss = self.loss.replace("-", "_").lower() if isinstance(self.loss, str) else self.loss
        self.loss = check_choice("loss", loss, LOSSES)
        positive = ("steps", "batch_size", "n_critic", "r1_every", "log_every", "keep_last")
        for name in (*positive, "snapshot_every"):
            setattr(self, name, check_int(name, getattr(self, name), minimum=1))
        for name in ("checkpoint_every", "max_nonfinite", "seed"):
            setattr(self, name, check_int(name, getattr(self, name), minimum=0))
        self.lr_g = check_number("lr_g", self.lr_g, minimum=0, open_min=True)
        self.lr_d = check_number("lr_d", self.lr_d, minimum=0, open_min=True)
        self.betas_g = check_pair("betas_g", self.betas_g, minimum=0, maximum=1)
        self.betas_d = check_pair("betas_d", self.betas_d, minimum=0, maximum=1)
        self.r1_gamma = check_number("r1_gamma", self.r1_gamma, minimum=0)
        self.gp_lambda = check_number("gp_lambda", self.gp_lambda, minimum=0)
        self.ema_decay = check_number(
            "ema_decay", self.ema_decay, minimum=0, maximum=1, open_max=True
        )
        self.grad_clip = check_number(
            "grad_clip", self.grad_clip, minimum=0, open_min=True, optional=True
        )
        self.precision = check_choice("precision", self.precision, PRECISIONS)
        self.device = _check_device(self.device)
        for name in ("ema_warmup", "tensorboard", "reuse_fake", "fuse_d_batches", "channels_last"):
            setattr(self, name, check_bool(name, getattr(self, name)))
        self.augment = _check_augment(self.augment)
        self.augment_p = check_number("augment_p", self.augment_p, minimum=0, maximum=1)
        self.ada_target = check_number(
            "ada_target",
            self.ada_target,
            minimum=-1,
            maximum=1,
            open_min=True,
            open_max=True,
            optional=True,
        )
        self.ada_speed_images = check_number(
            "ada_speed_images", self.ada_speed_images, minimum=0, open_min=True
        )
        if not isinstance(self.extra, dict):
            raise OptionError("extra", "a mapping", self.extra)
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from a dict, rejecting unknown keys with a clear message."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training option(s): {', '.join(unknown)}")
        return cls(**data)


def _check_device(value: Any) -> str:
    """``auto`` or a device name torch understands (``cpu``, ``cuda``, ``cuda:1``, ``mps``)."""
    expected = "auto or a torch device name such as cpu, cuda, cuda:1, mps"
    name = check_str("device", value, empty=False)
    if name != "auto":
        try:
            torch.device(name)
        except (RuntimeError, ValueError):
            raise OptionError("device", expected, value) from None
    return name


def _check_augment(value: Any) -> str:
    """A comma-separated DiffAugment policy (``""`` = none)."""
    expected = f"comma-separated names from {', '.join(POLICIES)} (or an empty string)"
    policy = check_str("augment", value)
    try:
        parse_policy(policy)
    except ValueError:
        raise OptionError("augment", expected, value) from None
    return policy


#: The :class:`TrainConfig` fields a model's ``**train`` options may set (all but ``extra``).
TRAIN_OPTIONS = frozenset(f.name for f in fields(TrainConfig)) - {"extra"}
