"""Text encoders trained from scratch: a byte-level CNN beside a hashed word n-gram bag.

No pretrained embeddings: the character branch reads UTF-8 bytes (a fixed vocabulary of 256,
so nothing to learn or store about the alphabet), and the word branch is fastText-style: the
mean embedding of hashed word uni- and bigrams (a fixed CRC-32 hash, stable across runs and
machines). Both are cheap enough to train on one CPU core in seconds for a few thousand texts.

Example:
    >>> from socialgan.text.detect.nets import CharCNNEncoder, TextFeatures
    >>> feats = TextFeatures.encode(["free money", "nice song"], max_len=64, hash_ngrams=2,
    ...                             hash_buckets=1024)
    >>> enc = CharCNNEncoder(embed_dim=16, filters=8, kernel_sizes=(3, 5), hash_buckets=1024,
    ...                      hash_dim=8)
    >>> enc(*feats.batch([0, 1])).shape
    torch.Size([2, 24])
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "N_BYTE_IDS",
    "CharCNNEncoder",
    "FeatureSource",
    "TextFeatures",
    "byte_ids",
    "hashed_ngrams",
    "make_optimizers",
]

#: Byte ``b`` has id ``b + 1``; id 0 is padding.
N_BYTE_IDS = 257
#: The word branch reads at most this many characters of a text.
MAX_HASH_CHARS = 20_000
_TOKEN = re.compile(r"\w+|[^\w\s]")


def byte_ids(text: str, max_len: int) -> np.ndarray:
    """The first ``max_len`` UTF-8 bytes of ``text`` as ids ``1..256`` (``int64``)."""
    data = text.encode("utf-8", errors="replace")[:max_len]
    return np.frombuffer(data, dtype=np.uint8).astype(np.int64) + 1


def hashed_ngrams(text: str, n: int, buckets: int) -> np.ndarray:
    """Bucket ids of the lower-cased word 1..``n``-grams of ``text`` (CRC-32 mod ``buckets``).

    Words are runs of letters/digits; each punctuation mark is a word of its own.
    """
    tokens = _TOKEN.findall(text[:MAX_HASH_CHARS].lower())
    grams = list(tokens)
    for k in range(2, n + 1):
        grams += [" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)]
    return np.fromiter(
        (zlib.crc32(g.encode("utf-8")) % buckets for g in grams), dtype=np.int64, count=len(grams)
    )


class FeatureSource(Protocol):
    """Model inputs for a set of texts, served in batches (see :class:`TextFeatures`)."""

    def __len__(self) -> int: ...

    def lengths(self) -> np.ndarray: ...

    def batch(self, index: Any, device: torch.device | str = "cpu") -> tuple[Tensor, ...]: ...


@dataclass
class TextFeatures:
    """Per-text model inputs: byte ids (truncated) and hashed n-gram ids (may be empty)."""

    chars: list[np.ndarray]
    grams: list[np.ndarray]
    min_len: int = 1

    @classmethod
    def encode(
        cls,
        texts: Sequence[str],
        *,
        max_len: int,
        hash_ngrams: int,
        hash_buckets: int,
        min_len: int = 1,
    ) -> TextFeatures:
        """Encode ``texts``; ``hash_ngrams=0`` leaves the word branch empty."""
        chars = [byte_ids(t, max_len) for t in texts]
        empty = np.zeros(0, dtype=np.int64)
        grams = [
            hashed_ngrams(t, hash_ngrams, hash_buckets) if hash_ngrams > 0 else empty for t in texts
        ]
        return cls(chars, grams, min_len)

    def __len__(self) -> int:
        return len(self.chars)

    def lengths(self) -> np.ndarray:
        """Number of byte ids of each text."""
        return np.array([len(c) for c in self.chars], dtype=np.int64)

    def batch(
        self, index: Sequence[int] | np.ndarray, device: torch.device | str = "cpu"
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(byte ids (B, L), lengths (B,), gram ids (T,), gram offsets (B,))`` for ``index``.

        Byte ids are right-padded with 0 to the longest text of the batch (at least
        ``min_len``); the encoder masks the padding, so a text scores the same in any batch.
        """
        idx = [int(i) for i in index]
        lengths = [len(self.chars[i]) for i in idx]
        width = max([self.min_len, *lengths])
        ids = np.zeros((len(idx), width), dtype=np.int64)
        for row, i in enumerate(idx):
            ids[row, : lengths[row]] = self.chars[i]
        grams = [self.grams[i] for i in idx]
        offsets = np.cumsum([0] + [len(g) for g in grams[:-1]], dtype=np.int64)
        flat = np.concatenate(grams) if grams else np.zeros(0, dtype=np.int64)
        return (
            torch.from_numpy(ids).to(device),
            torch.tensor(lengths, dtype=torch.int64, device=device),
            torch.from_numpy(flat.astype(np.int64)).to(device),
            torch.from_numpy(offsets).to(device),
        )


