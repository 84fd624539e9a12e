"""Judging a text generator the way "Language GANs falling short" (Caccia et al. 2020) asks:
over its whole quality-diversity curve, not at one temperature.

* :func:`temperature_sweep`: samples at each temperature, scored by BLEU-5 against held-out
  real texts (quality), self-BLEU-5 (diversity; lower is more diverse), distinct-2 and FBD.
* :func:`curve_relation`: is a candidate's curve above, below or crossing a baseline's at
  matched diversity (the same self-BLEU-5)?
* :func:`conditional_accuracy`: the share of samples asked for class ``k`` that a classifier
  puts in class ``k``.
* :func:`detectability_auc`: how well a detector, trained and scored by cross-validation,
  tells samples from real texts (0.5: indistinguishable).

Example:
    >>> curve = temperature_sweep(gen, test_texts, (0.7, 1.0, 1.3), n=500)  # doctest: +SKIP
    >>> curve_relation(gan_curve, mle_curve)  # doctest: +SKIP
    'below'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from socialgan.text.data import TextDataset
from socialgan.text.generate.metrics import (
    bleu_scores,
    distinct_n,
    embed_texts,
    fbd,
    mauve_score,
    self_bleu_scores,
)
from socialgan.text.minilm import SentenceEncoder

__all__ = ["conditional_accuracy", "curve_relation", "detectability_auc", "temperature_sweep"]


def temperature_sweep(
    generator: Any,
    references: Sequence[str],
    temperatures: Sequence[float],
    *,
    n: int = 1000,
    seed: int = 0,
    max_hypotheses: int = 300,
    top_p: float = 1.0,
    encoder: SentenceEncoder | None = None,
    with_mauve: bool = False,
    reference_features: np.ndarray | None = None,
    other_features: dict[str, np.ndarray] | None = None,
) -> list[dict[str, float]]:
    """One record per temperature: ``temperature``, ``bleu5`` (samples vs ``references``),
    ``self_bleu5``, ``distinct2``, ``fbd`` (and ``mauve`` when ``with_mauve``), from ``n``
    samples drawn with ``seed``; BLEU scores use ``max_hypotheses`` samples each.

    ``other_features`` (name -> embeddings of another real set, e.g. a validation split)
    adds ``fbd_<name>`` for the same samples: a temperature can be chosen on validation
    without drawing and embedding them twice."""
    ref_feats = (
        reference_features if reference_features is not None else embed_texts(references, encoder)
    )
    out = []
    for t in temperatures:
        samples = generator.sample(n, seed=seed, temperature=float(t), top_p=top_p)
        feats = embed_texts(samples, encoder)
        rec = {
            "temperature": float(t),
            "bleu5": bleu_scores(samples, references, (5,), max_hypotheses=max_hypotheses)["bleu5"],
            "self_bleu5": self_bleu_scores(samples, (5,), max_hypotheses=max_hypotheses)[
                "self_bleu5"
            ],
            "distinct2": distinct_n(samples, 2),
            "fbd": fbd(feats, ref_feats),
        }
        for name, other in (other_features or {}).items():
            rec[f"fbd_{name}"] = fbd(feats, other)
        if with_mauve:
            rec["mauve"] = mauve_score(ref_feats, feats, seed=seed)
        out.append(rec)
    return out


def _interp(curve: Sequence[dict[str, float]], x: str, y: str) -> tuple[np.ndarray, np.ndarray]:
    pts = sorted((float(r[x]), float(r[y])) for r in curve)
    xs = np.array([p[0] for p in pts])
    ys = np.array([p[1] for p in pts])
    return xs, ys


def curve_relation(
    candidate: Sequence[dict[str, float]],
    baseline: Sequence[dict[str, float]],
    *,
    x: str = "self_bleu5",
    y: str = "bleu5",
    grid: int = 50,
    tolerance: float = 1e-3,
) -> str:
    """``"above"``, ``"below"`` or ``"crosses"``: the candidate's ``y`` against the
    baseline's at the same ``x``, over the overlap of their ``x`` ranges (piecewise-linear
    interpolation of each curve sorted by ``x``; gaps within ``tolerance`` count as equal).
    ``"disjoint"`` when the ranges do not overlap: no matched-diversity comparison exists.
    """
    cx, cy = _interp(candidate, x, y)
    bx, by = _interp(baseline, x, y)
    lo, hi = max(cx.min(), bx.min()), min(cx.max(), bx.max())
    if lo > hi:
        return "disjoint"
    at = np.linspace(lo, hi, grid) if hi > lo else np.array([lo])
    diff = np.interp(at, cx, cy) - np.interp(at, bx, by)
    if (diff >= -tolerance).all():
        return "above"
    if (diff <= tolerance).all():
        return "below"
    return "crosses"


def conditional_accuracy(
    generator: Any,
    classifier: Any,
    label_names: Sequence[str],
    *,
    n_per_class: int = 200,
    seed: int = 0,
    temperature: float = 1.0,
    top_p: float = 1.0,
) -> dict[str, float]:
    """Per class and overall (``"mean"``): the share of ``n_per_class`` samples asked for a
    class that ``classifier.predict`` assigns to it. The classifier's classes must be
    ``label_names`` in order (label ids 0..K-1)."""
    out: dict[str, float] = {}
    for k, name in enumerate(label_names):
        texts = generator.sample(
            n_per_class, seed=seed + k, label=name, temperature=temperature, top_p=top_p
        )
        pred = np.asarray(classifier.predict(texts))
        out[name] = float((pred == k).mean()) if len(pred) else float("nan")
    out["mean"] = float(np.mean([out[n] for n in label_names]))
    return out


def detectability_auc(
    samples: Sequence[str],
    real: Sequence[str],
    make_detector: Callable[[], Any],
    *,
    cv: int = 5,
    seed: int = 0,
) -> float:
    """ROC AUC of ``make_detector()`` at telling ``samples`` (label 1) from ``real`` texts
    (label 0), by stratified ``cv``-fold cross-validation (equal numbers of each: the larger
    set is subsampled with ``seed``)."""
    from socialgan.text.detect.evaluation import cross_validate

    rng = np.random.default_rng(seed)
    m = min(len(samples), len(real))
    fake = [samples[i] for i in rng.permutation(len(samples))[:m]]
    true = [real[i] for i in rng.permutation(len(real))[:m]]
    data = TextDataset(true + fake, np.array([0] * m + [1] * m), ["real", "generated"])
    return float(cross_validate(data, make_detector, cv=cv, seed=seed, progress=False)["auc"])
