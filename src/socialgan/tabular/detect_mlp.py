"""The small PyTorch MLP of ``AccountDetector(model="mlp")`` and its training.

Features are standardized (mean / std of the training rows; the hashed TF-IDF columns,
already unit-scaled per row, are left as they are), the net is trained with AdamW on a
(class-)weighted binary cross-entropy, and training stops when the loss on a stratified
validation split of the training rows has not improved for ``patience`` epochs; the
weights of the best epoch are kept. Batches and the split draw from
``numpy.random.default_rng(seed)`` and the net trains inside
:func:`socialgan.reproducibility.reproducible`, so one seed gives one model.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from socialgan.reproducibility import reproducible

__all__ = ["AccountMLP", "MLPSettings", "fit_mlp", "mlp_logits", "standardizer"]


class AccountMLP(nn.Module):
    """``Linear -> ReLU -> Dropout`` blocks and one output logit (p(positive))."""

    def __init__(self, n_features: int, hidden_sizes: Sequence[int], dropout: float) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_features
        for h in hidden_sizes:
            layers += [nn.Linear(width, int(h)), nn.ReLU(), nn.Dropout(dropout)]
            width = int(h)
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


@dataclass(frozen=True)
class MLPSettings:
    """The training settings (the detector's hyperparameters of the same names)."""

    hidden_sizes: tuple[int, ...] = (128, 64)
    dropout: float = 0.2
    epochs: int = 200
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 20
    validation_fraction: float = 0.15


def standardizer(X: np.ndarray, unscaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, std)`` of each column of ``X``; columns in the ``unscaled`` mask and
    constant ones get ``(0, 1)`` / ``(mean, 1)``."""
    mean = X.mean(axis=0)
    std = X.std(axis=0)
    std = np.where(std > 1e-8, std, 1.0)
    mean[unscaled], std[unscaled] = 0.0, 1.0
    return mean, std


def _split(y: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[Any, Any]:
    """Stratified ``(train, validation)`` row indices; no validation rows when a class
    has fewer than 5 (then every epoch runs and the last weights are kept)."""
    counts = np.bincount(y, minlength=2)
    if fraction <= 0 or counts.min() < 5:
        return np.arange(len(y)), np.arange(0)
    val = []
    for c in (0, 1):
        rows = rng.permutation(np.flatnonzero(y == c))
        val.append(rows[: max(1, int(round(fraction * len(rows))))])
    held = np.sort(np.concatenate(val))
    return np.setdiff1d(np.arange(len(y)), held), held


def _loss(net: AccountMLP, x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    per_row = nn.functional.binary_cross_entropy_with_logits(net(x), y, reduction="none")
    return (per_row * w).sum() / w.sum()


def fit_mlp(
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    settings: MLPSettings,
    seed: int,
) -> tuple[AccountMLP, dict[str, Any]]:
    """Train an :class:`AccountMLP` on standardized ``X`` (float32-able), 0/1 ``y`` and
    per-row loss ``weights``; returns it in eval mode and ``{"epochs", "best_epoch",
    "val_loss"}``."""
    rng = np.random.default_rng(seed)
    train, val = _split(y, settings.validation_fraction, rng)
    xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.float32)
    wt = torch.as_tensor(weights, dtype=torch.float32)
    with reproducible(seed):
        net = AccountMLP(X.shape[1], settings.hidden_sizes, settings.dropout)
        opt = torch.optim.AdamW(
            net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay
        )
        best, best_state, best_epoch, waited, epoch = np.inf, None, 0, 0, 0
        for epoch in range(1, settings.epochs + 1):
            net.train()
            order = train[rng.permutation(len(train))]
            for start in range(0, len(order), settings.batch_size):
                idx = torch.as_tensor(order[start : start + settings.batch_size])
                opt.zero_grad()
                _loss(net, xt[idx], yt[idx], wt[idx]).backward()
                opt.step()
            if not len(val):
                continue
            net.eval()
            with torch.no_grad():
                vi = torch.as_tensor(val)
                current = float(_loss(net, xt[vi], yt[vi], wt[vi]))
            if current < best - 1e-5:
                best, best_state, best_epoch, waited = (
                    current,
                    copy.deepcopy(net.state_dict()),
                    epoch,
                    0,
                )
            else:
                waited += 1
                if waited >= settings.patience:
                    break
        if best_state is not None:
            net.load_state_dict(best_state)
    net.eval()
    info: dict[str, Any] = {"epochs": epoch, "best_epoch": best_epoch or epoch}
    info["val_loss"] = None if best == np.inf else best
    return net, info


def mlp_logits(net: AccountMLP, X: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """``(N,)`` float64 logits of standardized ``X``."""
    out = []
    net.eval()
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            chunk = torch.as_tensor(X[start : start + batch_size], dtype=torch.float32)
            out.append(net(chunk).double().numpy())
    return np.concatenate(out) if out else np.zeros(0)
