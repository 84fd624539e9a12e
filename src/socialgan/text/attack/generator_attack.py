"""A generator trained to fool a spam detector: a word-level GRU language model of spam,
fine-tuned by policy gradient against a frozen, black-box detector (SeqGAN-style, Yu et
al. 2017), then the detector hardened on its outputs and attacked again.

The attack, step by step:

1. **Pretrain** (:meth:`GeneratorAttack.pretrain`): a GRU language model learns the
   training spam comments by maximum likelihood (teacher forcing). Texts are cleaned of
   HTML (entities, tags), lower-cased and split into words and punctuation marks; every
   link, domain or e-mail address becomes one ``<link>`` token; words seen fewer than
   ``min_count`` times become ``<unk>``, which is never generated. This frozen copy is the
   *reference* LM.
2. **Payload**: every generated message carries one payload drawn at random from a pool
   taken from the training spam: a link (``payload="link"``, the default: every distinct
   link, domain or e-mail address in it) or a handle (``payload="handle"``: the channel,
   page or site name inside such a link, the name a reader is told to look up), or from
   ``payloads``. The payload fills the ``<link>`` slot, which the model may write at most
   once; a message without it gets the payload appended after a space. So every output
   carries its payload verbatim by construction; the attack is measured on those outputs
   only (``n_with_payload`` counts them, as a check). A message body has at least
   ``min_words`` words besides the payload, so a bare payload is not an attack.
3. **Reinforce** (:meth:`GeneratorAttack.reinforce`): the policy (a copy of the reference
   LM) samples batches of messages; the detector scores the full messages, payload
   included, through ``predict_proba`` only; the reward is ``P(not spam)``. The update is
   REINFORCE with the batch-mean reward as baseline, plus ``kl_coef`` times the exact
   per-token KL divergence from the reference LM on the sampled prefixes, which keeps the
   policy writing spam-like text instead of collapsing onto a few odd strings. The loss is
   :func:`~socialgan.text.generate.policy_gradient.reinforce_loss`, shared with SeqGAN.
4. **Measure** (``generator_attack_report`` in :mod:`socialgan.text.attack.generator_report`):
   attack success = share of generated, payload-carrying messages the detector does *not*
   flag (score below its threshold), for the pretrained LM alone (the "generated spam"
   baseline) and after RL; with distinct-2 (distinct word bigrams / all bigrams) and the
   mean per-token log-likelihood under the reference LM, so a reader can see whether the
   attacker degenerated.
5. **Harden and attack again**: refit a fresh detector on the training data plus a batch
   of the attacker's outputs labelled spam; run a fresh RL phase from the pretrained LM
   against the hardened detector; measure again (and the hardened detector's clean
   accuracy).

Everything runs on the CPU in minutes and is seeded: the same seed gives the same model
and the same texts (single-threaded torch). The tokenizer, the payloads and the language
model itself (pretraining, constrained sampling) are in :mod:`socialgan.text.attack.spam_lm`;
its public names are importable from here too.

Example:
    >>> from socialgan.text import TfidfDetector, load_youtube_spam
    >>> from socialgan.text.attack.generator_attack import GeneratorAttack
    >>> data = load_youtube_spam()
    >>> det = TfidfDetector().fit(data)
    >>> spam = [t for t, y in zip(data.texts, data.labels) if y == 1]
    >>> attack = GeneratorAttack(det, rl_steps=150).fit(spam)
    >>> attack.generate(3, seed=1)
    >>> attack.evaluate(200, seed=2)["success_rate"]
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.exceptions import NotFittedError
from torch import Tensor, nn
from tqdm.auto import tqdm

from socialgan.errors import DataError
from socialgan.text.attack.attacks import check_text_list
from socialgan.text.attack.spam_lm import (
    BOS,  # noqa: F401 (token ids, importable from here as before spam_lm)
    EOS,
    LINK,  # noqa: F401
    PAD,
    PAYLOAD_KINDS,
    UNK,
    SpamLM,
    build_vocab,
    detokenize,
    extract_payloads,
    lm_inputs,
    prefix_mask,
    pretrain_lm,
    sample_tokens,
    tokenize,
)
from socialgan.text.generate.policy_gradient import reinforce_loss

__all__ = [
    "PAYLOAD_KINDS",
    "GeneratorAttack",
    "detokenize",
    "distinct_n",
    "extract_payloads",
    "tokenize",
]


def distinct_n(token_lists: Sequence[Sequence[Any]], n: int = 2) -> float:
    """Distinct ``n``-grams over all ``n``-grams of the given token lists (NaN if none)."""
    grams = [tuple(t[i : i + n]) for t in token_lists for i in range(len(t) - n + 1)]
    return len(set(grams)) / len(grams) if grams else float("nan")


def _spam_scores(detector: Any, texts: list[str]) -> np.ndarray:
    proba = np.asarray(detector.predict_proba(texts), dtype=np.float64)
    if proba.ndim != 2 or proba.shape[0] != len(texts) or proba.shape[1] < 2:
        raise DataError(
            f"{type(detector).__name__}.predict_proba returned shape {proba.shape}; "
            f"expected ({len(texts)}, 2) with column 1 the spam class"
        )
    return proba[:, 1]


def _check_detector(detector: Any) -> None:
    if not callable(getattr(detector, "predict_proba", None)):
        raise DataError(
            f"the detector must have predict_proba(list[str]) -> (n, 2); "
            f"got {type(detector).__name__}"
        )


class GeneratorAttack:
    """A spam generator trained by policy gradient to slip past a frozen detector.

    Args:
        detector: the attacked detector; only ``predict_proba(list[str]) -> (n, 2)``
            (column 1 = spam) is called, and it is never refitted.
        payload: the kind of payload taken from the spam given to :meth:`pretrain` when
            ``payloads`` is not given: ``"link"`` (every distinct link, domain or e-mail
            address) or ``"handle"`` (the channel, page or site name in each link; see
            :func:`extract_payloads`). Default link.
        payloads: the payloads the messages must carry, verbatim (overrides ``payload``).
        max_len: most words (and punctuation marks) per message body. Default 30.
        min_words: fewest words per message body, so that the attacker cannot get away
            with a bare payload. Default 4.
        min_count: words seen fewer times become ``<unk>`` (never generated). Default 2.
        embed_dim, hidden_dim: LM sizes. Default 64, 128.
        pretrain_epochs: MLE epochs over the spam. Default 30.
        batch_size: MLE batch size. Default 64.
        lr: MLE learning rate (Adam). Default 3e-3.
        rl_steps: policy-gradient steps. Default 150.
        rl_batch: messages sampled (and scored by the detector) per RL step. Default 64.
        rl_lr: RL learning rate (Adam). Default 5e-4.
        kl_coef: weight of the per-token KL divergence from the pretrained LM. Default 0.2.
        threshold: a message is flagged when its spam score is at or above it. Default:
            the detector's ``threshold`` attribute, else 0.5.
        seed: seeds initialization, batching and RL sampling. Default 0.
        progress: show progress bars.

    Fitted attributes: ``vocab_`` (id -> token), ``payloads_``, ``reference_`` (the frozen
    pretrained LM), ``policy_`` (the LM after RL), ``pretrain_loss_`` (per epoch) and
    ``history_`` (one dict per RL step: mean reward, share evaded, KL, message length).
    """

    def __init__(
        self,
        detector: Any,
        *,
        payload: str = "link",
        payloads: Sequence[str] | None = None,
        max_len: int = 30,
        min_words: int = 4,
        min_count: int = 2,
        embed_dim: int = 64,
        hidden_dim: int = 128,
        pretrain_epochs: int = 30,
        batch_size: int = 64,
        lr: float = 3e-3,
        rl_steps: int = 150,
        rl_batch: int = 64,
        rl_lr: float = 5e-4,
        kl_coef: float = 0.2,
        threshold: float | None = None,
        seed: int = 0,
        progress: bool = False,
    ) -> None:
        _check_detector(detector)
        for name, value in (
            ("max_len", max_len),
            ("min_count", min_count),
            ("embed_dim", embed_dim),
            ("hidden_dim", hidden_dim),
            ("batch_size", batch_size),
            ("rl_batch", rl_batch),
        ):
            if int(value) < 1:
                raise DataError(f"{name} must be at least 1, got {value}")
        for name, value in (("pretrain_epochs", pretrain_epochs), ("rl_steps", rl_steps)):
            if int(value) < 0:
                raise DataError(f"{name} must be 0 or more, got {value}")
        if not (lr > 0 and rl_lr > 0):
            raise DataError(f"learning rates must be positive, got lr={lr}, rl_lr={rl_lr}")
        if payload not in PAYLOAD_KINDS:
            raise DataError(f"payload must be one of {PAYLOAD_KINDS}, got {payload!r}")
        if not 0 <= int(min_words) <= int(max_len):
            raise DataError(f"min_words must be in [0, max_len={max_len}], got {min_words}")
        if not kl_coef >= 0:
            raise DataError(f"kl_coef must be 0 or more, got {kl_coef}")
        if payloads is not None:
            payloads = check_text_list(payloads)
            if not payloads or not all(p.strip() for p in payloads):
                raise DataError("payloads must be a non-empty list of non-blank strings")
        self.detector = detector
        self.payload = payload
        self.payloads = None if payloads is None else list(payloads)
        self.max_len = int(max_len)
        self.min_words = int(min_words)
        self.min_count = int(min_count)
        self.embed_dim = int(embed_dim)
        self.hidden_dim = int(hidden_dim)
        self.pretrain_epochs = int(pretrain_epochs)
        self.batch_size = int(batch_size)
        self.lr = float(lr)
        self.rl_steps = int(rl_steps)
        self.rl_batch = int(rl_batch)
        self.rl_lr = float(rl_lr)
        self.kl_coef = float(kl_coef)
        self.threshold = float(
            getattr(detector, "threshold", 0.5) if threshold is None else threshold
        )
        self.seed = int(seed)
        self.progress = bool(progress)

    # ------------------------------------------------------------------ training
    def fit(self, spam_texts: Sequence[str]) -> GeneratorAttack:
        """:meth:`pretrain` on ``spam_texts``, then :meth:`reinforce`."""
        return self.pretrain(spam_texts).reinforce()

    def pretrain(self, spam_texts: Sequence[str]) -> GeneratorAttack:
        """Build the vocabulary and the payload pool, train the LM by maximum likelihood."""
        texts = check_text_list(spam_texts)
        token_lists = [tokenize(t)[: self.max_len] for t in texts]
        if not any(token_lists):
            raise DataError("spam_texts holds no words to learn from (empty or blank texts)")
        payloads = self.payloads
        if payloads is None:
            payloads = extract_payloads(texts, self.payload)
            if not payloads:
                raise DataError(
                    f"no {self.payload} in spam_texts to use as a payload "
                    "(links, domains, e-mail addresses); pass payloads=[...]"
                )
        self.vocab_ = build_vocab(token_lists, self.min_count)
        self._index = {tok: i for i, tok in enumerate(self.vocab_)}
        self._is_word = torch.tensor([tok[0].isalnum() for tok in self.vocab_])
        self.payloads_ = list(payloads)
        seqs = [[self._index.get(tok, UNK) for tok in toks] + [EOS] for toks in token_lists]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.reference_ = SpamLM(len(self.vocab_), self.embed_dim, self.hidden_dim)
        self.pretrain_loss_ = pretrain_lm(
            self.reference_,
            seqs,
            epochs=self.pretrain_epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            seed=self.seed,
            progress=self.progress,
        )
        self.reference_.eval().requires_grad_(False)
        self._reset_policy()
        return self

    def _reset_policy(self) -> None:
        self.policy_ = copy.deepcopy(self.reference_).requires_grad_(True)
        self.history_: list[dict[str, float]] = []

    def with_detector(
        self, detector: Any, *, payloads: Sequence[str] | None = None, **params: Any
    ) -> GeneratorAttack:
        """A new attack on ``detector`` that shares this one's pretrained LM and vocabulary,
        with its policy reset to the pretrained LM (then call :meth:`reinforce`).
        ``payloads`` (default: this attack's) and ``params`` (e.g. ``rl_steps``, ``seed``)
        override this attack's settings; the threshold is ``detector``'s unless given."""
        self._check_fitted()
        names = (
            "max_len min_words min_count embed_dim hidden_dim pretrain_epochs batch_size lr "
            "rl_steps rl_batch rl_lr kl_coef seed progress"
        ).split()
        kwargs = {k: getattr(self, k) for k in names}
        kwargs.update(params)
        pool = list(self.payloads_ if payloads is None else payloads)
        other = GeneratorAttack(detector, payloads=pool, **kwargs)
        other.vocab_, other._index, other._is_word = self.vocab_, self._index, self._is_word
        other.payloads_ = pool
        other.reference_, other.pretrain_loss_ = self.reference_, self.pretrain_loss_
        other._reset_policy()
        return other

    def reinforce(self, steps: int | None = None) -> GeneratorAttack:
        """Policy-gradient steps (default ``rl_steps``) from the current policy against the
        detector: REINFORCE on ``P(not spam)`` with a batch-mean baseline, plus the KL
        penalty towards the pretrained LM."""
        self._check_fitted()
        steps = self.rl_steps if steps is None else int(steps)
        if steps < 0:
            raise DataError(f"steps must be 0 or more, got {steps}")
        opt = torch.optim.Adam(self.policy_.parameters(), lr=self.rl_lr)
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + 7 + len(self.history_))
        prng = np.random.default_rng((self.seed, 2, len(self.history_)))
        for _ in tqdm(range(steps), desc="RL vs detector", disable=not self.progress):
            tokens = self._sample(self.policy_, self.rl_batch, gen)
            texts = self._texts(tokens, prng)
            p_ham = torch.as_tensor(1.0 - _spam_scores(self.detector, texts), dtype=torch.float32)
            reward = torch.log(p_ham.clamp(min=1e-6))
            logp, kl, mask = self._logp_kl(tokens)
            loss, stats = reinforce_loss(logp, mask, reward, kl=kl, kl_coef=self.kl_coef)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(self.policy_.parameters(), 1.0)
            opt.step()
            self.history_.append(
                {
                    "reward": float(p_ham.mean()),
                    "evaded": float(np.mean(1.0 - p_ham.numpy() < self.threshold)),
                    "kl": stats["kl"],
                    "length": float(mask.sum(1).mean()),
                }
            )
        return self

    # ------------------------------------------------------------------ sampling
    def _check_fitted(self) -> None:
        if not hasattr(self, "reference_"):
            raise NotFittedError("this GeneratorAttack is not fitted yet: call fit() or pretrain()")

    def _prefix_mask(self, tokens: Tensor) -> Tensor:
        """:func:`~socialgan.text.attack.spam_lm.prefix_mask` with this attack's vocabulary."""
        return prefix_mask(tokens, self._is_word, self.min_words)

    def _sample(self, model: SpamLM, n: int, gen: torch.Generator) -> Tensor:
        """``(n, T)`` token ids from ``model``, each row ending in EOS then PAD (at most
        ``max_len`` tokens before the end)."""
        return sample_tokens(
            model, n, gen, max_len=self.max_len, min_words=self.min_words, is_word=self._is_word
        )

    def _logp_kl(self, tokens: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Per-token log-probability of ``tokens`` under the policy (with gradient), the
        per-token KL(policy || reference), and the mask of real (non-pad) tokens."""
        self.policy_.train()
        inputs = lm_inputs(tokens)
        mask = self._prefix_mask(tokens)
        logp_all = F.log_softmax(self.policy_(inputs)[0] + mask, -1)
        with torch.no_grad():
            logq_all = F.log_softmax(self.reference_(inputs)[0] + mask, -1)
        logp = logp_all.gather(-1, tokens[..., None]).squeeze(-1)
        kl = (logp_all.exp() * (logp_all - logq_all)).sum(-1)
        return logp, kl, (tokens != PAD).float()

    def _texts(self, tokens: Tensor, rng: np.random.Generator) -> list[str]:
        picks = rng.integers(len(self.payloads_), size=len(tokens))
        return [
            detokenize(self._words(row), self.payloads_[int(k)])
            for row, k in zip(tokens.tolist(), picks, strict=True)
        ]

    def _words(self, row: Sequence[int]) -> list[str]:
        return [self.vocab_[i] for i in row if i not in (PAD, EOS)]

    def _sample_texts(self, n: int, seed: int, pretrained: bool) -> tuple[Tensor, list[str]]:
        self._check_fitted()
        if int(n) < 1:
            raise DataError(f"n must be at least 1, got {n}")
        gen = torch.Generator().manual_seed(int(seed))
        tokens = self._sample(self.reference_ if pretrained else self.policy_, int(n), gen)
        return tokens, self._texts(tokens, np.random.default_rng((int(seed), 3)))

    def generate(self, n: int, seed: int = 0, *, pretrained: bool = False) -> list[str]:
        """``n`` payload-carrying messages from the RL policy (``pretrained=True``: from the
        pretrained LM). The same seed gives the same messages."""
        return self._sample_texts(n, seed, pretrained)[1]

    def evaluate(self, n: int = 300, seed: int = 0, *, pretrained: bool = False) -> dict[str, Any]:
        """Generate ``n`` messages and measure them against the detector.

        Returns a dict: ``n``, ``n_with_payload``, ``success_rate`` (share of the
        payload-carrying messages not flagged), ``mean_spam_score``, ``distinct_2``,
        ``lm_logprob_per_token`` (mean per-token log-likelihood, end token included, under
        the pretrained LM), ``mean_words`` (words per body, punctuation and payload not
        counted) and ``texts``.
        """
        tokens, texts = self._sample_texts(n, seed, pretrained)
        has_payload = np.array([any(p in t for p in self.payloads_) for t in texts])
        scores = _spam_scores(self.detector, texts)
        carried = scores[has_payload]
        with torch.no_grad():
            logq = F.log_softmax(
                self.reference_(lm_inputs(tokens))[0] + self._prefix_mask(tokens), -1
            )
            ll = logq.gather(-1, tokens[..., None]).squeeze(-1)[tokens != PAD].mean()
        words = [self._words(row) for row in tokens.tolist()]
        return {
            "n": len(texts),
            "n_with_payload": int(has_payload.sum()),
            "success_rate": float(np.mean(carried < self.threshold))
            if len(carried)
            else float("nan"),
            "mean_spam_score": float(np.mean(carried)) if len(carried) else float("nan"),
            "distinct_2": distinct_n(words, 2),
            "lm_logprob_per_token": float(ll),
            "mean_words": float(self._is_word[tokens].sum(1).float().mean()),
            "texts": texts,
        }
