"""Pictures of a synthetic table against the real one (matplotlib, headless).

- :func:`plot_marginals`: one panel per column, real beside synthetic: density histograms
  on shared bins for numbers and dates, bars of each category's share for categories and
  booleans (the 12 most frequent real ones, the rest as ``(other)``).
- :func:`plot_correlations`: three heat maps, real, synthetic and synthetic - real, of the
  association between every two columns: Pearson r between numbers (dates and booleans as
  numbers), Cramer's V (0..1) when a category is involved, a number then cut into 10
  quantile bins.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats.contingency import association

__all__ = ["association_matrix", "plot_correlations", "plot_marginals"]

TOP_CATEGORIES = 12
ANNOTATE_UP_TO = 12  # columns; more and the numbers in the cells would not fit
_NUMBER_KINDS = ("continuous", "datetime")
REAL, SYNTH = "#1f77b4", "#ff7f0e"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _as_float(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        series = (series - pd.Timestamp(0)) / pd.Timedelta(days=1)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _save(fig: Any, path: Path) -> Path:
    plt = _pyplot()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _numbers_panel(ax: Any, real: pd.Series, synth: pd.Series, kind: str) -> None:
    r, s = _as_float(real), _as_float(synth)
    r, s = r[np.isfinite(r)], s[np.isfinite(s)]
    if not len(r):
        return
    lo, hi = np.quantile(r, [0.005, 0.995])  # a long tail would squash the bulk
    edges = np.histogram_bin_edges(r, bins=30, range=(lo, hi) if hi > lo else None)
    for values, color, name in ((r, REAL, "real"), (s, SYNTH, "synthetic")):
        ax.hist(values, bins=edges, density=True, histtype="step", lw=1.6, color=color, label=name)
    if kind == "datetime":
        ax.set_xlabel("days since 1970-01-01", fontsize=7)


def _categories_panel(ax: Any, real: pd.Series, synth: pd.Series) -> None:
    r = real.astype(object).where(real.notna(), "(missing)").astype(str)
    s = synth.astype(object).where(synth.notna(), "(missing)").astype(str)
    shares_r, shares_s = r.value_counts(normalize=True), s.value_counts(normalize=True)
    top = list(shares_r.index[:TOP_CATEGORIES])
    rest = [c for c in set(shares_r.index) | set(shares_s.index) if c not in top]
    labels = top + (["(other)"] if rest else [])

    def share(shares: pd.Series) -> list[float]:
        got = [float(shares.get(c, 0.0)) for c in top]
        return got + ([float(shares.reindex(rest).fillna(0).sum())] if rest else [])

    x = np.arange(len(labels))
    ax.bar(x - 0.2, share(shares_r), width=0.4, color=REAL, label="real")
    ax.bar(x + 0.2, share(shares_s), width=0.4, color=SYNTH, label="synthetic")
    ax.set_xticks(x, [lab[:14] for lab in labels], rotation=60, ha="right", fontsize=7)


def plot_marginals(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    kinds: Mapping[str, str],
    path: str | Path,
    *,
    scores: Mapping[str, float] | None = None,
    columns_per_row: int = 4,
) -> Path:
    """A grid of real-vs-synthetic marginals, one panel per column of ``kinds``
    (``{column: kind}``); ``scores`` (column-shape scores) go into the panel titles."""
    plt = _pyplot()
    names = list(kinds)
    cols = max(1, min(columns_per_row, len(names)))
    rows = max(1, math.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.9 * rows), squeeze=False)
    for ax, name in zip(list(axes.flat)[: len(names)], names, strict=True):
        if kinds[name] in _NUMBER_KINDS:
            _numbers_panel(ax, real[name], synth[name], kinds[name])
        else:
            _categories_panel(ax, real[name], synth[name])
        score = (scores or {}).get(name)
        shown = "" if score is None or np.isnan(score) else f" (shape {score:.2f})"
        ax.set_title(f"{name}{shown}", fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="upper right", fontsize=8)
    fig.suptitle("Marginals: real vs synthetic", fontsize=11)
    fig.tight_layout(rect=(0, 0, 0.97, 0.96))
    return _save(fig, Path(path))


def _codes(series: pd.Series, kind: str) -> np.ndarray:
    """Category codes of a column (a number: its decile, or one of 10 equal-width bins when
    one value fills most deciles, as 0 does in a capital-gain column), missing as its own
    code."""
    if kind in _NUMBER_KINDS:
        values = pd.Series(_as_float(series))
        if values.nunique() < 2:
            return np.zeros(len(values), dtype=int)
        binned = pd.qcut(values, 10, labels=False, duplicates="drop")
        if binned.nunique() < 2:
            binned = pd.cut(values, 10, labels=False)
        return binned.fillna(-1).to_numpy(dtype=int)
    return pd.factorize(series.astype(str).where(series.notna(), "(missing)"))[0]


def _cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    table = pd.crosstab(a, b).to_numpy()
    if min(table.shape) < 2:
        return float("nan")
    return float(association(table, method="cramer"))


def association_matrix(frame: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """Pearson r between two numbers (booleans as 0/1), Cramer's V otherwise; NaN where a
    column is constant."""
    names = list(kinds)
    numeric = {n: kinds[n] in (*_NUMBER_KINDS, "boolean") for n in names}
    values = {n: _as_float(frame[n]) for n in names if numeric[n]}
    codes = {n: _codes(frame[n], kinds[n]) for n in names}
    out = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if numeric[a] and numeric[b]:
                pair = pd.DataFrame({"a": values[a], "b": values[b]}).dropna()
                std = pair.std()
                r = float(pair["a"].corr(pair["b"])) if (std > 0).all() else float("nan")
            else:
                r = _cramers_v(codes[a], codes[b])
            out.loc[a, b] = out.loc[b, a] = r
    return out


def plot_correlations(
    real: pd.DataFrame, synth: pd.DataFrame, kinds: Mapping[str, str], path: str | Path
) -> Path:
    """Side-by-side heat maps of :func:`association_matrix`: real, synthetic, difference."""
    plt = _pyplot()
    m_real, m_synth = association_matrix(real, kinds), association_matrix(synth, kinds)
    names = list(kinds)
    size = max(3.5, 0.45 * len(names) + 1.5)
    fig, axes = plt.subplots(1, 3, figsize=(3 * size + 1, size))
    panels = (
        (m_real, "real", "coolwarm", -1.0),
        (m_synth, "synthetic", "coolwarm", -1.0),
        (m_synth - m_real, "synthetic - real", "PuOr", -1.0),
    )
    for ax, (matrix, title, cmap, vmin) in zip(axes, panels, strict=True):
        image = ax.imshow(matrix.to_numpy(dtype=float), cmap=cmap, vmin=vmin, vmax=1.0)
        ticks = np.arange(len(names))
        ax.set_xticks(ticks, [n[:16] for n in names], rotation=70, ha="right", fontsize=7)
        ax.set_yticks(ticks, [n[:16] for n in names], fontsize=7)
        ax.set_title(title, fontsize=10)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        if len(names) <= ANNOTATE_UP_TO:
            for (r, c), value in np.ndenumerate(matrix.to_numpy(dtype=float)):
                if r != c and np.isfinite(value):
                    ax.text(c, r, f"{value:.2f}", ha="center", va="center", fontsize=6)
    fig.suptitle("Column associations (Pearson r between numbers, Cramer's V otherwise)")
    fig.tight_layout()
    return _save(fig, Path(path))
