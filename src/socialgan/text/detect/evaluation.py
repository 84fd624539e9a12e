"""Honest evaluation protocols for text detectors: stratified k-fold, leave-one-group-out,
and fixed train/test splits; metrics are accuracy, macro F1 and ROC AUC (one-vs-rest macro
for more than two classes)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold
from tqdm.auto import tqdm

from socialgan.errors import DataError
from socialgan.text.data import TextDataset
from socialgan.text.detect.detector_api import fit_takes_unlabeled

__all__ = [
    "METRICS",
    "classification_metrics",
    "cross_validate",
    "evaluate_split",
    "format_table",
    "nested_group_selection",
]

METRICS = ("accuracy", "macro_f1", "auc")
_LABELS = {"accuracy": "accuracy", "macro_f1": "macro F1", "auc": "AUC"}
TRANSDUCTIVE = "transductive: the held-out fold's texts are given unlabeled"


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


def _unlabeled(det: Any, test: TextDataset) -> Any:
    """``test`` without its labels, for ``fit(..., unlabeled_texts=...)``: its texts, or a
    frame of texts and metadata when the detector reads ``meta_columns``."""
    if not fit_takes_unlabeled(det):
        raise DataError(
            f"transductive evaluation needs a detector whose fit takes unlabeled_texts; "
            f"{type(det).__name__} does not"
        )
    if test.meta is not None and getattr(det, "meta_columns", None):
        return test.meta.assign(**{getattr(det, "text_column", "text"): list(test.texts)})
    return list(test.texts)


def _fit_score(
    make_detector: Callable[[], Any],
    train: TextDataset,
    test: TextDataset,
    transductive: bool = False,
) -> dict[str, Any]:
    det = make_detector()
    if transductive:
        det.fit(train, unlabeled_texts=_unlabeled(det, test))
    else:
        det.fit(train)
    proba = det.predict_proba(test)
    # Detectors are fitted on label ids; map classes_ back to column = label id.
    full = np.zeros((len(test), len(train.label_names)))
    full[:, np.asarray(det.classes_, dtype=np.int64)] = proba
    out: dict[str, Any] = {
        **classification_metrics(test.labels, full, full.argmax(axis=1)),
        **_selected(det),
    }
    if transductive and hasattr(det, "pseudo_labeled_"):
        out["pseudo_labeled"] = [int(n) for n in det.pseudo_labeled_]
    return out


def _selected(det: Any) -> dict[str, float]:
    """Hyperparameters the detector chose by inner CV (``C_``, ``style_weight_``, or a
    ``selected_`` dict such as ``StackedDetector``'s), if any."""
    chosen = {k: float(getattr(det, k)) for k in ("C_", "style_weight_") if hasattr(det, k)}
    return {**chosen, **{k: float(v) for k, v in getattr(det, "selected_", {}).items()}}


def cross_validate(
    data: TextDataset,
    make_detector: Callable[[], Any],
    *,
    cv: int = 10,
    seed: int = 0,
    groups: bool = False,
    transductive: bool = False,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Fit a fresh detector per fold and average the fold metrics.

    ``groups=False``: ``StratifiedKFold(cv, shuffle=True, random_state=seed)``.
    ``groups=True``: leave one group out (YouTube: one video), ``cv`` ignored.
    ``transductive=True``: each fold's test texts, never their labels, are passed to
    ``fit`` as ``unlabeled_texts`` (unsupervised domain adaptation to the held-out group);
    the detector's ``fit`` must take ``unlabeled_texts``.
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
    if transductive:
        protocol += "; " + TRANSDUCTIVE
    t0 = time.perf_counter()
    fold_results = []
    for train_idx, test_idx in tqdm(
        splits, desc="folds", disable=None if progress is None else not progress
    ):
        result = _fit_score(
            make_detector, data.subset(train_idx), data.subset(test_idx), transductive
        )
        result["n_test"] = len(test_idx)
        if groups:
            assert data.groups is not None
            result["group"] = str(data.groups[test_idx[0]])
        fold_results.append(result)
    out = _summary(data, protocol, fold_results)
    for key in ("C_", "style_weight_"):
        chosen = [r[key] for r in fold_results if key in r]
        if chosen:
            out[f"selected_{key.rstrip('_')}"] = {
                f"{v:g}": chosen.count(v) for v in sorted(set(chosen))
            }
    out["folds"] = fold_results
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def _summary(data: TextDataset, protocol: str, folds: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "protocol": protocol,
        "data": data.name,
        "n": len(data),
        "class_counts": data.class_counts(),
    }
    for m in METRICS:
        values = np.array([r[m] for r in folds], dtype=np.float64)
        out[m] = float(np.nanmean(values))
        out[f"{m}_std"] = float(np.nanstd(values))
    return out


def nested_group_selection(
    data: TextDataset,
    make_detector: Callable[[Any], Any],
    candidates: Sequence[Any],
    *,
    transductive: bool = True,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Leave-one-group-out with a hyperparameter chosen honestly per held-out group.

    For each held-out group, every candidate value is scored by an inner leave-one-group-out
    over the other groups (``cross_validate(..., groups=True, transductive=...)``); the one
    with the best mean inner accuracy (ties: the first) is refitted on all the other groups
    (transductively: with the held-out texts unlabeled) and scored on the held-out group.
    ``make_detector(value)`` builds a detector for a candidate value, e.g.
    ``lambda t: TfidfDetector(self_training_threshold=t)``.
    Returns :func:`cross_validate`'s shape plus ``chosen`` (group -> value); each fold also
    holds ``chosen`` and ``inner_accuracy`` (one per candidate).
    """
    if data.groups is None:
        raise DataError(f"{data.name}: has no groups for leave-one-group-out")
    if not candidates:
        raise ValueError("nested_group_selection needs at least one candidate")
    splits = list(LeaveOneGroupOut().split(data.texts, data.labels, data.groups))
    if len(splits) < 3:
        raise DataError(f"{data.name}: nested leave-one-group-out needs at least 3 groups")
    t0 = time.perf_counter()
    folds = []
    for train_idx, test_idx in tqdm(
        splits, desc="groups", disable=None if progress is None else not progress
    ):
        train, test = data.subset(train_idx), data.subset(test_idx)
        inner = [
            cross_validate(
                train,
                partial(make_detector, value),
                groups=True,
                transductive=transductive,
                progress=False,
            )["accuracy"]
            for value in candidates
        ]
        best = candidates[int(np.argmax(inner))]
        result = _fit_score(partial(make_detector, best), train, test, transductive)
        result.update(
            n_test=len(test_idx),
            group=str(data.groups[test_idx[0]]),
            chosen=best,
            inner_accuracy=inner,
        )
        folds.append(result)
    protocol = (
        f"nested leave-one-group-out over {len(splits)} groups: per held-out group, the "
        f"candidate ({', '.join(map(str, candidates))}) with the best inner leave-one-group-out "
        "accuracy on the other groups is refitted on them; mean over held-out groups"
    )
    if transductive:
        protocol += "; " + TRANSDUCTIVE
    out = _summary(data, protocol, folds)
    out.update(
        candidates=list(candidates),
        chosen={r["group"]: r["chosen"] for r in folds},
        folds=folds,
        seconds=round(time.perf_counter() - t0, 1),
    )
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
    if isinstance(result.get("chosen"), dict):
        chosen.append(", ".join(f"{g} {v}" for g, v in result["chosen"].items()))
    if result.get("selected"):
        chosen = [", ".join(f"{k.rstrip('_')}={v:g}" for k, v in result["selected"].items())]
    if chosen:
        lines.append("\nchosen by inner CV on the training part: " + "; ".join(chosen))
    lines.append(f"\n({result['seconds']}s)")
    return "\n".join(lines)
