"""The nets of the RelGAN-style text GAN (Nie et al., ICLR 2019) and its temperature schedule.

* :class:`RelGANGenerator`: an autoregressive GRU language model over a fixed length ``T``.
  At each position it computes the logits ``o_t``, adds Gumbel noise ``g_t`` and

  - feeds the **hard** token ``y_t = argmax(o_t + g_t)`` back as the next input (a draw
    from ``softmax(o_t)``, the Gumbel-max trick), as RelGAN does;
  - outputs the **soft** one-hot ``softmax(beta * (o_t + g_t))`` for the discriminator, with
    inverse temperature ``beta``: differentiable in the logits, and closer to the hard
    one-hot as ``beta`` grows (:func:`beta_at` anneals it).

  Its language model is the ``GRULanguageModel`` of an MLE-pretrained
  :class:`~socialgan.text.generate.mle.MLETextGenerator` (RelGAN pretrains its generator by
  maximum likelihood), read in the same way: ``<bos> [<label:NAME>]`` first, so a class is
  the class token of the MLE model. The latent ``z`` enters as the initial GRU state
  ``h_0 = W z``, with ``W`` initialised at zero: at the first adversarial step the generator's
  token distribution is exactly the pretrained model's, and ``W`` learns from the first
  gradient on (``dL/dW = dL/dh_0 z^T`` is not zero). RelGAN's relational memory is replaced
  by this GRU, the net the MLE generator already trains.
* :class:`RelGANDiscriminator`: RelGAN's multi-representation CNN. ``S`` embedding matrices
  ``V x E`` (stored side by side as one ``V x S*E`` matrix) multiply the (soft) one-hots, one
  CNN shared by the ``S`` representations (filters of several widths, max over time, ReLU),
  a highway layer, dropout and two linear layers give one logit per representation; the
  ``S`` logits are averaged to the one logit per text the engine's losses take. (RelGAN
  averages the *losses* of the ``S`` logits: the same for the Wasserstein loss, which is
  linear, and a loss of the ensemble logit for the others.) A conditional D adds the
  projection term ``<embed(y), phi(x)>`` (Miyato and Koyama, 2018) to each logit.
* :class:`OneHotBatches`: the real texts as one-hot ``(B, T, V)`` batches, built per batch
  from stored ids, so the corpus is held as ids and D reads real and fake texts alike.

Example:
    >>> import torch
    >>> from socialgan.text.generate import GRULanguageModel
    >>> g = RelGANGenerator(GRULanguageModel(30, 8, 16), seq_len=6, z_dim=4)
    >>> g(torch.randn(2, 4)).shape
    torch.Size([2, 6, 30])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from socialgan.engine import TensorBatches
from socialgan.text.generate.lm import GRULanguageModel, LanguageModel
from socialgan.text.generate.tokenizer import BOS, EOS, PAD, SPECIALS

__all__ = [
    "NoisyStartLM",
    "OneHotBatches",
    "RelGANDiscriminator",
    "RelGANGenerator",
    "beta_at",
    "gumbel_noise",
    "real_token_ids",
]


def beta_at(step: int, total: int, beta_max: float) -> float:
    """RelGAN's ``exp`` schedule of the inverse temperature: ``beta_max ** (step / total)``,
    1 at the first adversarial step and ``beta_max`` at the last (RelGAN uses 100 or 1000)."""
    if total <= 0:
        return float(beta_max)
    return float(beta_max ** (min(max(step, 0), total) / total))


def gumbel_noise(like: Tensor, eps: float = 1e-10) -> Tensor:
    """Standard Gumbel noise ``-log(-log(u))``, ``u ~ U(0, 1)``, shaped like ``like`` (drawn
    from torch's global generator on ``like``'s device, which the engine checkpoints)."""
    u = torch.rand(like.shape, device=like.device, dtype=torch.float32)
    return -torch.log(-torch.log(u + eps) + eps)


class RelGANGenerator(nn.Module):
    """Gumbel-softmax generator over ``seq_len`` positions, around a pretrained GRU LM.

    Args:
        lm: the GRU language model (the MLE generator's net, or a fresh one of its shape).
        seq_len: ``T``, the positions of every output (the text tokens and its ``<eos>``).
        z_dim: size of the latent ``z``; the initial GRU state is ``W z`` (``W`` = 0 at first).
        num_classes: classes of a conditional model (their class tokens follow the specials,
            as :class:`~socialgan.text.generate.tokenizer.TextTokenizer` lays them out).
        banned: ids never generated (padding, ``<bos>``, ``<unk>``, class tokens), as in
            :func:`~socialgan.text.generate.sampling.sample`.

    ``forward(z, y=None)`` returns ``(B, T, V)`` rows on the simplex. Positions after the
    first hard ``<eos>`` are the ``<pad>`` one-hot, as in the real batches, and carry no
    gradient: whether to stop was decided by the hard token, and the ``<eos>`` position
    itself keeps its soft one-hot, so G still learns where to end. ``beta`` is set from the
    step by the training loop (:func:`beta_at`).
    """

    block: Tensor  # (V,) True for the banned ids
    pad_row: Tensor  # (V,) the <pad> one-hot

    def __init__(
        self,
        lm: GRULanguageModel,
        *,
        seq_len: int,
        z_dim: int,
        num_classes: int = 0,
        banned: Sequence[int] = (),
    ) -> None:
        super().__init__()
        self.lm, self.seq_len, self.z_dim, self.num_classes = lm, seq_len, z_dim, num_classes
        self.vocab_size = lm.vocab_size
        self.beta = 1.0
        gru = lm.gru
        self.noise = nn.Linear(z_dim, gru.num_layers * gru.hidden_size, bias=False)
        nn.init.zeros_(self.noise.weight)
        block = torch.zeros(lm.vocab_size, dtype=torch.bool)
        block[list(banned)] = True
        self.register_buffer("block", block, persistent=False)
        pad_row = F.one_hot(torch.tensor(PAD), lm.vocab_size).float()
        self.register_buffer("pad_row", pad_row, persistent=False)

    def initial_state(self, z: Tensor) -> Tensor:
        """The GRU state ``(layers, B, hidden)`` before ``<bos>``: ``W z``."""
        gru = self.lm.gru
        return self.noise(z).view(z.shape[0], gru.num_layers, gru.hidden_size).transpose(0, 1)

    def prefix(self, n: int, y: Tensor | None, device: torch.device) -> Tensor:
        """``(n, P)`` ids every text starts from: ``<bos>``, then the class token of ``y``."""
        if self.num_classes and y is None:
            raise ValueError("this generator is class-conditional: pass the labels y")
        bos = torch.full((n, 1), BOS, dtype=torch.long, device=device)
        if not self.num_classes or y is None:
            return bos
        return torch.cat([bos, (y.long() + len(SPECIALS)).view(n, 1).to(device)], 1)

    def run(self, ids: Tensor, h: Tensor | None) -> tuple[Tensor, Tensor]:
        """Logits ``(B, L, V)`` after ``ids`` ``(B, L)`` from state ``h``, and the new state
        (the LM's layers without its dropout: RelGAN's generator has none)."""
        out, h = self.lm.gru(self.lm.embed(ids), h)
        return self.lm.head(out), h

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        n, device = z.shape[0], z.device
        logits, h = self.run(self.prefix(n, y, device), self.initial_state(z).contiguous())
        o = logits[:, -1]
        alive = torch.ones(n, dtype=torch.bool, device=device)
        outs: list[Tensor] = []
        for t in range(self.seq_len):
            noisy = o.float().masked_fill(self.block, float("-inf")) + gumbel_noise(o)
            token = noisy.argmax(-1)
            soft = torch.softmax(self.beta * noisy, -1)
            outs.append(torch.where(alive[:, None], soft, self.pad_row))
            alive = alive & (token != EOS)
            if not bool(alive.any()):  # every text has ended: the rest is padding
                outs += [self.pad_row.expand(n, -1)] * (self.seq_len - t - 1)
                break
            if t + 1 < self.seq_len:
                step, h = self.run(token[:, None], h)
                o = step[:, 0]
        return torch.stack(outs, 1)


class NoisyStartLM(LanguageModel):
    """``generator``'s language model with the initial state of the latents ``z``: what
    :func:`~socialgan.text.generate.sampling.sample` draws texts from (the hard tokens of
    :class:`RelGANGenerator` at temperature 1 follow exactly this distribution)."""

    def __init__(self, generator: RelGANGenerator, z: Tensor) -> None:
        super().__init__()
        self.generator, self.z = generator, z
        self.vocab_size = generator.vocab_size
        self.train(generator.training)

    def forward(self, ids: Tensor) -> Tensor:
        return self.generator.run(ids, self.generator.initial_state(self.z).contiguous())[0]

    def start(self, prefix: Tensor) -> tuple[Tensor, Tensor]:
        h0 = self.generator.initial_state(self.z[: prefix.shape[0]]).contiguous()
        logits, h = self.generator.run(prefix, h0)
        return logits[:, -1], h

    def step(self, token: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
        logits, h = self.generator.run(token[:, None], state)
        return logits[:, -1], h


class RelGANDiscriminator(nn.Module):
    """RelGAN's multi-representation CNN discriminator on (soft) one-hots ``(B, T, V)``.

    Args:
        vocab_size: ``V``.
        seq_len: ``T``; every filter width must be at most ``T``.
        num_classes: classes of a conditional model (projection term), 0 for none.
        num_rep: ``S``, the embedded representations (64 in RelGAN).
        rep_dim: ``E``, the size of each representation (1 in RelGAN: 64 dims / 64 reps).
        filter_sizes: widths of the convolutions over time (RelGAN: 2, 3, 4, 5).
        num_filters: filters per width (RelGAN: 300).
        dropout: dropout before the output layers (RelGAN: 0.25).
        feature_dim: size of the feature the logit and the projection read (100).
    """

    def __init__(
        self,
        vocab_size: int,
        seq_len: int,
        *,
        num_classes: int = 0,
        num_rep: int = 64,
        rep_dim: int = 1,
        filter_sizes: Sequence[int] = (2, 3, 4, 5),
        num_filters: int = 300,
        dropout: float = 0.25,
        feature_dim: int = 100,
    ) -> None:
        super().__init__()
        if not filter_sizes or max(filter_sizes) > seq_len or min(filter_sizes) < 1:
            raise ValueError(f"filter sizes {list(filter_sizes)} must be in 1..{seq_len}")
        self.num_classes, self.num_rep = num_classes, num_rep
        self.embed = nn.Linear(vocab_size, num_rep * rep_dim, bias=False)  # S matrices V x E
        nn.init.normal_(self.embed.weight)  # like nn.Embedding: a one-hot picks one row
        self.rep_dim, self.filter_sizes = rep_dim, tuple(filter_sizes)
        # a convolution over time of width k = a linear layer on each window of k positions
        # (the same numbers as RelGAN's Conv2d with a (k, E) kernel and stride E, as one
        # matrix product: several times faster on a CPU)
        self.convs = nn.ModuleList(nn.Linear(k * rep_dim, num_filters) for k in filter_sizes)
        width = num_filters * len(filter_sizes)
        self.highway = nn.Linear(width, width)
        self.drop = nn.Dropout(dropout)
        self.feature = nn.Linear(width, feature_dim)
        self.out = nn.Linear(feature_dim, 1)
        self.class_embed = nn.Embedding(num_classes, feature_dim) if num_classes else None
        if self.class_embed is not None:
            nn.init.normal_(self.class_embed.weight, std=1 / math.sqrt(feature_dim))

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """One logit per text ``(B,)``: the mean of its ``S`` representations' logits."""
        n, t = x.shape[0], x.shape[1]
        emb = self.embed(x).view(n, t, self.num_rep, self.rep_dim).transpose(1, 2)
        emb = emb.reshape(n * self.num_rep, t, self.rep_dim)  # (B*S, T, E)
        pooled = [  # ReLU after the max over time: the same, on fewer numbers
            F.relu(conv(emb.unfold(1, k, 1).flatten(2)).amax(1))  # (B*S, F)
            for k, conv in zip(self.filter_sizes, self.convs, strict=True)
        ]
        h = torch.cat(pooled, 1)  # (B*S, width)
        gate = self.highway(h)
        h = torch.sigmoid(gate) * F.relu(gate) + (1 - torch.sigmoid(gate)) * h
        phi = self.feature(self.drop(h))  # (B*S, feature_dim)
        logits = self.out(phi).squeeze(1)
        if self.class_embed is not None:
            if y is None:
                raise ValueError("this discriminator is class-conditional: pass the labels y")
            proj = self.class_embed(y.long()).repeat_interleave(self.num_rep, 0)
            logits = logits + (proj * phi).sum(1)
        return logits.view(n, self.num_rep).mean(1)


def real_token_ids(seqs: Sequence[Sequence[int]], prefix_len: int, seq_len: int) -> Tensor:
    """``(N, seq_len)`` ids of the real texts D sees: each ``<bos> [<label>] ids <eos>``
    sequence without its prefix, cut to ``seq_len``, ``<pad>`` after it."""
    out = torch.full((len(seqs), seq_len), PAD, dtype=torch.long)
    for i, seq in enumerate(seqs):
        tail = list(seq[prefix_len : prefix_len + seq_len])
        out[i, : len(tail)] = torch.tensor(tail, dtype=torch.long)
    return out


class OneHotBatches:
    """Real texts for D: :class:`~socialgan.engine.TensorBatches` over ids ``(N, T)``, each
    batch returned as float one-hots ``(B, T, V)`` (``<pad>`` after ``<eos>``).

    Deterministic in the batch index like ``TensorBatches``, so resume stays exact.
    """

    def __init__(
        self,
        ids: Tensor,
        labels: Tensor | None,
        *,
        vocab_size: int,
        batch_size: int,
        seed: int,
        device: torch.device | str = "cpu",
    ) -> None:
        self.ids = TensorBatches(ids, labels, batch_size=batch_size, seed=seed, device=device)
        self.vocab_size, self.batch_size = vocab_size, batch_size

    def batch(self, index: int) -> tuple[Tensor, Tensor | None]:
        ids, y = self.ids.batch(index)
        return F.one_hot(ids, self.vocab_size).float(), y
