"""Metrics for generated short texts (tweets, comments): n-gram overlap, diversity and
distances between embedding distributions.

What each number answers:

- **BLEU-n** (:func:`bleu_scores`), Texygen protocol (Zhu et al. 2018): are the samples
  made of n-grams that real texts use? Each hypothesis is scored with
  ``nltk.translate.bleu_score.sentence_bleu`` against *all* references, uniform weights
  ``(1/n, ..., 1/n)``, ``SmoothingFunction().method1``; the score is the mean over
  hypotheses. Higher is better, but a model that copies its training set gets a perfect
  score, so read it next to the diversity numbers.
- **Self-BLEU-n** (:func:`self_bleu_scores`): do the samples repeat each other? The same
  protocol with each sample as hypothesis and all *other* samples as references. Texygen's
  implementation left the hypothesis among its own references, which pushes every value
  towards 1; here it never is. Lower is more diverse.
- **distinct-n** (:func:`distinct_n`, Li et al. 2016): unique n-grams / all n-grams over the
  whole sample set. Higher is more diverse.
- **FBD** (:func:`fbd`): the Fréchet distance between Gaussians fitted to the samples' and
  the references' sentence embeddings, here in all-MiniLM-L6-v2 space (384-d, see
  :mod:`socialgan.text.minilm`). Lower is better; only comparable with FBD values computed
  with the same encoder and the same sample sizes (it is biased upwards for small N).
- **MAUVE** (:func:`mauve_score`, Pillutla et al. 2021): the area under the divergence
  frontier between the two embedding distributions, quantised by k-means. In (0, 1],
  higher is better.

All texts are tokenised by :func:`tokenize_for_bleu` (no nltk tokenizer data needed).

Example:
    >>> bleu(["the cat sat"], ["the cat sat", "a dog ran"], n=2)
    1.0
    >>> distinct_n(["a b a b"], 2)  # bigrams ab, ba, ab: 2 unique of 3
    0.6666666666666666
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Literal

import numpy as np
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from nltk.util import ngrams

from socialgan.image.metrics.fld import fld
from socialgan.text.minilm import MissingExtraError, SentenceEncoder

__all__ = [
    "bleu",
    "bleu_scores",
    "distinct_n",
    "embed_texts",
    "fbd",
    "generation_report",
    "mauve_score",
    "self_bleu",
    "self_bleu_scores",
    "tokenize_for_bleu",
]

#: BLEU orders reported by default (Texygen reports BLEU-2 to BLEU-5).
DEFAULT_ORDERS: tuple[int, ...] = (2, 3, 4, 5)

# Alternatives are tried in order: a link, an @handle or #tag, a word (with inner
# apostrophes, so "don't" stays one token), else one punctuation mark or symbol.
_TOKEN = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|\w+(?:'\w+)*|[^\w\s]")
_SMOOTHING = SmoothingFunction().method1


def tokenize_for_bleu(text: str) -> list[str]:
    """Lower-cased tokens of ``text`` for the n-gram metrics.

    Tokens are words (``don't`` is one token), ``@handles`` and ``#tags`` (kept whole, with
    their sign), links (``http://...``, ``www....``, one token each) and single punctuation
    marks or symbols (``"!!"`` is two tokens). A plain regular expression, so the metrics need
    no nltk tokenizer data and give the same tokens on every machine; numbers are not
    comparable with papers that used ``nltk.word_tokenize``.

    Example:
        >>> tokenize_for_bleu("Don't miss the #GAN talk, @Bob!! http://x.co/t")
        ["don't", 'miss', 'the', '#gan', 'talk', ',', '@bob', '!', '!', 'http://x.co/t']
    """
    return _TOKEN.findall(text.lower())


def _check_orders(orders: Sequence[int]) -> tuple[int, ...]:
    out = tuple(dict.fromkeys(int(n) for n in orders))
    if not out or min(out) < 1:
        raise ValueError(f"orders must be a non-empty sequence of n >= 1, got {tuple(orders)}")
    return out


def _subsample(n_items: int, max_items: int | None, seed: int) -> np.ndarray:
    """Sorted indices of at most ``max_items`` of ``n_items``, drawn without replacement."""
    if max_items is None or max_items >= n_items:
        return np.arange(n_items)
    if max_items < 1:
        raise ValueError(f"max_hypotheses must be >= 1 or None, got {max_items}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_items, size=max_items, replace=False))


def _sentence_bleus(
    references: list[list[str]], hypothesis: list[str], orders: tuple[int, ...]
) -> list[float]:
    """BLEU-n of one hypothesis for every n in ``orders``, in one nltk call (the modified
    n-gram precisions are computed once, up to the largest order)."""
    weights = [tuple([1.0 / n] * n) for n in orders]
    scores = sentence_bleu(references, hypothesis, weights=weights, smoothing_function=_SMOOTHING)
    if not isinstance(scores, list):  # nltk returns a bare number for a single weight tuple
        scores = [scores]
    return [float(s) for s in scores]


def bleu_scores(
    hypotheses: Sequence[str],
    references: Sequence[str],
    orders: Sequence[int] = DEFAULT_ORDERS,
    *,
    max_hypotheses: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Texygen BLEU-n of ``hypotheses`` against ``references``, for each n in ``orders``.

    Each hypothesis is scored by ``sentence_bleu`` against all references (uniform weights,
    smoothing ``method1``) and the scores are averaged over hypotheses. nltk's cost grows
    with (hypotheses x references), so ``max_hypotheses`` scores only a random subset of
    that many hypotheses (drawn without replacement with ``seed``, so the subset is
    reproducible); the reference set is always used whole, so the mean stays an unbiased
    estimate of the full one, only noisier. All orders come from one nltk pass per
    hypothesis (about 85 ms against 2,000 short references on one CPU core), so asking for
    four orders costs about the same as asking for one.

    Args:
        hypotheses: generated texts.
        references: real texts (e.g. a held-out test split).
        orders: the n of each BLEU-n (default 2, 3, 4, 5).
        max_hypotheses: score at most this many hypotheses (default: all).
        seed: seed of the hypothesis subsample.

    Returns:
        ``{"bleu2": ..., "bleu3": ..., ...}``, each in [0, 1].
    """
    orders = _check_orders(orders)
    if not hypotheses:
        raise ValueError("bleu: no hypotheses")
    if not references:
        raise ValueError("bleu: no references")
    refs = [tokenize_for_bleu(t) for t in references]
    idx = _subsample(len(hypotheses), max_hypotheses, seed)
    totals = np.zeros(len(orders))
    for i in idx:
        totals += _sentence_bleus(refs, tokenize_for_bleu(hypotheses[i]), orders)
    return {f"bleu{n}": float(s / len(idx)) for n, s in zip(orders, totals, strict=True)}


def bleu(
    hypotheses: Sequence[str],
    references: Sequence[str],
    n: int,
    *,
    max_hypotheses: int | None = None,
    seed: int = 0,
) -> float:
    """Texygen BLEU-``n`` of ``hypotheses`` against ``references``; see :func:`bleu_scores`
    (which computes several orders for the price of one)."""
    return bleu_scores(hypotheses, references, (n,), max_hypotheses=max_hypotheses, seed=seed)[
        f"bleu{n}"
    ]


def self_bleu_scores(
    samples: Sequence[str],
    orders: Sequence[int] = DEFAULT_ORDERS,
    *,
    max_hypotheses: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Self-BLEU-n of ``samples`` for each n in ``orders``: each sample is scored against all
    the *other* samples (never itself: that was Texygen's bug), then averaged.

    ``max_hypotheses`` and ``seed`` subsample the scored samples exactly as in
    :func:`bleu_scores`; each of them is still compared with all the others.

    Returns:
        ``{"self_bleu2": ..., ...}``, each in [0, 1]; lower means more diverse samples.
    """
    orders = _check_orders(orders)
    if len(samples) < 2:
        raise ValueError(f"self-BLEU needs at least 2 samples, got {len(samples)}")
    toks = [tokenize_for_bleu(t) for t in samples]
    idx = _subsample(len(toks), max_hypotheses, seed)
    totals = np.zeros(len(orders))
    for i in idx:
        totals += _sentence_bleus(toks[:i] + toks[i + 1 :], toks[i], orders)
    return {f"self_bleu{n}": float(s / len(idx)) for n, s in zip(orders, totals, strict=True)}


def self_bleu(
    samples: Sequence[str],
    n: int,
    *,
    max_hypotheses: int | None = None,
    seed: int = 0,
) -> float:
    """Self-BLEU-``n`` of ``samples``; see :func:`self_bleu_scores`."""
    return self_bleu_scores(samples, (n,), max_hypotheses=max_hypotheses, seed=seed)[
        f"self_bleu{n}"
    ]


def distinct_n(texts: Sequence[str], n: int) -> float:
    """distinct-``n`` (Li et al. 2016): unique n-grams / total n-grams, pooled over all
    ``texts`` (n-grams never cross a text boundary). 0.0 when there are no n-grams."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    grams = [g for t in texts for g in ngrams(tokenize_for_bleu(t), n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def fbd(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """FBD, "Fréchet BERT distance": the squared Fréchet distance between Gaussians fitted
    (mean, unbiased covariance) to two ``(N, D)`` sentence-embedding sets, here
    all-MiniLM-L6-v2 embeddings from :func:`embed_texts`. Symmetric, 0 for identical sets,
    lower is better.

    The computation is the project's image FLD (:func:`socialgan.image.metrics.fld.fld`),
    which works on any plain feature arrays: the matrix square root comes from symmetric
    eigendecompositions, so the result is always real and singular covariances (N < D, as
    with a few hundred 384-d embeddings) need no epsilon on the diagonal.
    """
    return fld(feats_a, feats_b)


def mauve_score(
    feats_p: np.ndarray,
    feats_q: np.ndarray,
    *,
    seed: int = 0,
    num_buckets: int | Literal["auto"] = "auto",
    mauve_scaling_factor: float = 5.0,
) -> float:
    """MAUVE between two ``(N, D)`` feature sets (``p``: human texts, ``q``: model texts),
    computed by the reference implementation (``mauve.compute_mauve``, package
    ``mauve-text``) on the CPU.

    The library normalises and PCA-reduces the features, quantises ``p`` and ``q`` jointly
    into ``num_buckets`` k-means clusters (``"auto"``: N/10) and integrates the divergence
    frontier. ``mauve_scaling_factor`` is the library's default, 5; like ``num_buckets`` it
    changes the values, so keep both fixed when comparing models. ``seed`` seeds k-means.

    Raises:
        MissingExtraError: ``mauve-text`` (or its ``faiss-cpu``) is not installed.
    """
    try:
        import mauve
    except ImportError:
        raise MissingExtraError(
            "MAUVE needs the packages mauve-text and faiss-cpu; run: pip install 'socialgan[text]'"
        ) from None
    out = mauve.compute_mauve(
        p_features=np.asarray(feats_p, dtype=np.float32),
        q_features=np.asarray(feats_q, dtype=np.float32),
        num_buckets=num_buckets,
        mauve_scaling_factor=mauve_scaling_factor,
        device_id=-1,
        verbose=False,
        seed=seed,
    )
    return float(out.mauve)


@functools.cache
def _default_encoder() -> SentenceEncoder:
    return SentenceEncoder()


def embed_texts(texts: Sequence[str], encoder: SentenceEncoder | None = None) -> np.ndarray:
    """``(len(texts), 384)`` all-MiniLM-L6-v2 embeddings (float32 unit vectors), the feature
    space of :func:`fbd` and :func:`mauve_score`. Without ``encoder`` a default
    :class:`~socialgan.text.minilm.SentenceEncoder` is built on first use and reused."""
    return (encoder or _default_encoder()).encode(texts)


def generation_report(
    samples: Sequence[str],
    references: Sequence[str],
    *,
    train_texts: Sequence[str] | None = None,
    encoder: SentenceEncoder | None = None,
    orders: Sequence[int] = DEFAULT_ORDERS,
    max_hypotheses: int | None = 500,
    seed: int = 0,
) -> dict[str, float | int]:
    """Every metric of this module for one set of generated ``samples``.

    Keys: ``bleu{n}`` (samples vs ``references``) and ``self_bleu{n}`` for each n in
    ``orders``, ``distinct1``, ``distinct2``, ``fbd`` and ``mauve`` (samples vs references in
    MiniLM space), ``n_samples``, ``n_references``; with ``train_texts``, also ``copy_rate``:
    the share of samples whose tokens equal those of a training text (memorisation, which
    BLEU rewards).

    The real-vs-real floor, what a perfect generator would score at these sample sizes, is
    the same report with a held-out set of real texts in place of ``samples``: no model
    should be expected to beat it, and FBD/MAUVE are only meaningful next to it.

    Args:
        samples: generated texts.
        references: real texts the samples are compared with (e.g. the test split).
        train_texts: the generator's training texts, for ``copy_rate`` (default: skipped).
        encoder: sentence encoder for FBD and MAUVE (default: a shared all-MiniLM-L6-v2).
        orders: BLEU orders (default 2, 3, 4, 5).
        max_hypotheses: hypotheses scored per BLEU and self-BLEU (default 500; ``None``: all).
        seed: seed of the BLEU subsamples and of MAUVE's k-means.
    """
    report: dict[str, float | int] = {}
    report.update(
        bleu_scores(samples, references, orders, max_hypotheses=max_hypotheses, seed=seed)
    )
    report.update(self_bleu_scores(samples, orders, max_hypotheses=max_hypotheses, seed=seed))
    report["distinct1"] = distinct_n(samples, 1)
    report["distinct2"] = distinct_n(samples, 2)
    feats_q = embed_texts(samples, encoder)
    feats_p = embed_texts(references, encoder)
    report["fbd"] = fbd(feats_q, feats_p)
    report["mauve"] = mauve_score(feats_p, feats_q, seed=seed)
    report["n_samples"] = len(samples)
    report["n_references"] = len(references)
    if train_texts is not None:
        seen = {tuple(tokenize_for_bleu(t)) for t in train_texts}
        report["copy_rate"] = sum(tuple(tokenize_for_bleu(s)) in seen for s in samples) / len(
            samples
        )
    return report
