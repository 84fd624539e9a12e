"""How alike a synthetic table and a real one look, column by column and pair by pair.

:func:`quality_scores` gives sdmetrics' single-table QualityReport: **column shapes** (per
column, KSComplement for numbers and dates, TVComplement for categories and booleans) and
**column pair trends** (per pair, CorrelationSimilarity of two numbers or dates, else
ContingencySimilarity, a number binned into 10 equal-width bins); the overall score is the
mean of the two. Every metric is 1 for identical tables, 0 for disjoint ones.

sdmetrics is not a dependency: every release, 0.32.0 included, pins ``pandas < 3`` in its
metadata (it runs on pandas 3, but pip would downgrade pandas to install it), and this
package needs pandas 3. So when ``sdmetrics`` is importable (the ``bench`` extra) it
computes the scores, and otherwise this module does, by sdmetrics 0.32's definitions,
defaults included: a pair counts only when the real table shows a trend (``|Pearson r| >
0.5`` for two numbers, Cramer's V above 0.3 otherwise) and contingency tables are built on
at most 50,000 rows (sampled with ``seed`` here, unseeded in sdmetrics). Where neither
applies the two give the same numbers (checked in the tests where sdmetrics is installed).
The report's ``backend`` says which one ran.
"""

from __future__ import annotations

import itertools
import sys
import warnings
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp, pearsonr
from scipy.stats.contingency import association

__all__ = [
    "SDTYPES",
    "column_pair_trends",
    "column_shapes",
    "has_sdmetrics",
    "quality_scores",
    "sdmetrics_scores",
    "sdtypes_of",
]

#: sdmetrics' sdtype of each modeled kind of :class:`~socialgan.tabular.metadata.ColumnMeta`.
SDTYPES = {
    "continuous": "numerical",
    "categorical": "categorical",
    "boolean": "boolean",
    "datetime": "datetime",
}
_CONTINUOUS = ("numerical", "datetime")
_DISCRETE = ("categorical", "boolean")
CORRELATION_THRESHOLD = 0.5  # sdmetrics 0.32's DEFAULT_REAL_CORRELATION_THRESHOLD
ASSOCIATION_THRESHOLD = 0.3  # ... DEFAULT_REAL_ASSOCIATION_THRESHOLD
MAX_ROWS = 50_000  # ... DEFAULT_NUM_ROWS_SUBSAMPLE
_DECIMALS = sys.float_info.dig - 1  # KSComplement rounds to this many decimals


def sdtypes_of(kinds: Mapping[str, str]) -> dict[str, str]:
    """``{column: sdtype}`` of the modeled columns of ``{column: kind}``."""
    return {c: SDTYPES[k] for c, k in kinds.items() if k in SDTYPES}


# ------------------------------------------------------------------ column shapes
def _ks_complement(real: pd.Series, synth: pd.Series) -> float:
    real, synth = real.dropna(), synth.dropna()
    if not len(real) or not len(synth):
        return float("nan")
    if pd.api.types.is_datetime64_any_dtype(real):
        real, synth = pd.to_numeric(real), pd.to_numeric(synth)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # exact p-value unavailable: unused
        statistic = ks_2samp(real.round(_DECIMALS), synth.round(_DECIMALS)).statistic
    return float(1 - statistic)


def _tv_complement(real: pd.Series, synth: pd.Series) -> float:
    r: dict[Any, float] = dict(Counter(real.dropna()))
    s = Counter(synth.dropna())
    if not r or not s:
        return float("nan")
    for value in s:
        if value not in r:
            r[value] = 1e-6  # as sdmetrics: a synthetic-only value still counts
    nr, ns = sum(r.values()), sum(s.values())
    return float(1 - 0.5 * sum(abs(s[v] / ns - r[v] / nr) for v in r))


def column_shapes(
    real: pd.DataFrame, synth: pd.DataFrame, sdtypes: Mapping[str, str]
) -> dict[str, float]:
    """``{column: score}``: KSComplement (numbers, dates) or TVComplement (the rest)."""
    out = {}
    for column, sdtype in sdtypes.items():
        metric = _ks_complement if sdtype in _CONTINUOUS else _tv_complement
        out[column] = metric(real[column], synth[column])
    return out


# ------------------------------------------------------------------ column pair trends
def _numeric(frame: pd.DataFrame, sdtypes: Mapping[str, str]) -> pd.DataFrame:
    """Dates as numbers (missing stays missing)."""
    out = frame.copy()
    for column, sdtype in sdtypes.items():
        if sdtype == "datetime":
            missing = out[column].isna()
            out[column] = pd.to_numeric(out[column])
            if missing.any():
                out.loc[missing, column] = np.nan
    return out


