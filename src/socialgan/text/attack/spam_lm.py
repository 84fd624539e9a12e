"""The spam language model of the generator attack: tokenizer, payloads, a word-level GRU
LM, its maximum-likelihood pretraining and its constrained sampling.

* **Tokens**: texts are cleaned of HTML (entities, tags), lower-cased and split into words
  and punctuation marks; every link, domain or e-mail address becomes one ``<link>`` token
  (:func:`tokenize`). :func:`detokenize` joins tokens back, the first ``<link>`` becoming
  the message's payload.
* **Payloads**: what a generated message must carry, taken from the training spam
  (:func:`extract_payloads`): its links, or the handle (channel, page or site name) in each.
* **LM**: embedding -> one-layer GRU -> vocabulary logits (:class:`SpamLM`), pretrained by
  teacher forcing (:func:`pretrain_lm`); words seen fewer than ``min_count`` times become
  ``<unk>`` (:func:`build_vocab`).
* **Sampling** (:func:`sample_tokens`): padding, start and unknown tokens are never
  generated, the end token not before ``min_words`` words, ``<link>`` (the payload slot)
  at most once (:func:`logit_mask`).

:mod:`socialgan.text.attack.generator_attack` fine-tunes this LM against a detector and
re-exports the public names here.

Example:
    >>> from socialgan.text.attack.spam_lm import detokenize, extract_payloads, tokenize
    >>> tokenize("Check my channel: http://x.co/chan!!!!")
    ['check', 'my', 'channel', ':', '<link>']
    >>> detokenize(["visit", "<link>", "now", "!"], "x.co")
    'visit x.co now!'
    >>> extract_payloads(["see twitch.tv/sevadus"], kind="handle")
    ['sevadus']
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from socialgan.errors import DataError
from socialgan.text.attack.attacks import check_text_list
from socialgan.text.attack.normalize import split_protected
from socialgan.text.features import web_text

__all__ = [
    "BOS",
    "EOS",
    "LINK",
    "PAD",
    "PAYLOAD_KINDS",
    "SPECIALS",
    "UNK",
    "SpamLM",
    "build_vocab",
    "detokenize",
    "extract_payloads",
    "lm_inputs",
    "logit_mask",
    "pad_batch",
    "prefix_mask",
    "pretrain_lm",
    "sample_tokens",
    "tokenize",
]

#: What a message must carry: a link from the spam, or the handle (channel, page or site
#: name) in such a link, the name a reader is told to look up.
PAYLOAD_KINDS = ("link", "handle")

PAD, BOS, EOS, UNK, LINK = 0, 1, 2, 3, 4
#: The tokens of ids ``PAD, BOS, EOS, UNK, LINK``, first in every vocabulary.
SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>", "<link>"]
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]")
_PUNCT_RUN = re.compile(r"([^\w\s])\1{2,}")
_NO_SPACE_BEFORE = re.compile(r" ([.,!?;:)\]])")
_NO_SPACE_AFTER = re.compile(r"([(\[]) ")
_LINK_TAIL = ".,;:!?)]}>\"'"
_HANDLE = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,24}")
#: Path segments and domain labels that name a site's structure, not its owner.
_NOT_HANDLES = frozenset(
    "www http https user users channel watch pages page photos photo story projects profile "
    "posts post share store apps details refer ref videos video download partners index "
    "torrent news account groups artists preview explore rewards mixtapes itm rover "
    "roverimp offer listing playlist html aspx blogspot facebook youtube google plus "
    "twitter instagram soundcloud tsu twitch gofundme vimeo articles columns sport vote "
    "portfolio pagead aclk".split()
)
_NEG = -1e9  # logit of tokens that are never generated (finite: keeps the KL free of NaN)


# ---------------------------------------------------------------------- tokens and payloads
def tokenize(text: str) -> list[str]:
    """Lower-cased words and punctuation marks; each link becomes ``<link>``."""
    out: list[str] = []
    for chunk, is_link in split_protected(web_text(text).replace("\u2019", "'")):
        if is_link:
            out.append("<link>")
        else:
            out += _WORD.findall(_PUNCT_RUN.sub(r"\1\1\1", chunk.lower()))
    return out


def detokenize(tokens: Sequence[str], payload: str) -> str:
    """Words joined by spaces, no space before closing punctuation; the first ``<link>``
    becomes ``payload``, later ones are dropped; appended when there is none."""
    words: list[str] = []
    placed = False
    for tok in tokens:
        if tok == "<link>":
            if not placed:
                words.append(payload)
                placed = True
        else:
            words.append(tok)
    if not placed:
        words.append(payload)
    text = _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", " ".join(words)))
    return text.strip()


def _handle(link: str) -> str | None:
    """The first owner-like name in a link: a path segment, else the domain's name."""
    rest = re.sub(r"^(?:https?://)?(?:www\d*\.)?", "", link, flags=re.IGNORECASE)
    host, _, path = rest.partition("/")
    path = re.split(r"[?#]", path)[0]
    for seg in path.split("/"):
        if _HANDLE.fullmatch(seg) and seg.lower() not in _NOT_HANDLES:
            return seg
    labels = host.split(".")
    name = labels[-2] if len(labels) >= 2 else ""
    return name if _HANDLE.fullmatch(name) and name.lower() not in _NOT_HANDLES else None


