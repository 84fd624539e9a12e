"""The language-model nets of the text generators: a GRU and a small causal Transformer.

Both map token ids ``(B, T)`` to next-token logits ``(B, T, V)`` (:meth:`forward`, used by
teacher forcing) and offer the two calls autoregressive sampling needs
(:func:`~socialgan.text.generate.sampling.sample`): :meth:`~LanguageModel.start` reads a
prefix and returns the logits of the next token plus a state, :meth:`~LanguageModel.step`
feeds one more token. The GRU keeps its hidden state (one cheap step per token); the
Transformer's state is the prefix itself, recomputed each step (posts are short, so a key/
value cache would not pay for its code).

Ids are right-padded with ``<pad>`` = 0 and padding is never attended to by a real position:
the GRU reads left to right and the Transformer's mask is causal, so the logits of the real
positions do not depend on the padding after them.

Example:
    >>> import torch
    >>> from socialgan.text.generate import GRULanguageModel
    >>> GRULanguageModel(100, embed_dim=8, hidden_dim=16)(torch.ones(2, 5).long()).shape
    torch.Size([2, 5, 100])
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from socialgan.text.generate.tokenizer import PAD

__all__ = ["MODEL_KINDS", "GRULanguageModel", "LanguageModel", "TransformerLanguageModel"]

MODEL_KINDS = ("gru", "transformer")


class LanguageModel(nn.Module):
    """Base class: ``forward(ids) -> logits`` plus the incremental ``start``/``step`` pair.

    The default ``start``/``step`` recompute :meth:`forward` on the whole prefix; a model
    with a recurrent state overrides them.
    """

    vocab_size: int

    def forward(self, ids: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def start(self, prefix: Tensor) -> tuple[Tensor, Any]:
        """Logits ``(B, V)`` of the token after ``prefix`` ``(B, P)``, and the state."""
        return self(prefix)[:, -1], prefix

    def step(self, token: Tensor, state: Any) -> tuple[Tensor, Any]:
        """Logits ``(B, V)`` after one more ``token`` ``(B,)``, and the new state."""
        ids = torch.cat([state, token[:, None]], 1)
        return self(ids)[:, -1], ids

    def select_state(self, state: Any, index: Tensor) -> Any:
        """The state of rows ``index`` only (repeating a row, or dropping finished ones:
        SeqGAN's rollouts do both)."""
        return state[index]


class GRULanguageModel(LanguageModel):
    """Embedding -> stacked GRU -> vocabulary logits, with dropout on both sides of the GRU.

    Args:
        vocab_size: number of token ids.
        embed_dim: size of the token embeddings (128).
        hidden_dim: size of the GRU state (256).
        layers: stacked GRU layers (1); dropout also applies between them.
        dropout: dropout probability (0.1).
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 128,
        hidden_dim: int = 256,
        layers: int = 1,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.drop = nn.Dropout(dropout)
        self.gru = nn.GRU(
            embed_dim,
            hidden_dim,
            num_layers=layers,
            batch_first=True,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.head = nn.Linear(hidden_dim, vocab_size)

    def _run(self, ids: Tensor, h: Tensor | None) -> tuple[Tensor, Tensor]:
        y, h = self.gru(self.drop(self.embed(ids)), h)
        return self.head(self.drop(y)), h

    def forward(self, ids: Tensor) -> Tensor:
        """Next-token logits ``(B, T, V)`` of ids ``(B, T)``."""
        return self._run(ids, None)[0]

    def start(self, prefix: Tensor) -> tuple[Tensor, Tensor]:
        # the output layer on the last position only: it dominates the cost of a long prefix
        y, h = self.gru(self.drop(self.embed(prefix)))
        return self.head(self.drop(y[:, -1])), h

    def step(self, token: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
        logits, h = self._run(token[:, None], state)
        return logits[:, -1], h

    def select_state(self, state: Tensor, index: Tensor) -> Tensor:
        return state[:, index]  # (layers, B, hidden)


class TransformerLanguageModel(LanguageModel):
    """A decoder-only Transformer: token + learned position embeddings, pre-norm
    ``nn.TransformerEncoder`` layers under a causal mask, a final LayerNorm, and an output
    layer tied to the token embedding (fewer parameters, better on small corpora).

    Args:
        vocab_size: number of token ids.
        d_model: width of the embeddings and of every layer (128).
        heads: attention heads; must divide ``d_model`` (4).
        layers: Transformer layers (2).
        ff: width of each layer's feed-forward block (512).
        dropout: dropout probability (0.1).
        max_len: longest input it accepts (positions are learned up to it).
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 128,
        heads: int = 4,
        layers: int = 2,
        ff: int = 512,
        dropout: float = 0.1,
        max_len: int = 128,
    ) -> None:
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model={d_model} is not a multiple of heads={heads}")
        self.vocab_size = vocab_size
        self.max_len = max_len
        self.embed = nn.Embedding(vocab_size, d_model, padding_idx=PAD)
        self.pos = nn.Embedding(max_len, d_model)
        self.drop = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            d_model,
            heads,
            ff,
            dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.embed.weight  # tied input/output embeddings
        nn.init.normal_(self.embed.weight, std=0.02)
        nn.init.normal_(self.pos.weight, std=0.02)
        with torch.no_grad():
            self.embed.weight[PAD].zero_()

    def forward(self, ids: Tensor) -> Tensor:
        """Next-token logits ``(B, T, V)`` of ids ``(B, T)``, ``T <= max_len``."""
        t = ids.shape[1]
        if t > self.max_len:
            raise ValueError(f"input of {t} tokens is longer than max_len={self.max_len}")
        pos = torch.arange(t, device=ids.device)
        x = self.drop(self.embed(ids) + self.pos(pos))
        mask = nn.Transformer.generate_square_subsequent_mask(t, device=ids.device)
        y = self.blocks(x, mask=mask, is_causal=True)
        return self.head(self.norm(y))
