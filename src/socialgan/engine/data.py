"""Batches for the game, drawn from tensors held in memory.

The order is a pure function of ``(seed, batch index)``: batch ``i`` comes from the
permutation of epoch ``i // batches_per_epoch``, made by a generator seeded with
``seed + epoch``. A resumed run therefore sees exactly the batches an uninterrupted run
would, with no sampler state to save. Indexing tensors directly (instead of a
``DataLoader`` collating one sample at a time) is also what makes the engine fast on
small images.
"""

from __future__ import annotations

import torch
from torch import Tensor


class TensorBatches:
    """Deterministic, resumable mini-batches over ``x`` (and optional labels ``y``).

    Args:
        x: data, first dimension is the sample axis; moved to ``device`` once.
        y: optional int64 labels aligned with ``x``.
        batch_size: samples per batch; the last incomplete batch of an epoch is dropped.
        seed: base seed of the shuffling.
        device: where batches live (data are copied there once, up front).
    """

    def __init__(
        self,
        x: Tensor,
        y: Tensor | None = None,
        *,
        batch_size: int = 64,
        seed: int = 0,
        device: torch.device | str = "cpu",
    ) -> None:
        if x.shape[0] < batch_size:
            raise ValueError(
                f"batch_size {batch_size} is larger than the data set ({x.shape[0]} samples)"
            )
        if y is not None and y.shape[0] != x.shape[0]:
            raise ValueError(f"{x.shape[0]} samples but {y.shape[0]} labels")
        self.device = torch.device(device)
        self.x = x.to(self.device)
        self.y = None if y is None else y.to(self.device, torch.int64)
        self.batch_size = batch_size
        self.seed = seed
        self.batches_per_epoch = x.shape[0] // batch_size
        self._epoch = -1
        self._perm: Tensor | None = None

    def __len__(self) -> int:
        return self.batches_per_epoch

    def _permutation(self, epoch: int) -> Tensor:
        if epoch != self._epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perm = torch.randperm(self.x.shape[0], generator=g).to(self.device)
            self._epoch = epoch
        assert self._perm is not None
        return self._perm

    def batch(self, index: int) -> tuple[Tensor, Tensor | None]:
        """Return batch number ``index`` (counting from the start of training)."""
        epoch, pos = divmod(index, self.batches_per_epoch)
        idx = self._permutation(epoch)[pos * self.batch_size : (pos + 1) * self.batch_size]
        return self.x[idx], (None if self.y is None else self.y[idx])
