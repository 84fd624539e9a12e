"""Exponential moving average of generator weights (Karras et al., Yazici et al. 2019)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """Keeps ``shadow``, a frozen copy of ``model`` whose weights trail it.

    ``shadow = d * shadow + (1 - d) * model`` after each update; buffers (for example
    BatchNorm statistics) are copied as they are. ``decay=0`` makes the shadow an exact
    copy, which is how EMA is switched off without changing any code path.

    With ``warmup`` the decay at update ``t`` is ``min(decay, (1 + t) / (10 + t))``: early
    on the average forgets the random initial weights quickly instead of carrying them for
    ``1 / (1 - decay)`` steps, so short runs get a usable EMA generator too.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999, warmup: bool = True) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.warmup = warmup
        self.shadow = copy.deepcopy(model).eval().requires_grad_(False)
        self._model_params: list[torch.Tensor] = list(model.parameters())
        self._shadow_params: list[torch.Tensor] = list(self.shadow.parameters())
        self._model_buffers = [b for b in model.buffers()]
        self._shadow_buffers = [b for b in self.shadow.buffers()]

    @torch.no_grad()
    def update(self, step: int | None = None) -> None:
        """Move the shadow weights one step towards the live model (``step``: 0-based)."""
        decay = self.decay
        if self.warmup and step is not None:
            decay = min(decay, (1.0 + step) / (10.0 + step))
        weight = 1.0 - decay
        torch._foreach_lerp_(self._shadow_params, self._model_params, weight)
        for s, b in zip(self._shadow_buffers, self._model_buffers, strict=True):
            s.copy_(b)