def _binned(frame: pd.DataFrame, sdtypes: Mapping[str, str]) -> dict[str, Any]:
    """Each number cut into 10 equal-width bins of its own table's range (None: no values)."""
    out: dict[str, Any] = {}
    for column, sdtype in sdtypes.items():
        if sdtype in _CONTINUOUS:
            values = frame[column]
            try:
                out[column] = np.digitize(values, np.histogram_bin_edges(values.dropna()))
            except ValueError:
                out[column] = None
    return out


def _correlation(real: pd.DataFrame, synth: pd.DataFrame) -> tuple[float, bool]:
    """CorrelationSimilarity ``1 - |r_real - r_synth| / 2`` and whether the pair counts."""
    if (real.nunique() == 1).any() or (synth.nunique() == 1).any():
        return float("nan"), False
    real, synth = real.dropna(), synth.dropna()
    a, b = real.columns
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant synthetic column: r is NaN
        try:
            r_real = float(pearsonr(real[a], real[b])[0])
            if not abs(r_real) > CORRELATION_THRESHOLD:
                return float("nan"), False
            r_synth = float(pearsonr(synth[a], synth[b])[0])
        except ValueError:  # fewer than 2 rows
            return float("nan"), False
    return (float("nan") if np.isnan(r_synth) else 1 - abs(r_real - r_synth) / 2), True


def _contingency(real: pd.DataFrame, synth: pd.DataFrame, seed: int) -> tuple[float, bool]:
    """ContingencySimilarity ``1 - TV`` of the two joint distributions, when Cramer's V of
    the real pair is above the threshold."""
    if max(len(real), len(synth)) > MAX_ROWS:
        real = real.sample(min(MAX_ROWS, len(real)), random_state=seed)
        synth = synth.sample(min(MAX_ROWS, len(synth)), random_state=seed)
    columns = list(real.columns)
    counts = real.groupby(columns, dropna=False).size()
    table = counts.unstack(fill_value=0)  # noqa: PD010
    if table.to_numpy().sum() == 0 or min(table.shape) < 2:
        return float("nan"), False
    v = association(table.to_numpy(), method="cramer")
    if not v > ASSOCIATION_THRESHOLD:
        return float("nan"), False
    p_real = counts / len(real)
    p_synth = synth.groupby(columns, dropna=False).size() / len(synth)
    index = p_real.index.union(p_synth.index, sort=False).drop_duplicates()
    diff = (p_real.reindex(index, fill_value=0) - p_synth.reindex(index, fill_value=0)).abs()
    return float(1 - diff.fillna(0).sum() / 2), True


def column_pair_trends(
    real: pd.DataFrame, synth: pd.DataFrame, sdtypes: Mapping[str, str], *, seed: int = 0
) -> list[dict[str, Any]]:
    """One record per column pair: ``columns``, ``metric``, ``score`` (NaN when it cannot
    be computed) and ``counts`` (the real pair shows a trend, so it enters the mean)."""
    real_n, synth_n = _numeric(real, sdtypes), _numeric(synth, sdtypes)
    real_b, synth_b = _binned(real_n, sdtypes), _binned(synth_n, sdtypes)
    out = []
    for a, b in itertools.combinations(list(sdtypes), 2):
        cont_a, cont_b = sdtypes[a] in _CONTINUOUS, sdtypes[b] in _CONTINUOUS
        if cont_a and cont_b:
            metric = "CorrelationSimilarity"
            score, counts = _correlation(real_n[[a, b]], synth_n[[a, b]])
        else:  # a number beside a category is binned; two numbers or two categories are not
            metric = "ContingencySimilarity"
            mixed = cont_a != cont_b
            r_cols = {c: real_b[c] if mixed and c in real_b else real_n[c] for c in (a, b)}
            s_cols = {c: synth_b[c] if mixed and c in synth_b else synth_n[c] for c in (a, b)}
            if any(v is None for v in (*r_cols.values(), *s_cols.values())):
                score, counts = float("nan"), False  # a number with no values to bin
            else:
                r = pd.DataFrame(r_cols, index=real.index)
                s = pd.DataFrame(s_cols, index=synth.index)
                score, counts = _contingency(r, s, seed)
        out.append({"columns": [a, b], "metric": metric, "score": score, "counts": counts})
    return out


# ------------------------------------------------------------------ the report
def has_sdmetrics() -> bool:
    """Whether ``sdmetrics`` can be imported (the ``bench`` extra)."""
    try:
        import sdmetrics  # noqa: F401
    except ImportError:
        return False
    return True


def _mean(values: list[float]) -> float:
    kept = [v for v in values if not np.isnan(v)]
    return float(np.mean(kept)) if kept else float("nan")


