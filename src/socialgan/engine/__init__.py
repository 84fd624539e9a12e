"""The adversarial engine: losses, the training loop, EMA, checkpoints, logging."""

from .config import TrainConfig
from .data import TensorBatches
from .ema import EMA
from .losses import LOSSES, GANLoss, get_loss, gradient_penalty, r1_penalty
from .trainer import Trainer
from .utils import seed_everything, select_device

__all__ = [
    "EMA",
    "LOSSES",
    "GANLoss",
    "TensorBatches",
    "TrainConfig",
    "Trainer",
    "get_loss",
    "gradient_penalty",
    "r1_penalty",
    "seed_everything",
    "select_device",
]
