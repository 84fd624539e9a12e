"""How one column is encoded for the tabular GAN and decoded back (used by the transformer).

:class:`ModeCodec`: a continuous or datetime column as mode-specific normalization (Xu et
al. 2019) sees it: a Dirichlet-process Gaussian mixture
(:class:`~sklearn.mixture.BayesianGaussianMixture`), each value encoded as its most probable
mode ``k`` and ``alpha = (x - mu_k) / (4 sigma_k)``. :class:`CategoryCodec`: a categorical or
boolean column as the index of its value among the observed ones. Both keep what they learn
as plain numbers, strings and float64 arrays, so a fitted transformer saves without pickle.

A long-tailed non-negative column (follower counts, capital gains: skewness above
:data:`LOG_SKEW` that ``log1p`` reduces) is modeled as ``log1p(x)`` (``log``): on the raw
scale one wide mode would swallow everything below the tail (a median of 100 followers
next to accounts with millions), and samples would miss the bulk by orders of magnitude.

Datetimes are modeled as a count of their granularity (the coarsest of day, hour, minute,
second, millisecond, microsecond and nanosecond that divides every training value) since
the earliest one: counts are exact in float64, samples keep the data's granularity, and
the datetime64 unit and time zone come back as they were.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import BayesianGaussianMixture

from socialgan.errors import DataError

from .metadata import ColumnMeta, as_datetimes, as_numbers

__all__ = ["CategoryCodec", "ModeCodec", "fit_categories", "fit_modes", "listing", "plain"]

MODE_ARRAYS = ("means", "stds", "weights")
_UNIT_NS = {"D": 86_400 * 10**9, "h": 3_600 * 10**9, "m": 60 * 10**9, "s": 10**9}
_UNIT_NS |= {"ms": 10**6, "us": 10**3, "ns": 1}
#: A non-negative number column of sample skewness above this is modeled as ``log1p``
#: when that lowers its skewness.
LOG_SKEW = 2.0


@dataclass
class ModeCodec:
    """A fitted continuous or datetime column. Values are in model units: the number
    itself (its ``log1p`` if ``log``), or a datetime's count of ``step`` ticks of ``unit``
    since ``offset``; ``low`` and ``high`` are the observed range (in the column's units),
    ``fill`` the mean in model units (what a missing value is encoded as), ``missing``
    whether training values were missing, ``dtype`` what decoding returns."""

    means: np.ndarray
    stds: np.ndarray
    weights: np.ndarray
    low: float
    high: float
    fill: float
    integer: bool
    missing: bool
    dtype: str
    unit: str = ""
    offset: int = 0
    step: int = 1
    log: bool = False

    def values(self, series: pd.Series, column: str, source: str) -> np.ndarray:
        """The column in model units, NaN where missing."""
        if not self.unit:
            x = as_numbers(series, column, source=source)
            return np.log1p(np.maximum(x, 0.0)) if self.log else x
        ticks, missing, _ = _ticks(as_datetimes(series, column, source=source), self.unit)
        whole, part = np.divmod(np.where(missing, self.offset, ticks) - self.offset, self.step)
        out = whole.astype(np.float64) + part / self.step
        out[missing] = np.nan
        return out

    def encode(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``alpha`` (not clipped) and the most probable mode of each finite value."""
        z = (x[:, None] - self.means) / self.stds
        score = np.log(self.weights) - np.log(self.stds) - 0.5 * z**2
        mode = score.argmax(axis=1)
        return z[np.arange(len(x)), mode] / 4.0, mode

    def decode(self, alpha: np.ndarray, mode: np.ndarray, missing: np.ndarray) -> pd.Series:
        """Values from ``alpha`` (clipped to G's tanh range [-1, 1]; NaN read as 0) and
        ``mode``, clipped to the observed range and rounded for whole-number columns."""
        alpha = np.clip(np.nan_to_num(alpha), -1.0, 1.0)
        x = self.means[mode] + 4.0 * self.stds[mode] * alpha
        if self.log:
            x = np.expm1(np.clip(x, np.log1p(self.low), np.log1p(self.high)))
        x = np.clip(x, self.low, self.high)
        if self.integer:
            x = np.round(x)
        if self.unit:
            return _from_ticks(self.offset + x.astype(np.int64) * self.step, missing, self.dtype)
        x[missing] = np.nan
        return pd.Series(x).astype(ptypes.pandas_dtype(self.dtype))

    def info(self) -> dict[str, Any]:
        """The JSON-able part of the state (the arrays are :data:`MODE_ARRAYS`)."""
        return {
            "kind": "modes", "low": self.low, "high": self.high, "fill": self.fill,
            "integer": self.integer, "missing": self.missing, "dtype": self.dtype,
            "unit": self.unit, "offset": self.offset, "step": self.step, "log": self.log,
        }  # fmt: skip


@dataclass
class CategoryCodec:
    """A fitted categorical or boolean column: its ``categories`` in one-hot order (sorted
    by text, ``None`` for missing last), their training ``counts``, and how to rebuild the
    original dtype (``none``: missing object values were ``None``, not NaN; ``levels`` and
    ``ordered``: a pandas category dtype)."""

    categories: list[Any]
    counts: list[int]
    dtype: str
    none: bool = False
    levels: list[Any] | None = None
    ordered: bool = False
    lookup: pd.Index = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.lookup = pd.Index([c for c in self.categories if c is not None], dtype=object)

    def encode(self, series: pd.Series, column: str, source: str) -> np.ndarray:
        """The category index of each row; :class:`DataError` at the first unknown value."""
        missing = series.isna().to_numpy()
        codes = np.array(self.lookup.get_indexer(series.astype(object).to_numpy()))
        if None in self.categories:
            codes[missing] = self.categories.index(None)
        bad = codes < 0
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            what = "is missing" if missing[row] else f"holds {series.iloc[row]!r}"
            raise DataError(
                f"{source}: column {column!r}: row {row + 1} {what}, which the training data "
                f"did not have; expected one of {listing(self.categories)}"
            )
        return codes

    def decode(self, codes: np.ndarray) -> pd.Series:
        """The values of ``codes``, in the training column's dtype."""
        na: Any = None if self.none else np.nan
        values = np.array([na if c is None else c for c in self.categories], dtype=object)
        series = pd.Series(values[codes], dtype=object)
        if self.levels is not None:
            return pd.Series(pd.Categorical(series, categories=self.levels, ordered=self.ordered))
        return series.astype(ptypes.pandas_dtype(self.dtype))

    def info(self) -> dict[str, Any]:
        """The state, JSON-able."""
        return {
            "kind": "categories", "categories": self.categories, "counts": self.counts,
            "dtype": self.dtype, "none": self.none, "levels": self.levels,
            "ordered": self.ordered,
        }  # fmt: skip


def fit_modes(
    series: pd.Series,
    meta: ColumnMeta,
    *,
    max_modes: int,
    weight_threshold: float,
    max_fit_rows: int,
    seed: int,
    log_long_tails: bool = True,
) -> ModeCodec:
    """Fit the mixture of one continuous or datetime column (validated: some value present);
    ``log_long_tails``: model a long-tailed non-negative column as ``log1p``."""
    extra: dict[str, Any] = {}
    if meta.kind == "datetime":
        dates = as_datetimes(series, meta.name, source="fit")
        unit = _unit(dates.dtype)
        ticks, missing, dtype = _ticks(dates, unit)
        offset = int(ticks[~missing].min())
        step = _granularity(ticks[~missing], unit)
        x = ((np.where(missing, offset, ticks) - offset) // step).astype(np.float64)
        x[missing] = np.nan
        extra = {"unit": unit, "offset": offset, "step": step}
        integer = True
    else:
        x = as_numbers(series, meta.name, source="fit")
        dtype = _number_dtype(series, meta.integer, bool(np.isnan(x).any()))
        integer = meta.integer
    observed = x[~np.isnan(x)]
    low, high = float(observed.min()), float(observed.max())
    if meta.nonnegative:
        low = max(low, 0.0)
    if log_long_tails and meta.kind != "datetime" and low >= 0 and _long_tailed(observed):
        extra["log"] = True
        observed = np.log1p(observed)
    means, stds, weights = _mixture(observed, max_modes, weight_threshold, max_fit_rows, seed)
    return ModeCodec(
        means, stds, weights, low=low, high=high, fill=float(observed.mean()),
        integer=integer, missing=bool(np.isnan(x).any()), dtype=dtype, **extra,
    )  # fmt: skip


def _skewness(x: np.ndarray) -> float:
    sd = float(x.std())
    return float(np.mean((x - x.mean()) ** 3) / sd**3) if sd > 0 else 0.0


def _long_tailed(x: np.ndarray) -> bool:
    """Skewness above :data:`LOG_SKEW`, and lower in absolute value after ``log1p``."""
    skew = _skewness(x)
    return skew > LOG_SKEW and abs(_skewness(np.log1p(x))) < abs(skew)


def _mixture(
    x: np.ndarray, max_modes: int, threshold: float, max_rows: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means, standard deviations and weights of the modes of weight above ``threshold``
    (at least the heaviest) of a mixture fitted to a seeded subsample of ``x`` of at most
    ``max_rows`` values, standardized first so that the column's scale does not matter."""
    rng = np.random.default_rng(seed)
    if x.size > max_rows:
        x = rng.choice(x, size=max_rows, replace=False)
    center, scale = float(x.mean()), float(x.std()) or 1.0
    z = ((x - center) / scale).reshape(-1, 1)
    bgm = BayesianGaussianMixture(
        n_components=min(max_modes, len(np.unique(z))),
        covariance_type="diag",
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=0.001,
        n_init=1,
        random_state=seed,
    )
    with warnings.catch_warnings():  # a mixture that stopped early still gives usable modes
        warnings.simplefilter("ignore", ConvergenceWarning)
        bgm.fit(z)
    keep = bgm.weights_ > threshold
    if not keep.any():
        keep = bgm.weights_ == bgm.weights_.max()
    means = center + scale * bgm.means_[keep, 0]
    stds = scale * np.sqrt(bgm.covariances_[keep, 0])
    return means, stds, bgm.weights_[keep].astype(np.float64)


def fit_categories(series: pd.Series, column: str) -> CategoryCodec:
    """The observed values of a categorical or boolean column, sorted by their text."""
    counts = series.value_counts(sort=False, dropna=True)
    counts = counts[counts > 0]  # a category dtype also lists its unused levels
    found = [(plain(v), int(n)) for v, n in zip(counts.index.tolist(), counts, strict=True)]
    for value, _ in found:
        if not isinstance(value, str | bool | int | float):
            raise DataError(
                f"fit: column {column!r} holds {value!r} ({type(value).__name__}); a "
                "categorical column must hold strings, numbers or booleans: convert it first"
            )
    found.sort(key=lambda item: (str(item[0]), type(item[0]).__name__))
    missing = series[series.isna()]
    if len(missing):
        found.append((None, len(missing)))
    dtype = series.dtype
    levels, ordered = None, False
    if isinstance(dtype, pd.CategoricalDtype):
        levels, ordered = [plain(v) for v in dtype.categories.tolist()], bool(dtype.ordered)
    return CategoryCodec(
        categories=[v for v, _ in found], counts=[n for _, n in found], dtype=str(dtype),
        none=bool(missing.map(lambda v: v is None).any()), levels=levels, ordered=ordered,
    )  # fmt: skip


def plain(value: Any) -> Any:
    """A Python value for a NumPy or pandas scalar; ``None`` for any missing value."""
    if value is None or (not isinstance(value, str) and _isna(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def listing(categories: list[Any], limit: int = 20) -> str:
    """``categories`` for a message, the first ``limit`` of them."""
    shown = ", ".join(repr(c) for c in categories[:limit])
    more = len(categories) - limit
    return shown + (f" ... ({more} more)" if more > 0 else "")


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _number_dtype(series: pd.Series, integer: bool, missing: bool) -> str:
    """The dtype decoded values get: the column's own when numeric, else int64 (Int64 with
    missing values) for whole numbers and float64 otherwise."""
    dtype = series.dtype
    if ptypes.is_numeric_dtype(dtype) and not ptypes.is_bool_dtype(dtype):
        return str(dtype)
    if integer:
        return "Int64" if missing else "int64"
    return "float64"


def _unit(dtype: Any) -> str:
    """The tick unit (``s``, ``ms``, ``us``, ``ns``) of a datetime64 dtype, zone-aware or not."""
    return str(getattr(dtype, "unit", None) or np.datetime_data(dtype)[0])


def _ticks(dates: pd.Series, unit: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Int64 ticks of ``unit`` (UTC for zone-aware dates), the missing mask and the dtype."""
    dtype = str(dates.dtype)
    if getattr(dates.dtype, "tz", None) is not None:
        dates = dates.dt.tz_convert("UTC").dt.tz_localize(None)
    values = dates.to_numpy().astype(f"datetime64[{unit}]")
    return values.view(np.int64), np.isnat(values), dtype


def _from_ticks(ticks: np.ndarray, missing: np.ndarray, dtype: str) -> pd.Series:
    """Dates of ``dtype`` from int64 ticks of its unit (NaT where ``missing``)."""
    target = ptypes.pandas_dtype(dtype)
    values = ticks.astype(np.int64).view(f"datetime64[{_unit(target)}]").copy()
    values[missing] = np.datetime64("NaT")
    series = pd.Series(values)
    tz = getattr(target, "tz", None)
    return series.dt.tz_localize("UTC").dt.tz_convert(tz) if tz is not None else series


def _granularity(ticks: np.ndarray, unit: str) -> int:
    """The coarsest standard step (day ... nanosecond), in ticks of ``unit``, dividing all."""
    per_tick = _UNIT_NS[unit]
    for ns in sorted(_UNIT_NS.values(), reverse=True):
        if ns >= per_tick and ns % per_tick == 0 and not np.any(ticks % (ns // per_tick)):
            return ns // per_tick
    return 1