def _own(
    real: pd.DataFrame, synth: pd.DataFrame, sdtypes: Mapping[str, str], seed: int
) -> dict[str, Any]:
    shapes = column_shapes(real, synth, sdtypes)
    pairs = column_pair_trends(real, synth, sdtypes, seed=seed)
    return {
        "column_shapes": _mean(list(shapes.values())),
        "column_pair_trends": _mean([p["score"] for p in pairs if p["counts"]]),
        "columns": shapes,
        "pairs": pairs,
        "backend": "socialgan, by sdmetrics 0.32's definitions",
    }


def _sdmetrics(
    real: pd.DataFrame, synth: pd.DataFrame, sdtypes: Mapping[str, str], diagnostic: bool
) -> dict[str, Any]:
    import sdmetrics
    from sdmetrics.reports.single_table import DiagnosticReport, QualityReport

    metadata = {"columns": {c: {"sdtype": t} for c, t in sdtypes.items()}}
    report = QualityReport()
    report.generate(real, synth, metadata, verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    shapes = report.get_details("Column Shapes")
    pairs = report.get_details("Column Pair Trends")
    meets = pairs.get("Meets Threshold?", pd.Series(True, index=pairs.index))
    out: dict[str, Any] = {
        "column_shapes": float(props.get("Column Shapes", np.nan)),
        "column_pair_trends": float(props.get("Column Pair Trends", np.nan)),
        "columns": {r["Column"]: float(r["Score"]) for _, r in shapes.iterrows()},
        "pairs": [
            {
                "columns": [r["Column 1"], r["Column 2"]],
                "metric": r["Metric"],
                "score": float(r["Score"]),
                "counts": bool(pd.notna(m) and m),
            }
            for (_, r), m in zip(pairs.iterrows(), meets, strict=True)
        ],
        "backend": f"sdmetrics {sdmetrics.__version__}",
        "_overall": float(report.get_score()),
    }
    if diagnostic:
        d = DiagnosticReport()
        d.generate(real, synth, metadata, verbose=False)
        out["diagnostic"] = float(d.get_score())
    return out


def quality_scores(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    sdtypes: Mapping[str, str],
    *,
    seed: int = 0,
    diagnostic: bool = False,
    backend: str = "auto",
) -> dict[str, Any]:
    """The QualityReport of ``synth`` against ``real``.

    Args:
        real, synth: tables holding the columns of ``sdtypes``.
        sdtypes: ``{column: "numerical" | "datetime" | "categorical" | "boolean"}``
            (:func:`sdtypes_of` maps the metadata kinds).
        seed: seeds the row sample of a contingency table over 50,000 rows.
        diagnostic: add sdmetrics' DiagnosticReport score (``diagnostic``); needs sdmetrics.
        backend: ``"auto"`` (sdmetrics when importable), ``"sdmetrics"`` or ``"socialgan"``.

    Returns:
        ``quality`` (the mean of the two properties), ``column_shapes``,
        ``column_pair_trends``, ``columns`` (each column's shape score), ``pairs`` (each
        pair's ``columns``, ``metric``, ``score`` and ``counts``), ``backend``.
    """
    if backend not in ("auto", "sdmetrics", "socialgan"):
        raise ValueError(f"backend: expected auto, sdmetrics or socialgan, got {backend!r}")
    if backend == "auto":
        backend = "sdmetrics" if has_sdmetrics() else "socialgan"
    if diagnostic and backend != "sdmetrics":
        raise ImportError("the diagnostic score needs sdmetrics: pip install 'socialgan[bench]'")
    if backend == "sdmetrics":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sdmetrics' deprecation and pandas warnings
            out = _sdmetrics(real, synth, sdtypes, diagnostic)
        overall = out.pop("_overall")
    else:
        out = _own(real, synth, sdtypes, seed)
        overall = _mean([out["column_shapes"], out["column_pair_trends"]])
    return {"quality": overall, **out}


def sdmetrics_scores(
    real: pd.DataFrame, synth: pd.DataFrame, discrete_columns: tuple[str, ...] | list[str] = ()
) -> dict[str, float]:
    """``quality``, ``column_shapes``, ``column_pair_trends`` and ``diagnostic`` of sdmetrics'
    QualityReport and DiagnosticReport, the column kinds inferred from ``real`` (needs
    ``sdmetrics``: the ``bench`` extra; :func:`quality_scores` works without it). The
    benchmark's scores.."""
    from socialgan.tabular.metadata import TableMetadata

    meta = TableMetadata.infer(real, discrete_columns=list(discrete_columns))
    sdtypes = {c.name: {"continuous": "numerical"}.get(c.kind, c.kind) for c in meta.columns}
    q = quality_scores(real, synth, sdtypes, diagnostic=True, backend="sdmetrics")
    keys = ("quality", "column_shapes", "column_pair_trends", "diagnostic")
    return {k: float(q[k]) for k in keys}
