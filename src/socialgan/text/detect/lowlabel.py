"""Low-label learning curves: how well does a detector do with only a few labels?

Each detector is trained on a stratified fraction of the training labels; detectors whose
``fit`` accepts ``unlabeled_texts`` (semi-supervised ones such as
:class:`~socialgan.text.detect.ssgan.SSGANDetector`) also get the rest of the training texts,
without their labels. The labeled subsets are nested (the 5% subset is inside the 10% one)
so the curve reflects the number of labels, not a lucky draw.

Example:
    >>> from socialgan.text import SSGANDetector, TfidfDetector, load_youtube_spam
    >>> from socialgan.text.detect.lowlabel import format_curve, low_label_curve
    >>> data = load_youtube_spam()
    >>> curve = low_label_curve(SSGANDetector, data.texts, data.labels, fractions=(0.1, 1.0))
    >>> print(format_curve(curve))
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from tqdm.auto import tqdm

from socialgan.errors import DataError
from socialgan.text.data import TextDataset
from socialgan.text.detect.detector_api import fit_takes_unlabeled

__all__ = ["accepts_unlabeled", "format_curve", "low_label_curve", "nested_label_subsets"]


def accepts_unlabeled(detector: Any) -> bool:
    """True when ``detector.fit`` takes an ``unlabeled_texts`` argument and uses it (not a
    ``TfidfDetector`` with ``self_training_rounds=0``)."""
    if getattr(detector, "self_training_rounds", None) == 0:
        return False
    return fit_takes_unlabeled(detector)


def nested_label_subsets(
    y: np.ndarray, fractions: Sequence[float], seed: int
) -> dict[float, np.ndarray]:
    """``{fraction: positions}`` of stratified, nested subsets of ``y``: each class keeps
    its share (largest-remainder rounding, at least one text per class), and the texts of
    a smaller fraction are also in every larger one."""
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    order = {c: rng.permutation(np.flatnonzero(y == c)) for c in classes}
    out: dict[float, np.ndarray] = {}
    previous = np.zeros(len(classes), dtype=np.int64)
    for frac in sorted(fractions):
        want = frac * counts
        take = np.maximum(np.floor(want).astype(np.int64), 1)
        total = max(int(round(frac * len(y))), len(classes))
        remainders = np.argsort(-(want - np.floor(want)), kind="stable")
        for j in remainders:
            if take.sum() >= total:
                break
            if take[j] < counts[j]:
                take[j] += 1
        take = previous = np.minimum(np.maximum(take, previous), counts)
        out[frac] = np.sort(
            np.concatenate([order[c][:n] for c, n in zip(classes, take, strict=True)])
        )
    return out


def _fit(
    detector: Any,
    texts: list[str],
    y: np.ndarray,
    unlabeled: list[str],
    label_names: Sequence[str] | None,
) -> Any:
    kwargs: dict[str, Any] = {}
    params = inspect.signature(detector.fit).parameters
    if label_names is not None and "label_names" in params:
        kwargs["label_names"] = label_names
    if unlabeled and accepts_unlabeled(detector):
        kwargs["unlabeled_texts"] = unlabeled
    return detector.fit(texts, y, **kwargs)


def low_label_curve(
    make_detector: Callable[[], Any],
    texts: Sequence[str] | TextDataset,
    labels: Any = None,
    fractions: Sequence[float] = (0.05, 0.1, 0.25, 1.0),
    *,
    seed: int = 0,
    test_size: float = 0.3,
    cv: int | None = None,
    label_names: Sequence[str] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Accuracy and macro F1 of ``make_detector()`` trained with a fraction of the labels.

    Args:
        make_detector: builds a fresh unfitted detector (a class or a factory) with
            ``fit(texts, y[, unlabeled_texts][, label_names])`` and ``predict(texts)``.
        texts: the texts, or a :class:`TextDataset` (then ``labels`` and ``label_names``
            default to its own).
        labels: one label per text.
        fractions: shares of the training labels to keep, each in ``(0, 1]``.
        seed: seed of the split and of the labeled subsets.
        test_size: held-out share for the single stratified split (when ``cv`` is None).
        cv: stratified ``cv``-fold cross-validation instead of one split (mean over folds).
        label_names: passed to ``fit`` where accepted.
        progress: a tqdm bar over the fits.

    Returns:
        ``{"protocol", "n", "semi_supervised", "rows": [{"fraction", "n_labeled",
        "n_unlabeled", "accuracy", "macro_f1", "accuracy_std", "macro_f1_std", "seconds"}]}``
        (``*_std`` over folds; 0 for a single split).
    """
    if isinstance(texts, TextDataset):
        labels = texts.labels if labels is None else labels
        label_names = texts.label_names if label_names is None else label_names
        texts = texts.texts
    texts = list(texts)
    if labels is None:
        raise DataError("low_label_curve needs labels")
    y = np.asarray(labels)
    if not texts:
        raise DataError("no texts (empty input)")
    if len(y) != len(texts):
        raise DataError(f"{len(y)} labels for {len(texts)} texts")
    fractions = sorted(float(f) for f in fractions)
    if not fractions or any(not 0.0 < f <= 1.0 for f in fractions):
        raise ValueError(f"fractions must be in (0, 1], got {fractions}")
    everything = np.arange(len(texts))
    if cv is None:
        train, test = train_test_split(
            everything, test_size=test_size, stratify=y, random_state=seed
        )
        splits = [(np.sort(train), np.sort(test))]
        protocol = f"one stratified {1 - test_size:.0%}/{test_size:.0%} split (seed {seed})"
    else:
        folds = StratifiedKFold(cv, shuffle=True, random_state=seed)
        splits = list(folds.split(everything, y))
        protocol = f"stratified {cv}-fold CV (seed {seed}); mean over folds"
    semi = accepts_unlabeled(make_detector())
    protocol += "; labels kept for a stratified nested fraction of the training part" + (
        "; the other training texts passed as unlabeled" if semi else ""
    )
    scores: dict[float, list[dict[str, float]]] = {f: [] for f in fractions}
    bar = tqdm(total=len(splits) * len(fractions), desc="fits", disable=not progress)
    for train, test in splits:
        subsets = nested_label_subsets(y[train], fractions, seed)
        test_texts = [texts[i] for i in test]
        for frac in fractions:
            keep = train[subsets[frac]]
            rest = np.setdiff1d(train, keep)
            t0 = time.perf_counter()
            det = _fit(
                make_detector(),
                [texts[i] for i in keep],
                y[keep],
                [texts[i] for i in rest],
                label_names,
            )
            pred = np.asarray(det.predict(test_texts))
            scores[frac].append(
                {
                    "accuracy": float(accuracy_score(y[test], pred)),
                    "macro_f1": float(f1_score(y[test], pred, average="macro")),
                    "n_labeled": float(len(keep)),
                    "n_unlabeled": float(len(rest) if semi else 0),
                    "seconds": time.perf_counter() - t0,
                }
            )
            bar.update()
    bar.close()
    rows = []
    for frac in fractions:
        runs = scores[frac]
        row: dict[str, Any] = {"fraction": frac}
        for key in ("n_labeled", "n_unlabeled", "seconds"):
            row[key] = float(np.mean([r[key] for r in runs]))
        for key in ("accuracy", "macro_f1"):
            values = np.array([r[key] for r in runs])
            row[key], row[f"{key}_std"] = float(values.mean()), float(values.std())
        rows.append(row)
    return {"protocol": protocol, "n": len(texts), "semi_supervised": semi, "rows": rows}


def format_curve(result: dict[str, Any], name: str = "") -> str:
    """A Markdown table of a :func:`low_label_curve` result."""
    lines = [
        f"{name + ': ' if name else ''}{result['protocol']} ({result['n']:,} texts)",
        "",
        "| labels | n labeled | n unlabeled | accuracy | macro F1 | fit s |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['fraction']:.0%} | {r['n_labeled']:.0f} | {r['n_unlabeled']:.0f} | "
            f"{r['accuracy']:.4f} | {r['macro_f1']:.4f} | {r['seconds']:.1f} |"
        )
    return "\n".join(lines)
