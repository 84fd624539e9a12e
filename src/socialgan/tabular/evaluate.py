"""The report of ``socialgan accounts evaluate``: how good, how useful and how private the
rows of a fitted :class:`~socialgan.tabular.gan.TabularGAN` are.

- **quality** (:mod:`~socialgan.tabular.evaluate_quality`): sdmetrics' QualityReport of the
  synthetic rows against the training rows, column shapes and column pair trends;
- **efficacy** (:mod:`~socialgan.tabular.evaluate_efficacy`): tuned GBM and logistic
  regression trained on the synthetic rows, tested on real held-out rows, beside the same
  trained on the real training rows;
- **privacy** (:mod:`~socialgan.tabular.evaluate_privacy`): distance to the closest
  training row beside held-out rows', exact copies, a membership attack, with warnings;
- **timing**: sampling wall and CPU seconds; the fit's, when the model sits in its run
  folder (``RUN/model``: ``RUN/stats.jsonl``);
- **plots** (:mod:`~socialgan.tabular.evaluate_plots`): ``marginals.png``,
  ``correlations.png``.

:func:`evaluate_tables` compares any synthetic table with the real ones (what
``benchmarks/tabular.py`` does for every synthesizer); :func:`evaluate_model` samples a
model first.

Example:
    >>> from socialgan.tabular import TabularGAN, load_table
    >>> from socialgan.tabular.evaluate import evaluate_model
    >>> gan = TabularGAN.from_pretrained("models/adult-gan")  # doctest: +SKIP
    >>> report = evaluate_model(gan, load_table("adult"), load_table("adult:test"),
    ...                         label="Y", out_dir="eval")  # doctest: +SKIP
    >>> report["quality"]["quality"], report["privacy"]["membership_auc"]  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialgan.errors import DataError
from socialgan.tabular.evaluate_efficacy import efficacy, positive_class
from socialgan.tabular.evaluate_plots import plot_correlations, plot_marginals
from socialgan.tabular.evaluate_privacy import privacy, privacy_warnings
from socialgan.tabular.evaluate_quality import quality_scores, sdmetrics_scores, sdtypes_of
from socialgan.tabular.metadata import as_datetimes, as_numbers

__all__ = [
    "efficacy",
    "evaluate_model",
    "evaluate_tables",
    "fitted_on",
    "holdout_split",
    "model_frame",
    "privacy",
    "sdmetrics_scores",
    "training_seconds",
]

REPORT_FILE = "report.json"
_TRUE, _FALSE = {"true", "yes", "1", "1.0"}, {"false", "no", "0", "0.0"}
MAX_LABEL_CLASSES = 50


# ------------------------------------------------------------------ real rows as the model's
def model_frame(gan: Any, frame: pd.DataFrame, *, source: str = "table") -> pd.DataFrame:
    """``frame``'s modeled columns, read as the model's kinds: numbers and dates parsed,
    booleans from words (true / false, yes / no, 1 / 0), categories typed as the model's
    (``"1"`` -> ``1``). :class:`DataError` names missing columns or a bad value."""
    tr, meta = gan.transformer, gan.metadata
    if tr is None or meta is None:
        raise RuntimeError("this TabularGAN is not fitted: call fit() or from_pretrained()")
    absent = [c for c in tr.columns if c not in frame.columns]
    if absent:
        raise DataError(
            f"{source}: no column {', '.join(map(repr, absent))}; the model's columns are: "
            f"{', '.join(tr.columns)} (is this the table the model was fitted on?)"
        )
    discrete = {d.name: d.categories for d in tr.discrete}
    out = {}
    for name in tr.columns:
        kind, series = meta[name].kind, frame[name].reset_index(drop=True)
        if kind == "continuous":
            plain = isinstance(series.dtype, np.dtype) and series.dtype.kind in "iuf"
            out[name] = series if plain else pd.Series(as_numbers(series, name, source=source))
        elif kind == "datetime":
            dates = as_datetimes(series, name, source=source)
            out[name] = dates.dt.tz_convert(None) if dates.dt.tz is not None else dates
        elif kind == "boolean":
            plain = pd.api.types.is_bool_dtype(series.dtype)
            out[name] = series if plain else _booleans(series, name, source)
        else:  # categories: the model's value for the same text, missing values kept
            by_text = {str(c): c for c in discrete.get(name, []) if c is not None}
            mapped = series.map(lambda v, m=by_text: v if pd.isna(v) else m.get(str(v), v))
            out[name] = mapped.infer_objects() if mapped.dtype == object else mapped
    return pd.DataFrame(out)


def _booleans(series: pd.Series, name: str, source: str) -> pd.Series:
    words = series.astype(str).str.strip().str.lower()
    values = words.map(lambda w: True if w in _TRUE else False if w in _FALSE else None)
    bad = np.flatnonzero(series.notna().to_numpy() & values.isna().to_numpy())
    if len(bad):
        raise DataError(
            f"{source}: column {name!r} is boolean but row {bad[0] + 1} holds "
            f"{series.iloc[bad[0]]!r}; expected true / false"
        )
    return values.where(series.notna(), None).astype("boolean")


def fitted_on(gan: Any, frame: pd.DataFrame) -> bool:
    """Whether ``frame`` (as loaded, every row in order) is the table ``gan`` was fitted on:
    its encoding has the model's data fingerprint."""
    fingerprint = gan.data_info.get("fingerprint")
    if not fingerprint or len(frame) != gan.data_info.get("rows"):
        return False
    try:
        data = gan.transformer.transform(frame)
    except (DataError, ValueError, TypeError):  # values the model cannot encode: not its table
        return False
    return hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest()[:16] == fingerprint


