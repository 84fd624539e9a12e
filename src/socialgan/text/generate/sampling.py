"""Autoregressive sampling from a :class:`~socialgan.text.generate.lm.LanguageModel`.

Each row starts from its prefix (``<bos>``, then the class token of a conditional model),
then draws one token at a time from the softmax of the logits divided by ``temperature``,
restricted to the nucleus (the smallest set of most likely tokens whose probability
reaches ``top_p``). A row stops at ``<eos>`` or after ``max_len`` tokens. Banned ids
(padding, ``<bos>``, ``<unk>``, class tokens) are never drawn.

Draws come from the ``torch.Generator`` passed in, on the CPU whatever the model's device,
so the same seed gives the same texts (on the same machine and thread count). SeqGAN's
training draws (:mod:`~socialgan.text.generate.seqgan_train`) use :func:`nucleus_probs` in a
loop built for its many rollouts.

Example:
    >>> import torch
    >>> from socialgan.text.generate import GRULanguageModel, sample
    >>> lm = GRULanguageModel(50, embed_dim=8, hidden_dim=16)
    >>> rows = sample(lm, torch.ones(3, 1).long(), max_len=5, generator=torch.Generator())
    >>> len(rows)
    3
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from socialgan.errors import DataError
from socialgan.text.generate.lm import LanguageModel
from socialgan.text.generate.tokenizer import EOS

__all__ = ["check_sampling", "nucleus_probs", "sample"]


def check_sampling(temperature: float, top_p: float) -> None:
    """``DataError`` unless ``temperature > 0`` and ``0 < top_p <= 1``."""
    if not temperature > 0:
        raise DataError(f"temperature must be > 0, got {temperature}")
    if not 0 < top_p <= 1:
        raise DataError(f"top_p must be in (0, 1], got {top_p}")


def nucleus_probs(logits: Tensor, temperature: float = 1.0, top_p: float = 1.0) -> Tensor:
    """Next-token probabilities ``(B, V)``: softmax of ``logits / temperature`` with the
    tokens outside the ``top_p`` nucleus set to 0 and the rest renormalised. The most
    likely token always stays in."""
    probs = torch.softmax(logits.float() / temperature, -1)
    if top_p >= 1:
        return probs
    sorted_p, order = probs.sort(-1, descending=True)
    outside = sorted_p.cumsum(-1) - sorted_p >= top_p  # mass before the token already enough
    sorted_p = sorted_p.masked_fill(outside, 0.0)
    kept = torch.zeros_like(probs).scatter_(-1, order, sorted_p)
    return kept / kept.sum(-1, keepdim=True)


@torch.no_grad()
def sample(
    model: LanguageModel,
    prefix: Tensor,
    *,
    max_len: int,
    generator: torch.Generator,
    temperature: float = 1.0,
    top_p: float = 1.0,
    banned: Sequence[int] = (),
    eos: int = EOS,
) -> list[list[int]]:
    """Draw one continuation of each prefix row.

    Args:
        model: the language model (put in eval mode for the call, then restored).
        prefix: ``(B, P)`` ids every row starts from (``<bos>`` [+ class token]).
        max_len: most tokens drawn per row (``<eos>`` excluded).
        generator: CPU generator of the draws (seed it for reproducible texts).
        temperature: > 0; below 1 sharpens the distribution, above 1 flattens it.
        top_p: nucleus mass in (0, 1]; 1 samples from the whole vocabulary.
        banned: ids never drawn.
        eos: the id that ends a row.

    Returns:
        For each row the drawn ids, without the prefix and without ``<eos>``.
    """
    check_sampling(temperature, top_p)
    was_training = model.training
    model.eval()
    device = prefix.device
    n = prefix.shape[0]
    block = torch.zeros(model.vocab_size, dtype=torch.bool)
    block[list(banned)] = True
    rows: list[list[int]] = [[] for _ in range(n)]
    done = torch.zeros(n, dtype=torch.bool)
    try:
        logits, state = model.start(prefix)
        for t in range(max_len):
            logits = logits.float().cpu().masked_fill(block, float("-inf"))
            tok = torch.multinomial(
                nucleus_probs(logits, temperature, top_p), 1, generator=generator
            ).squeeze(1)
            for i in torch.nonzero(~done & (tok != eos)).flatten().tolist():
                rows[i].append(int(tok[i]))
            done |= tok == eos
            if bool(done.all()) or t == max_len - 1:
                break
            logits, state = model.step(tok.to(device), state)
    finally:
        model.train(was_training)
    return rows
