"""Training-by-sampling (CTGAN, Xu et al. 2019): real batches drawn condition first.

Each row of a batch first gets a condition: a discrete column chosen uniformly, then one of
its categories with probability proportional to ``log(1 + frequency)``; then a real row
holding that category is drawn uniformly. Rare categories are thus seen far more often
than their share of the table, and the generator, asked for the same conditions, has to
learn them too. Without any discrete column, batches are uniform draws of rows.

The draws of batch ``i`` come from a generator seeded with ``(seed, i)``, so a resumed run
sees exactly the batches an uninterrupted one would (the engine's ``BatchSource``
contract); the conditions of the generator's own steps come from the engine's checkpointed
RNG through :meth:`ConditionalBatches.sample_labels`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = ["ConditionalBatches", "condition_probabilities"]


def condition_probabilities(counts: Sequence[Sequence[int]], *, log_frequency: bool) -> np.ndarray:
    """P(flat condition) over every column's categories: a column uniformly, then a category
    by ``log(1 + count)`` (``log_frequency``) or by its count."""
    parts = []
    for col in counts:
        c = np.asarray(col, dtype=np.float64)
        w = np.log1p(c) if log_frequency else c
        parts.append(w / w.sum() / len(counts))
    return np.concatenate(parts) if parts else np.zeros(0)


class ConditionalBatches:
    """Deterministic, resumable CTGAN batches.

    Args:
        data: transformed rows ``(n, d)``.
        codes: ``(n, k)`` category index of each row in each of the ``k`` discrete columns.
        counts: per discrete column, the training count of each category.
        batch_size: rows per batch.
        seed: base seed of the draws.
        log_frequency: draw categories by ``log(1 + count)`` (CTGAN's default) or by count.
        device: where batches are built.
    """

    def __init__(
        self,
        data: np.ndarray,
        codes: np.ndarray,
        counts: Sequence[Sequence[int]],
        *,
        batch_size: int,
        seed: int = 0,
        log_frequency: bool = True,
        device: torch.device | str = "cpu",
    ) -> None:
        n = data.shape[0]
        if n < batch_size:
            raise ValueError(f"batch_size {batch_size} is larger than the table ({n} rows)")
        self.device = torch.device(device)
        self.x = torch.as_tensor(np.asarray(data, dtype=np.float32), device=self.device)
        self.batch_size, self.seed = int(batch_size), int(seed)
        self.batches_per_epoch = n // self.batch_size
        sizes = [len(c) for c in counts]
        self.num_conditions = int(sum(sizes))
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        probs = condition_probabilities(counts, log_frequency=log_frequency)
        self.probs = torch.as_tensor(probs, dtype=torch.float64, device=self.device)
        if self.num_conditions:
            flat = (np.asarray(codes, dtype=np.int64) + offsets[None, :]).T.ravel()
            rows = np.tile(np.arange(n, dtype=np.int64), len(sizes))
            order = np.argsort(flat, kind="stable")
            per = np.bincount(flat, minlength=self.num_conditions)
            if (per == 0).any():
                raise ValueError("a category has no row: counts and codes disagree")
            self._rows = torch.as_tensor(rows[order], device=self.device)
            self._count = torch.as_tensor(per, device=self.device)
            self._start = torch.as_tensor(np.cumsum(per) - per, device=self.device)

    def __len__(self) -> int:
        return self.batches_per_epoch

    def sample_labels(self, n: int, generator: torch.Generator) -> Tensor:
        """``n`` flat conditions drawn as the real batches draw theirs."""
        return torch.multinomial(self.probs.float(), n, replacement=True, generator=generator)

    def batch(self, index: int) -> tuple[Tensor, Tensor | None]:
        """Batch number ``index``: real rows and their conditions (None without any)."""
        g = torch.Generator(device=self.device).manual_seed(self.seed * 1_000_003 + int(index))
        b = self.batch_size
        if not self.num_conditions:
            rows = torch.randint(0, self.x.shape[0], (b,), generator=g, device=self.device)
            return self.x[rows], None
        cond = self.sample_labels(b, g)
        u = torch.rand(b, generator=g, device=self.device)
        pos = self._start[cond] + (u * self._count[cond]).long().clamp(max=self._count[cond] - 1)
        return self.x[self._rows[pos]], cond