def holdout_split(
    frame: pd.DataFrame, fraction: float = 0.2, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(train, held-out)``: a seeded ``fraction`` of the rows held out, order kept."""
    if len(frame) < 4:
        raise DataError(f"{len(frame)} rows: too few to hold some out; pass --test")
    k = min(len(frame) - 2, max(2, round(fraction * len(frame))))
    held = np.zeros(len(frame), dtype=bool)
    held[np.random.default_rng(seed).permutation(len(frame))[:k]] = True
    return frame[~held].reset_index(drop=True), frame[held].reset_index(drop=True)


def training_seconds(model_dir: str | Path, gan: Any) -> float | None:
    """Wall seconds of the training loop, from ``stats.jsonl`` of the run folder holding
    ``model_dir`` (``RUN/model``) when that run trained this model (same data fingerprint);
    None otherwise. The transformer's fit is not included."""
    from socialgan.engine.plots import read_stats

    run = Path(model_dir).resolve().parent
    try:
        config = json.loads((run / "config.json").read_text())
        stats = read_stats(run / "stats.jsonl")
    except (OSError, ValueError):
        return None
    if (config.get("data") or {}).get("fingerprint") != gan.data_info.get("fingerprint"):
        return None
    last: dict[int, float] = {}
    for record in stats:  # a resumed run logs some steps twice: its latest rate counts
        if isinstance(record.get("step"), int) and record.get("steps_per_sec"):
            last[record["step"]] = float(record["steps_per_sec"])
    seconds, previous = 0.0, 0
    for step in sorted(last):
        seconds += (step - previous) / last[step]
        previous = step
    return seconds if last else None


# ------------------------------------------------------------------ the report
def _efficacy_section(
    train: pd.DataFrame,
    test: pd.DataFrame,
    synth: pd.DataFrame,
    kinds: Mapping[str, str],
    label: str | None,
    positive: Any,
    seed: int,
    quick: bool,
) -> dict[str, Any]:
    if label is None:
        return {"skipped": "no label column (name one with --label / label=)"}
    positive = positive_class(train[label]) if positive is None else positive
    out: dict[str, Any] = {"label": label, "positive": positive}
    for name, rows in (("train", train), ("held-out", test)):
        if (rows[label].astype(str).str.rstrip(".") == str(positive)).nunique() < 2:
            return {**out, "skipped": f"the {name} rows hold one class of {label!r} only"}
    out["synthetic"] = efficacy(synth, test, seed, quick, label=label, positive=positive)
    out["real"] = efficacy(train, test, seed, quick, label=label, positive=positive)
    return out


def _check_label(label: str, kinds: Mapping[str, str], train: pd.DataFrame) -> None:
    if label not in kinds:
        raise DataError(f"unknown label column {label!r}; the columns are: {', '.join(kinds)}")
    classes = train[label].nunique() if label in train.columns else 0
    if kinds[label] == "continuous" and classes > MAX_LABEL_CLASSES:
        raise DataError(
            f"label column {label!r} is continuous ({classes} distinct values); "
            "the efficacy needs a class label"
        )


def evaluate_tables(
    train: pd.DataFrame,
    test: pd.DataFrame,
    synth: pd.DataFrame,
    kinds: Mapping[str, str],
    *,
    label: str | None = None,
    positive: Any = None,
    seed: int = 0,
    out_dir: str | Path | None = None,
    quick: bool = False,
) -> dict[str, Any]:
    """Quality, efficacy, privacy and plots of ``synth`` against real ``train`` rows (the
    synthesizer's) and ``test`` rows (held out), all with the columns of ``kinds``
    (``{column: kind}``, the metadata kinds).

    Args:
        label: the class column of the efficacy (None: skipped); ``positive``: its class
            whose F1 counts (default :func:`positive_class`).
        seed: seeds the classifiers, the privacy row draws and the pair-trend sampling.
        out_dir: where ``marginals.png`` and ``correlations.png`` go (None: no plots).
        quick: one grid point per classifier.
    """
    names = list(kinds)
    if label is not None:
        _check_label(label, kinds, train)
    for what, rows in (("train", train), ("held-out", test), ("synthetic", synth)):
        absent = [c for c in names if c not in rows.columns]
        if absent:
            raise DataError(f"the {what} rows have no column {', '.join(map(repr, absent))}")
    train, test, synth = (f[names].reset_index(drop=True) for f in (train, test, synth))
    quality = quality_scores(train, synth, sdtypes_of(kinds), seed=seed)
    result = privacy(train, test, synth, seed)
    report: dict[str, Any] = {
        "rows": {"train": len(train), "held_out": len(test), "synthetic": len(synth)},
        "columns": dict(kinds),
        "quality": quality,
        "efficacy": _efficacy_section(train, test, synth, kinds, label, positive, seed, quick),
        "privacy": {
            **result,
            "rows": min(2000, len(train), len(test), len(synth)),
            "warnings": privacy_warnings(result),
        },
    }
    if out_dir is not None:
        out = Path(out_dir)
        report["plots"] = {
            "marginals": str(
                plot_marginals(
                    train, synth, kinds, out / "marginals.png", scores=quality["columns"]
                )
            ),
            "correlations": str(plot_correlations(train, synth, kinds, out / "correlations.png")),
        }
    return report


def evaluate_model(
    gan: Any,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    n: int | None = None,
    label: str | None = None,
    positive: Any = None,
    seed: int = 0,
    out_dir: str | Path | None = None,
    model_dir: str | Path | None = None,
    about: Mapping[str, Any] | None = None,
    quick: bool = False,
) -> dict[str, Any]:
    """Sample ``n`` rows (default: as many as ``train``) of a fitted TabularGAN with
    ``seed`` and :func:`evaluate_tables` them; ``train`` and ``test`` are read as the
    model's columns (:func:`model_frame`). Adds ``model``, ``timing``, ``seed`` and
    ``data`` (``about``: how the rows were chosen); with ``out_dir`` also writes
    ``report.json`` there. ``model_dir``: the model's folder (for the fit time)."""
    kinds = {c: gan.metadata[c].kind for c in gan.transformer.columns}
    if label is not None:
        _check_label(label, kinds, train)
    real = model_frame(gan, train, source="train rows")
    held = model_frame(gan, test, source="held-out rows")
    rows = len(real) if n is None else n
    wall, cpu = time.perf_counter(), time.process_time()
    synth = gan.sample(rows, seed=seed)
    timing = {
        "sample_seconds": time.perf_counter() - wall,
        "sample_cpu_seconds": time.process_time() - cpu,
        "fit_seconds": None if model_dir is None else training_seconds(model_dir, gan),
    }
    report = evaluate_tables(
        real, held, synth, kinds, label=label, positive=positive, seed=seed,
        out_dir=out_dir, quick=quick,
    )  # fmt: skip
    info = gan.data_info
    model = {
        "path": None if model_dir is None else str(model_dir),
        "model_type": getattr(gan, "model_type", type(gan).__name__),
        "steps": gan.train_config.steps,
        "training_rows": info.get("rows"),
        "left_out": info.get("left_out", []),
    }
    head = {"model": model, "data": dict(about or {}), "seed": seed, "timing": timing}
    report = _jsonable({**head, **report})
    if out_dir is not None:
        path = Path(out_dir) / REPORT_FILE
        report["report"] = str(path)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(report, indent=2) + "\n")
        tmp.replace(path)
    return report


def _jsonable(value: Any) -> Any:
    """Plain JSON types: NumPy scalars as Python ones, NaN as None."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
