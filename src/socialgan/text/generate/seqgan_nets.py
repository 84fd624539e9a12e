"""SeqGAN's discriminator: a CNN text classifier of real versus generated token sequences.

As in Yu et al. (2017, after Kim 2014): token embedding, parallel 1-d convolutions of
several widths (n-gram detectors), ReLU, max-over-time pooling, a highway layer, dropout,
and a linear layer to one logit (high = real). Smaller than the paper's (widths 1-20 with
100-200 filters each) so that it trains in seconds on a CPU; short posts need no 20-grams.

**Class conditioning** comes for free: the sequences of a conditional generator start with
their ``<label:NAME>`` token (``<bos>`` is dropped, it is the same in every row), so the
discriminator reads the class as the first input token and its narrowest filters see the
class next to the first words. It then judges "a real text *of this class*", and the
generator's reward for a text written under the wrong class's style is low. No separate
label input is needed, and an unconditional model is the same net without the token.

Example:
    >>> import torch
    >>> from socialgan.text.generate.seqgan_nets import CNNDiscriminator
    >>> d = CNNDiscriminator(100, embed_dim=8, filters=4, widths=(2, 3))
    >>> d(torch.ones(5, 7).long()).shape
    torch.Size([5])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from socialgan.text.generate.tokenizer import PAD

__all__ = ["CNNDiscriminator", "Highway"]


class Highway(nn.Module):
    """One highway layer (Srivastava et al. 2015): ``g * relu(W x) + (1 - g) * x`` with the
    gate ``g = sigmoid(W_g x)``; lets the classifier mix pooled features and pass them on."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.transform = nn.Linear(dim, dim)
        self.gate = nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        g = torch.sigmoid(self.gate(x))
        return g * F.relu(self.transform(x)) + (1 - g) * x


class CNNDiscriminator(nn.Module):
    """Token ids ``(B, T)`` -> one "real" logit per row ``(B,)``.

    Args:
        vocab_size: number of token ids (padding is id 0, embedded as zeros).
        embed_dim: token embedding size (64).
        filters: convolution filters per width (32).
        widths: the n-gram widths of the parallel convolutions ((2, 3, 4, 5)).
        dropout: dropout before the output layer (0.25; the paper keeps 75%).

    Rows shorter than the widest filter are padded on the right; max-over-time pooling then
    makes the output independent of how much padding follows the text (a padded position
    still passes through the filters, as in the paper, which pads every text to one length).
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        embed_dim: int = 64,
        filters: int = 32,
        widths: Sequence[int] = (2, 3, 4, 5),
        dropout: float = 0.25,
    ) -> None:
        super().__init__()
        if not widths or min(widths) < 1:
            raise ValueError(f"widths must be positive filter widths, got {list(widths)}")
        self.widths = tuple(int(w) for w in widths)
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.convs = nn.ModuleList(nn.Conv1d(embed_dim, filters, w) for w in self.widths)
        features = filters * len(self.widths)
        self.highway = Highway(features)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(features, 1)

    def forward(self, ids: Tensor) -> Tensor:
        """The logit that each row of ``ids`` is a real text."""
        short = max(self.widths) - ids.shape[1]
        if short > 0:
            ids = F.pad(ids, (0, short), value=PAD)
        x = self.embed(ids).transpose(1, 2)  # (B, E, T) for Conv1d
        pooled = torch.cat([F.relu(conv(x)).amax(2) for conv in self.convs], 1)
        return self.out(self.drop(self.highway(pooled))).squeeze(1)
