"""Tiny nets and data for engine tests: a 2-D Gaussian mixture, no images involved."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import torch
from torch import nn

from socialgan.engine import TensorBatches, TrainConfig, Trainer


class ToyG(nn.Module):
    def __init__(self, z_dim: int = 4, num_classes: int = 0) -> None:
        super().__init__()
        self.z_dim, self.num_classes, self.out_range = z_dim, num_classes, (-3.0, 3.0)
        self.net = nn.Sequential(nn.Linear(z_dim + num_classes, 16), nn.ReLU(), nn.Linear(16, 2))

    def forward(self, z, y=None):
        if self.num_classes:
            z = torch.cat([z, nn.functional.one_hot(y, self.num_classes).float()], 1)
        return self.net(z)


class ToyD(nn.Module):
    def __init__(self, num_classes: int = 0, nan_after: int = -1) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.net = nn.Sequential(
            nn.Linear(2 + num_classes, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1)
        )
        self.calls = 0
        self.nan_after = nan_after  # return NaN from this call on (NaN-guard tests)
        self.nan_calls = 0  # how many calls return NaN (0 = forever)

    def forward(self, x, y=None):
        if self.num_classes:
            x = torch.cat([x, nn.functional.one_hot(y, self.num_classes).float()], 1)
        out = self.net(x).squeeze(1)
        self.calls += 1
        if 0 <= self.nan_after < self.calls and (
            self.nan_calls == 0 or self.calls <= self.nan_after + self.nan_calls
        ):
            out = out * float("nan")
        return out


def mixture(n: int = 512, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 4, (n,), generator=g)
    angle = y.float() * math.pi / 2
    centers = torch.stack([angle.cos(), angle.sin()], 1) * 2
    return centers + 0.1 * torch.randn(n, 2, generator=g), y


def make_trainer(run_dir=None, seed: int = 0, **overrides) -> Trainer:
    torch.manual_seed(seed)
    conditional = overrides.pop("conditional", False)
    k = 4 if conditional else 0
    cfg = TrainConfig(
        **{
            "steps": 30,
            "batch_size": 32,
            "lr_g": 1e-3,
            "lr_d": 1e-3,
            "device": "cpu",
            "seed": seed,
            "log_every": 5,
            "tensorboard": False,
            **overrides,
        }
    )
    x, y = mixture()
    data = TensorBatches(x, y if conditional else None, batch_size=cfg.batch_size, seed=seed)
    return Trainer(ToyG(num_classes=k), ToyD(num_classes=k), data, cfg, run_dir, progress=False)


if __name__ == "__main__":  # used by the SIGKILL test: train forever-ish, checkpoint often
    run = Path(sys.argv[1])
    t = make_trainer(run, steps=int(sys.argv[2]), checkpoint_every=5, keep_last=100)
    t.resume()
    t.fit()
