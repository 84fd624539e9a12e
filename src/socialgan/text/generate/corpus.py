"""From user texts (and labels) to the id sequences a language model trains on.

A training sequence is ``<bos> [<label:NAME>] t1 ... tn <eos>``: the class token of a
conditional model sits right after ``<bos>``, so generation "given the label" is a plain
continuation of that prefix. Texts longer than ``max_tokens`` tokens are cut and get no
``<eos>`` (the model must not learn that posts end mid-sentence). Teacher forcing predicts
every token after ``<bos>``, except the class token: it is given, not generated, so the
loss and :func:`nll_sum` are conditional on it.

Every check raises :class:`~socialgan.errors.DataError` with the row and what was expected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from socialgan.errors import DataError
from socialgan.text.generate.lm import LanguageModel
from socialgan.text.generate.tokenizer import BOS, EOS, PAD, TextTokenizer

__all__ = [
    "check_texts",
    "corpus_fingerprint",
    "lm_sequences",
    "nll_sum",
    "pad_batch",
    "prepare_corpus",
    "resolve_labels",
    "teacher_forcing",
    "validation_split",
]


def check_texts(texts: Any) -> list[str]:
    """``texts`` as a list of strings; a single string, a non-string row or an empty corpus
    is a ``DataError``."""
    if isinstance(texts, str | bytes):
        raise DataError("texts must be a list of strings, got a single string; wrap it: [text]")
    try:
        rows = list(texts)
    except TypeError:
        raise DataError(f"texts must be a list of strings, got {type(texts).__name__}") from None
    if not rows:
        raise DataError("empty corpus: no texts given")
    for i, text in enumerate(rows):
        if not isinstance(text, str):
            raise DataError(f"text {i}: expected a string, found {type(text).__name__}")
    return rows


def resolve_labels(
    labels: Any, n: int, label_names: Sequence[str] | None = None
) -> tuple[list[str], list[str]]:
    """Each text's label name and the ordered list of names.

    ``labels`` holds class names, or integer ids into ``label_names`` (without
    ``label_names`` an id ``k`` is named ``"k"``). Names are ``label_names`` when given, else
    the distinct labels sorted.
    """
    rows = list(labels)
    if len(rows) != n:
        raise DataError(f"{len(rows)} labels for {n} texts: give one label per text")
    known = [str(x) for x in label_names] if label_names is not None else None
    out: list[str] = []
    for i, value in enumerate(rows):
        if isinstance(value, str):
            name = value
        elif isinstance(value, int | np.integer) and not isinstance(value, bool):
            k = int(value)
            if known is not None and not 0 <= k < len(known):
                raise DataError(f"label {i}: id {k} is not in 0..{len(known) - 1} (label_names)")
            name = known[k] if known is not None else str(k)
        else:
            raise DataError(f"label {i}: expected a class name or id, found {value!r}")
        if known is not None and name not in known:
            raise DataError(f"label {i}: {name!r} is not one of label_names {known}")
        out.append(name)
    names = known if known is not None else sorted(set(out))
    return out, names


def prepare_corpus(
    texts: Any, labels: Any = None, label_names: Any = None
) -> tuple[list[str], list[str] | None, list[str], int]:
    """The training corpus of a generator: ``(texts, their label names or None, the ordered
    label names, how many blank texts were skipped)``. An empty corpus, only blank texts,
    labels that do not match the texts, or a single class is a ``DataError``."""
    rows = check_texts(texts)
    row_labels: list[str] | None = None
    names: list[str] = []
    if labels is not None:
        row_labels, names = resolve_labels(labels, len(rows), label_names)
    keep = [i for i, text in enumerate(rows) if text.strip()]
    if not keep:
        raise DataError(f"all {len(rows)} texts are empty or blank: nothing to learn from")
    skipped = len(rows) - len(keep)
    rows = [rows[i] for i in keep]
    if row_labels is not None:
        row_labels = [row_labels[i] for i in keep]
        if len(set(row_labels)) < 2:
            raise DataError(
                f"labels name a single class ({row_labels[0]!r}): a conditional model needs "
                "at least two; pass labels=None for an unconditional one"
            )
    return rows, row_labels, names, skipped


def corpus_fingerprint(
    texts: Sequence[str], labels: Sequence[str] | None, label_names: Sequence[str]
) -> str:
    """SHA-256 of a prepared corpus: a run resumed on other texts or labels is refused."""
    return hashlib.sha256(json.dumps([list(texts), labels, list(label_names)]).encode()).hexdigest()


def lm_sequences(
    tok: TextTokenizer, texts: Sequence[str], labels: Sequence[str] | None, max_tokens: int
) -> list[list[int]]:
    """``<bos> [<label>] ids <eos>`` of each text (cut to ``max_tokens`` ids, then no
    ``<eos>``)."""
    out = []
    for i, ids in enumerate(tok.encode_batch(texts)):
        head = [BOS] if labels is None else [BOS, tok.label_id(labels[i])]
        tail = ids[:max_tokens] if len(ids) > max_tokens else [*ids, EOS]
        out.append(head + tail)
    return out


def pad_batch(seqs: Sequence[Sequence[int]]) -> Tensor:
    """``(len(seqs), longest)`` ids, right-padded with ``<pad>``."""
    out = torch.full((len(seqs), max(len(s) for s in seqs)), PAD, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(list(s), dtype=torch.long)
    return out


def teacher_forcing(batch: Tensor, prefix_len: int) -> tuple[Tensor, Tensor]:
    """Inputs (all but the last id) and targets (all but the first) of padded sequences;
    targets inside the given prefix (the class token) are masked with ``<pad>``."""
    inputs, targets = batch[:, :-1], batch[:, 1:].clone()
    targets[:, : prefix_len - 1] = PAD
    return inputs, targets


def nll_sum(
    model: LanguageModel,
    seqs: Sequence[Sequence[int]],
    prefix_len: int,
    batch_size: int,
    device: torch.device,
) -> tuple[float, int]:
    """Summed negative log-likelihood (nats) of every predicted token of ``seqs`` (``<eos>``
    included, the class token excluded) and the number of such tokens; eval mode."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        with torch.no_grad():
            for start in range(0, len(seqs), batch_size):
                inputs, targets = teacher_forcing(
                    pad_batch(seqs[start : start + batch_size]), prefix_len
                )
                logits = model(inputs.to(device))
                targets = targets.to(device)
                loss = F.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]).float(),
                    targets.reshape(-1),
                    ignore_index=PAD,
                    reduction="sum",
                )
                total += float(loss)
                count += int((targets != PAD).sum())
    finally:
        model.train(was_training)
    return total, count


def validation_split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded ``(train_index, validation_index)``, both sorted: ``round(fraction * n)``
    texts held out (at least one when ``fraction > 0``, never all)."""
    if not 0 <= fraction < 1:
        raise DataError(f"validation_fraction must be in [0, 1), got {fraction}")
    n_val = 0 if fraction == 0 or n < 2 else min(max(1, round(fraction * n)), n - 1)
    order = np.random.default_rng((seed, 7)).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])
