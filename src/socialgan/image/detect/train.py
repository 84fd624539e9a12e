"""Train a detector with a held-out test split and report honest metrics (what
``socialgan image detect-train`` runs)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ...errors import DataError
from .base import ImageDetector
from .cnn import CNNDetector
from .discriminator import DiscriminatorDetector
from .inputs import as_images, stack_real_fake
from .spectral import SpectralDetector

__all__ = ["build_detector", "holdout_split", "train_detector"]


def holdout_split(images: Tensor, fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """Shuffle (seeded) and split into ``(train, test)`` with ``round(fraction * N)`` test
    images; ``fraction=0`` gives an empty test set."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"test fraction must be in [0, 1), got {fraction}")
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    n_test = round(fraction * len(images))
    return images[perm[n_test:]], images[perm[:n_test]]


def build_detector(kind: str, gan: Any = None, **params: Any) -> ImageDetector:
    """A fresh detector of ``kind`` (``spectral``, ``cnn``, ``discriminator``).

    ``params`` are constructor arguments; ``None`` values are dropped (defaults apply), and
    arguments the kind does not take are ignored (``epochs`` means nothing to ``spectral``).
    """
    if kind == "spectral":
        keys = {"size", "dct_bands", "seed", "threshold", "batch_size", "resize_mode"}
        return SpectralDetector(**_pick(params, keys))
    if kind == "cnn":
        keys = {"size", "channels", "width", "blocks", "epochs", "lr", "seed", "verbose"}
        keys |= {"val_fraction", "patience", "train_batch_size", "threshold", "batch_size"}
        return CNNDetector(**_pick(params, keys))
    if kind == "discriminator":
        if gan is None:
            raise DataError(
                "kind 'discriminator' needs a trained ImageGAN: pass --gan MODEL_DIR "
                "(or a model folder as --fake)"
            )
        keys = {"calibrate", "threshold", "batch_size", "resize_mode"}
        return DiscriminatorDetector(gan, **_pick(params, keys))
    raise DataError(f"unknown detector kind {kind!r}; expected spectral, cnn or discriminator")


def _pick(params: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k in keys and v is not None}


def train_detector(
    detector: ImageDetector,
    real: Any,
    fake: Any,
    *,
    test_fraction: float = 0.2,
    target_fpr: float | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit ``detector`` on ``1 - test_fraction`` of each set and score the rest.

    With ``target_fpr`` the threshold is calibrated on the held-out real images (so the
    reported ``test_fpr`` is the calibration set's own). Returns the training counts and
    the held-out metrics ``test_auc``, ``test_accuracy``, ``test_fpr``, ``test_tpr``,
    ``test_n_real``, ``test_n_fake`` and ``threshold``; they are also added to
    ``detector.metrics`` (and so to the model card).
    """
    r, f = as_images(real, "real images"), as_images(fake, "fake images")
    r_train, r_test = holdout_split(r, test_fraction, seed)
    f_train, f_test = holdout_split(f, test_fraction, seed + 1)
    if test_fraction and min(len(r_test), len(f_test)) < 1:
        raise DataError(
            f"too few images to hold out {test_fraction:.0%} for testing "
            f"({len(r)} real, {len(f)} fake)"
        )
    detector.fit(*stack_real_fake(r_train, f_train))
    metrics: dict[str, Any] = {"n_train_real": len(r_train), "n_train_fake": len(f_train)}
    if test_fraction:
        if target_fpr is not None:
            detector.calibrate_threshold(r_test, target_fpr)
        held_out = detector.evaluate(r_test, f_test)
        metrics.update({f"test_{k}": v for k, v in held_out.items()})
        metrics["threshold"] = detector.threshold
    elif target_fpr is not None:
        raise DataError(
            "a threshold calibrated on training images is meaningless: "
            "set a test fraction > 0 to use a target FPR"
        )
    detector.metrics.update(metrics)
    return metrics
