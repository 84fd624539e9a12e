"""Honest evaluation protocols for text detectors: stratified k-fold, leave-one-group-out,
and fixed train/test splits; metrics are accuracy, macro F1 and ROC AUC (one-vs-rest macro
for more than two classes)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold
from tqdm.auto import tqdm

from socialgan.errors import DataError
from socialgan.text.data import TextDataset

__all__ = ["METRICS", "classification_metrics", "cross_validate", "evaluate_split", "format_table"]

METRICS = ("accuracy", "macro_f1", "auc")
_LABELS = {"accuracy": "accuracy", "macro_f1": "macro F1", "auc": "AUC"}


def classification_metrics(y: np.ndarray, proba: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Accuracy, macro F1 and AUC (binary ROC AUC; multi-class one-vs-rest macro)."""
    k = proba.shape[1]
    out = {
        "accuracy": float(accuracy_score(y, pred)),
        "macro_f1": float(f1_score(y, pred, average="macro", labels=np.arange(k))),
    }
    try:
        if k == 2:
            out["auc"] = float(roc_auc_score(y, proba[:, 1]))
        else:
            out["auc"] = float(
                roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=np.arange(k))
            )
    except ValueError:  # a fold or group with a single class
        out["auc"] = float("nan")
    return out


def _fit_score(
    make_detector: Callable[[], Any], train: TextDataset, test: TextDataset
) -> dict[str, float]:
    det = make_detector().fit(train)
    proba = det.predict_proba(test)
    # Detectors are fitted on label ids; map classes_ back to column = label id.
    full = np.zeros((len(test), len(train.label_names)))
    full[:, np.asarray(det.classes_, dtype=np.int64)] = proba
    return {**classification_metrics(test.labels, full, full.argmax(axis=1)), **_selected(det)}


def _selected(det: Any) -> dict[str, float]:
    """Hyperparameters the detector chose by inner CV (``C_``, ``style_weight_``), if any."""
    return {k: float(getattr(det, k)) for k in ("C_", "style_weight_") if hasattr(det, k)}


def cross_validate(
    data: TextDataset,
    make_detector: Callable[[], Any],
    *,
    cv: int = 10,
    seed: int = 0,
    groups: bool = False,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Fit a fresh detector per fold and average the fold metrics.

    ``groups=False``: ``StratifiedKFold(cv, shuffle=True, random_state=seed)``.
    ``groups=True``: leave one group out (YouTube: one video), ``cv`` ignored.
    Returns ``{"protocol", "data", "n", "folds": [...], "accuracy", "accuracy_std", ...}``.
    """
    if groups:
        if data.groups is None:
            raise DataError(f"{data.name}: has no groups for leave-one-group-out")
        splits = list(LeaveOneGroupOut().split(data.texts, data.labels, data.groups))
        protocol = f"leave-one-group-out over {len(splits)} groups; mean over held-out groups"
    else:
        min_count = int(np.bincount(data.labels).min())
        if cv < 2 or cv > min_count:
            raise DataError(f"--cv must be between 2 and the smallest class count ({min_count})")
        folds = StratifiedKFold(cv, shuffle=True, random_state=seed)
        splits = list(folds.split(data.texts, data.labels))
        protocol = f"stratified {cv}-fold CV (shuffled, seed {seed}); mean over folds"
    t0 = time.perf_counter()
    fold_results = []
    for train_idx, test_idx in tqdm(
        splits, desc="folds", disable=None if progress is None else not progress
    ):
        result: dict[str, Any] = _fit_score(
            make_detector, data.subset(train_idx), data.subset(test_idx)
        )
        result["n_test"] = len(test_idx)
        if groups:
            assert data.groups is not None
            result["group"] = str(data.groups[test_idx[0]])
        fold_results.append(result)
    out: dict[str, Any] = {
        "protocol": protocol,
        "data": data.name,
        "n": len(data),
        "class_counts": data.class_counts(),
    }
    for m in METRICS:
        values = np.array([r[m] for r in fold_results], dtype=np.float64)
        out[m] = float(np.nanmean(values))
        out[f"{m}_std"] = float(np.nanstd(values))
    for key in ("C_", "style_weight_"):
        chosen = [r[key] for r in fold_results if key in r]
        if chosen:
            out[f"selected_{key.rstrip('_')}"] = {
                f"{v:g}": chosen.count(v) for v in sorted(set(chosen))
            }
    out["folds"] = fold_results
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def evaluate_split(
    train: TextDataset, tests: dict[str, TextDataset], make_detector: Callable[[], Any]
) -> dict[str, Any]:
    """Fit once on ``train`` and score each of ``tests`` (e.g. LIAR valid and test)."""
    t0 = time.perf_counter()
    det = make_detector().fit(train)
    out: dict[str, Any] = {
        "protocol": f"fit on {train.name} ({len(train)}), score the fixed splits "
        + ", ".join(f"{name} ({len(d)})" for name, d in tests.items()),
        "data": train.name,
        "n": len(train),
        "class_counts": train.class_counts(),
        "splits": {},
        "selected": _selected(det),
    }
    for name, test in tests.items():
        proba = det.predict_proba(test)
        full = np.zeros((len(test), len(train.label_names)))
        full[:, np.asarray(det.classes_, dtype=np.int64)] = proba
        out["splits"][name] = classification_metrics(test.labels, full, full.argmax(axis=1))
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def format_table(result: dict[str, Any]) -> str:
    """A Markdown table of a :func:`cross_validate` or :func:`evaluate_split` result."""
    counts = result.get("class_counts")
    about = f"{result['n']:,} texts" + (
        "; " + ", ".join(f"{k} {v:,}" for k, v in counts.items()) if counts else ""
    )
    lines = [f"data: {result['data']} ({about})", f"protocol: {result['protocol']}"]
    if "splits" in result:
        lines += ["", "| split | " + " | ".join(_LABELS[m] for m in METRICS) + " |"]
        lines.append("|---" * (len(METRICS) + 1) + "|")
        for name, r in result["splits"].items():
            lines.append(f"| {name} | " + " | ".join(f"{r[m]:.4f}" for m in METRICS) + " |")
    else:
        lines += ["", "| metric | mean | std |", "|---|---|---|"]
        for m in METRICS:
            lines.append(f"| {_LABELS[m]} | {result[m]:.4f} | {result[m + '_std']:.4f} |")
        if result["folds"] and "group" in result["folds"][0]:
            lines += ["", "| held-out group | n | accuracy |", "|---|---|---|"]
            for r in result["folds"]:
                lines.append(f"| {r['group']} | {r['n_test']} | {r['accuracy']:.4f} |")
    chosen = [
        f"{k[9:]}: " + ", ".join(f"{v} ({n} folds)" for v, n in result[k].items())
        for k in ("selected_C", "selected_style_weight")
        if k in result
    ]
    if result.get("selected"):
        chosen = [", ".join(f"{k.rstrip('_')}={v:g}" for k, v in result["selected"].items())]
    if chosen:
        lines.append("\nchosen by inner CV on the training part: " + "; ".join(chosen))
    lines.append(f"\n({result['seconds']}s)")
    return "\n".join(lines)