def extract_payloads(texts: Sequence[str], kind: str = "link") -> list[str]:
    """The distinct payloads in ``texts`` (sorted): every link, domain or e-mail address
    (``kind="link"``), or the handle in each link (``"handle"``: ``twitch.tv/sevadus`` ->
    ``sevadus``, ``hackfbaccountlive.com/?ref=1`` -> ``hackfbaccountlive``)."""
    if kind not in PAYLOAD_KINDS:
        raise DataError(f"payload kind must be one of {PAYLOAD_KINDS}, got {kind!r}")
    found = {
        c.rstrip(_LINK_TAIL)
        for t in check_text_list(texts)
        for c, is_link in split_protected(web_text(t))
        if is_link
    }
    if kind == "handle":
        found = {h for link in found if (h := _handle(link))}
    return sorted(found - {""})


def build_vocab(token_lists: Sequence[Sequence[str]], min_count: int) -> list[str]:
    """:data:`SPECIALS`, then the words seen at least ``min_count`` times (most frequent
    first, ties alphabetical); ``<link>`` is a special, never a word."""
    counts = Counter(tok for toks in token_lists for tok in toks if tok != "<link>")
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return [*SPECIALS, *words]


# ---------------------------------------------------------------------- the LM
class SpamLM(nn.Module):
    """Embedding -> one-layer GRU -> vocabulary logits."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD)
        self.gru = nn.GRU(embed_dim, hidden_dim, batch_first=True)
        self.out = nn.Linear(hidden_dim, vocab_size)

    def forward(self, ids: Tensor, h: Tensor | None = None) -> tuple[Tensor, Tensor]:
        y, h = self.gru(self.embed(ids), h)
        return self.out(y), h


def pad_batch(seqs: list[list[int]]) -> Tensor:
    """``(len(seqs), longest)`` token ids, right-padded with ``PAD``."""
    out = torch.full((len(seqs), max(len(s) for s in seqs)), PAD)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(s)
    return out


def lm_inputs(tokens: Tensor) -> Tensor:
    """The teacher-forcing input of target rows ``tokens``: ``BOS``, then all but the last."""
    return torch.cat([torch.full((len(tokens), 1), BOS), tokens[:, :-1]], 1)


def pretrain_lm(
    model: SpamLM,
    seqs: list[list[int]],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    progress: bool = False,
) -> list[float]:
    """Maximum-likelihood training of ``model`` on the id sequences ``seqs`` (each ending in
    ``EOS``): Adam, clipped gradients, batches reshuffled each epoch from ``seed``. Returns
    the mean per-token loss of each epoch."""
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng((seed, 1))
    losses: list[float] = []
    for _ in tqdm(range(epochs), desc="LM pretrain", disable=not progress):
        total, count = 0.0, 0
        for start in range(0, len(seqs), batch_size):
            batch = [seqs[i] for i in rng.permutation(len(seqs))[start : start + batch_size]]
            targets = pad_batch(batch)
            logits, _ = model(lm_inputs(targets))
            loss = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=PAD
            )
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            n_tok = int((targets != PAD).sum())
            total, count = total + float(loss.detach()) * n_tok, count + n_tok
        losses.append(total / max(count, 1))
    return losses


# ---------------------------------------------------------------------- sampling
def logit_mask(
    words_before: Tensor, link_before: Tensor, vocab_size: int, min_words: int
) -> Tensor:
    """Additive logit mask of shape ``words_before.shape + (vocab_size,)``: padding, start
    and unknown tokens are never generated, the end token not before ``min_words`` words,
    and ``<link>`` (the payload slot) at most once."""
    mask = torch.zeros(*words_before.shape, vocab_size)
    mask[..., [PAD, BOS, UNK]] = _NEG
    mask[..., EOS] = mask[..., EOS].masked_fill(words_before < min_words, _NEG)
    mask[..., LINK] = mask[..., LINK].masked_fill(link_before, _NEG)
    return mask


def prefix_mask(tokens: Tensor, is_word: Tensor, min_words: int) -> Tensor:
    """:func:`logit_mask` at every position of ``tokens`` (given the tokens before);
    ``is_word[id]`` tells the vocabulary's words from its punctuation and specials."""
    word = is_word[tokens].long()
    link = (tokens == LINK).long()
    words_before = word.cumsum(1) - word
    link_before = (link.cumsum(1) - link) > 0
    return logit_mask(words_before, link_before, len(is_word), min_words)


@torch.no_grad()
def sample_tokens(
    model: SpamLM,
    n: int,
    gen: torch.Generator,
    *,
    max_len: int,
    min_words: int,
    is_word: Tensor,
) -> Tensor:
    """``(n, T)`` token ids drawn from ``model`` under :func:`logit_mask`, each row ending in
    EOS then PAD (at most ``max_len`` tokens before the end)."""
    model.eval()
    cur = torch.full((n, 1), BOS)
    done = torch.zeros(n, dtype=torch.bool)
    words = torch.zeros(n, dtype=torch.long)
    link = torch.zeros(n, dtype=torch.bool)
    h: Tensor | None = None
    out = []
    for t in range(max_len + 1):
        logits, h = model(cur, h)
        if t == max_len:
            tok = torch.full((n,), EOS)
        else:
            logits = logits[:, -1] + logit_mask(words, link, len(is_word), min_words)
            tok = torch.multinomial(F.softmax(logits, -1), 1, generator=gen).squeeze(1)
        tok = torch.where(done, torch.full_like(tok, PAD), tok)
        out.append(tok)
        done |= tok == EOS
        words += is_word[tok].long()
        link |= tok == LINK
        if bool(done.all()):
            break
        cur = tok[:, None]
    return torch.stack(out, 1)