class CharCNNEncoder(nn.Module):
    """Byte embedding -> parallel 1-D convolutions -> masked global max pool, concatenated
    with the mean embedding of hashed word n-grams (when ``hash_dim > 0``).

    Args:
        embed_dim: byte embedding size.
        filters: output channels of each convolution.
        kernel_sizes: widths of the parallel convolutions (odd, "same" padding).
        hash_buckets: rows of the hashed n-gram table.
        hash_dim: size of the n-gram embedding; 0 turns the word branch off.

    The n-gram table has sparse gradients (only the rows in a batch change), so it needs a
    sparse-aware optimizer: see :func:`make_optimizers`.
    """

    def __init__(
        self,
        embed_dim: int = 32,
        filters: int = 64,
        kernel_sizes: Sequence[int] = (3, 5, 7),
        hash_buckets: int = 2**16,
        hash_dim: int = 64,
    ) -> None:
        super().__init__()
        if not kernel_sizes or any(k < 1 or k % 2 == 0 for k in kernel_sizes):
            raise ValueError(f"kernel_sizes must be odd positive widths, got {kernel_sizes}")
        self.embed = nn.Embedding(N_BYTE_IDS, embed_dim, padding_idx=0)
        self.convs = nn.ModuleList(
            nn.Conv1d(embed_dim, filters, int(k), padding=int(k) // 2) for k in kernel_sizes
        )
        self.hash_dim = int(hash_dim)
        self.grams = (
            nn.EmbeddingBag(hash_buckets, hash_dim, mode="mean", sparse=True)
            if hash_dim > 0
            else None
        )
        if self.grams is not None:
            nn.init.normal_(self.grams.weight, std=0.1)
        self.out_dim = filters * len(kernel_sizes) + max(self.hash_dim, 0)

    def forward(self, ids: Tensor, lengths: Tensor, grams: Tensor, offsets: Tensor) -> Tensor:
        """``(B, out_dim)`` text representations."""
        x = self.embed(ids).transpose(1, 2)  # (B, E, L)
        positions = torch.arange(ids.shape[1], device=ids.device)
        pad = positions[None, :] >= lengths.clamp(min=1)[:, None]  # (B, L)
        pooled = [
            F.relu(conv(x)).masked_fill(pad[:, None, :], float("-inf")).amax(dim=2)
            for conv in self.convs
        ]
        if self.grams is not None:
            pooled.append(self.grams(grams, offsets))
        return torch.cat(pooled, dim=1)


def make_optimizers(
    modules: Sequence[nn.Module], lr: float, weight_decay: float
) -> list[torch.optim.Optimizer]:
    """AdamW for the dense parameters of ``modules`` and SparseAdam (same ``lr``, no weight
    decay) for the sparse n-gram tables: a dense update of a 65k-row table every step would
    cost more than the whole CNN."""
    dense: list[nn.Parameter] = []
    sparse: list[nn.Parameter] = []
    for module in modules:
        for m in module.modules():
            own = list(m.parameters(recurse=False))
            is_sparse = isinstance(m, (nn.Embedding, nn.EmbeddingBag)) and m.sparse
            (sparse if is_sparse else dense).extend(own)
    opts: list[torch.optim.Optimizer] = [torch.optim.AdamW(dense, lr=lr, weight_decay=weight_decay)]
    if sparse:
        opts.append(torch.optim.SparseAdam(sparse, lr=lr))
    return opts
