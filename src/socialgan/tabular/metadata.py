"""What each column of an account table is, and the checks a table must pass to be modeled.

:class:`TableMetadata` lists the columns with their kind (:data:`KINDS`). The synthesizer
models the kinds in :data:`MODELED`; free text and identifiers are left out (a GAN cannot
learn them from a few thousand rows, and copying them would leak real users).
:meth:`TableMetadata.infer` guesses the kinds from a frame, :meth:`TableMetadata.validate`
refuses, with one message a user can act on, a table the synthesizer could not fit.
:func:`as_numbers` and :func:`as_datetimes` read a column as its kind says, shared by the
checks and by the data transformer so both agree on what a bad value is.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from socialgan.checks import check_int
from socialgan.errors import DataError

__all__ = [
    "BOOLEAN_WORDS",
    "KINDS",
    "MODELED",
    "ColumnMeta",
    "TableMetadata",
    "as_datetimes",
    "as_numbers",
]

KINDS = ("continuous", "categorical", "boolean", "datetime", "text", "id")
#: The kinds the synthesizer models; ``text`` and ``id`` columns are left out of it.
MODELED = ("continuous", "categorical", "boolean", "datetime")
#: Strings (compared lower-cased, stripped) that make a text column boolean.
BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no"})

_SAMPLE = 1000  # values tried before a full (slow) date parse of a text column
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class ColumnMeta:
    """One column: its ``name``, its ``kind`` (one of :data:`KINDS`) and, for continuous
    columns, whether every value is a whole number (``integer``: samples are rounded) and
    whether none is negative (``nonnegative``: samples are kept so)."""

    name: str
    kind: str
    integer: bool = False
    nonnegative: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise DataError(f"column name: expected a non-empty string, got {self.name!r}")
        if self.kind not in KINDS:
            raise DataError(
                f"column {self.name!r}: unknown kind {self.kind!r}; expected one of "
                + ", ".join(KINDS)
            )
        for flag in ("integer", "nonnegative"):
            value = getattr(self, flag)
            if not isinstance(value, bool):
                raise DataError(f"column {self.name!r}: {flag} must be true or false")
            if value and self.kind != "continuous":
                raise DataError(
                    f"column {self.name!r}: {flag} applies to continuous columns only, "
                    f"not {self.kind}"
                )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict that :meth:`from_dict` reads back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnMeta:
        """The column described by ``d`` (``name``, ``kind``, optional flags)."""
        unknown = set(d) - {"name", "kind", "integer", "nonnegative"}
        if unknown or "name" not in d or "kind" not in d:
            raise DataError(
                f"column metadata {dict(d)!r}: expected the keys name, kind and optionally "
                "integer, nonnegative"
            )
        return cls(**dict(d))


@dataclass
class TableMetadata:
    """The columns of a table, in table order."""

    columns: list[ColumnMeta]

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise DataError(f"table metadata: columns named twice: {', '.join(repeated)}")

    def modeled(self) -> list[ColumnMeta]:
        """The columns the synthesizer models (kinds in :data:`MODELED`), in table order."""
        return [c for c in self.columns if c.kind in MODELED]

    def names(self) -> list[str]:
        """Every column name, in table order."""
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> ColumnMeta:
        for column in self.columns:
            if column.name == name:
                return column
        raise DataError(f"unknown column {name!r}; the columns are: {', '.join(self.names())}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict that :meth:`from_dict` reads back."""
        return {"columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TableMetadata:
        """The metadata written by :meth:`to_dict`."""
        columns = d.get("columns") if isinstance(d, Mapping) else None
        if not isinstance(columns, list):
            raise DataError("table metadata: expected {'columns': [{'name': ..., 'kind': ...}]}")
        return cls([ColumnMeta.from_dict(c) for c in columns])

    @classmethod
    def infer(
        cls,
        frame: pd.DataFrame,
        *,
        discrete_columns: Sequence[str] = (),
        metadata: Mapping[str, str | Mapping[str, Any]] | None = None,
        max_categories: int = 100,
    ) -> TableMetadata:
        """Guess each column's kind from ``frame``.

        Rules, in order:

        - a bool dtype (numpy or pandas ``boolean``), or text values all in
          :data:`BOOLEAN_WORDS` (any case) or Python bools: ``boolean``;
        - a pandas ``category`` dtype: ``categorical``;
        - a datetime dtype: ``datetime``;
        - a numeric dtype: ``continuous``, ``integer`` when every value is whole and
          ``nonnegative`` when the smallest is >= 0 (a 0/1 column stays continuous, its
          samples are rounded and kept in [0, 1]; name it in ``discrete_columns`` to make
          it categorical);
        - a text column whose values all parse as numbers: ``continuous`` (flags as above);
          whose values all contain a digit and parse as dates (``pd.to_datetime(...,
          format="mixed")``): ``datetime``; with at most ``max_categories`` distinct values:
          ``categorical``; all distinct without whitespace: ``id``; else ``text``.

        A column in ``discrete_columns`` is ``categorical`` whatever its values (a boolean
        one stays boolean). ``metadata`` overrides both for the columns it names, with a kind
        (``{"plan": "categorical"}``) or a dict (``{"age": {"kind": "continuous", "integer":
        True}}``; flags left out are inferred). Text and id columns get one ``UserWarning``:
        they are left out of the synthesizer.
        """
        max_categories = check_int("max_categories", max_categories, minimum=1)
        overrides = dict(metadata or {})
        names = _column_names(frame, "infer")
        for name in [*discrete_columns, *overrides]:
            if name not in names:
                raise DataError(f"unknown column {name!r}; the columns are: {', '.join(names)}")
        columns = []
        for name in names:
            series = frame[name]
            kind = _infer_kind(series, max_categories)
            if name in discrete_columns and kind != "boolean":
                kind = "categorical"
            given: Mapping[str, Any] = {}
            if name in overrides:
                spec = overrides[name]
                given = {"kind": spec} if isinstance(spec, str) else spec
                if not isinstance(given, Mapping) or "kind" not in given:
                    raise DataError(
                        f"metadata for column {name!r}: expected a kind (one of "
                        f"{', '.join(KINDS)}) or a dict with 'kind', got {spec!r}"
                    )
                kind = given["kind"]
            flags = _numeric_flags(series) if kind == "continuous" else {}
            flags.update({k: v for k, v in given.items() if k != "kind"})
            columns.append(ColumnMeta.from_dict({"name": name, "kind": kind, **flags}))
        left_out = {
            what: [c.name for c in columns if c.kind == kind]
            for kind, what in (("text", "free text"), ("id", "identifiers"))
        }
        if any(left_out.values()):
            parts = [f"{what}: {', '.join(cols)}" for what, cols in left_out.items() if cols]
            warnings.warn(
                "columns left out of the synthesizer: "
                + "; ".join(parts)
                + " (declare a kind in metadata= to model one)",
                UserWarning,
                stacklevel=2,
            )
        return cls(columns)

    def validate(self, frame: pd.DataFrame, *, source: str = "table") -> None:
        """Raise :class:`DataError` when the synthesizer could not fit ``frame``.

        Refused, each with its own message: fewer than 2 rows; a column of the metadata
        absent from the frame; no modeled column; a modeled column that is all missing,
        holds one distinct value, or (continuous or datetime) holds a value that does not
        parse as its kind or is infinite. ``source`` (a file name) starts every message.
        """
        names = _column_names(frame, source)
        absent = [c.name for c in self.columns if c.name not in names]
        if absent:
            raise DataError(
                f"{source}: no column {', '.join(map(repr, absent))}; "
                f"the columns are: {', '.join(names)}"
            )
        if len(frame) < 2:
            raise DataError(f"{source}: {len(frame)} row(s); expected at least 2 rows to fit")
        modeled = self.modeled()
        if not modeled:
            raise DataError(
                f"{source}: no column to model; expected at least one column of kind "
                + ", ".join(MODELED)
                + f" (the kinds are: {', '.join(f'{c.name}={c.kind}' for c in self.columns)})"
            )
        for column in modeled:
            series = frame[column.name]
            if not series.notna().any():
                raise DataError(
                    f"{source}: column {column.name!r} is empty (every row is missing); "
                    "drop it or fill it in"
                )
            if column.kind == "continuous":
                values: Any = pd.Series(as_numbers(series, column.name, source=source))
            elif column.kind == "datetime":
                values = as_datetimes(series, column.name, source=source)
            else:
                values = series
            distinct = values.dropna().unique()
            if len(distinct) == 1:
                raise DataError(
                    f"{source}: column {column.name!r} holds a single value "
                    f"({_shown(distinct[0])!r}); "
                    "drop it, or pass it as a fixed condition when sampling"
                )


def as_numbers(series: pd.Series, column: str, *, source: str = "table") -> np.ndarray:
    """``series`` as float64 (NaN where missing); text is parsed. :class:`DataError` names
    the first row (1-based) holding a value that is not a finite number."""
    if ptypes.is_datetime64_any_dtype(series.dtype):
        raise DataError(
            f"{source}: column {column!r} holds dates; declare it datetime, not continuous"
        )
    numeric = ptypes.is_numeric_dtype(series.dtype) or ptypes.is_bool_dtype(series.dtype)
    if numeric:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isinf(values)
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(np.float64, na_value=np.nan)
        bad = ~np.isfinite(values) & series.notna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        hint = (
            "leave the cell empty for a missing value"
            if numeric
            else f"fix the value, or declare the column categorical "
            f"(metadata={{{column!r}: 'categorical'}})"
        )
        raise DataError(
            f"{source}: column {column!r} is continuous but row {row + 1} holds "
            f"{_shown(series.iloc[row])!r}, not a finite number; {hint}"
        )
    return values


def as_datetimes(series: pd.Series, column: str, *, source: str = "table") -> pd.Series:
    """``series`` as a datetime64 series (NaT where missing); text is parsed with
    ``format="mixed"``. :class:`DataError` names the first row (1-based) that is no date."""
    if ptypes.is_datetime64_any_dtype(series.dtype):
        return series
    if ptypes.is_numeric_dtype(series.dtype) or ptypes.is_bool_dtype(series.dtype):
        raise DataError(
            f"{source}: column {column!r} is datetime but holds numbers; convert it with "
            "pd.to_datetime(..., unit=...) first, or declare it continuous"
        )
    parsed = _parse_dates(series)
    present = series.notna().to_numpy()
    bad = present if parsed is None else present & parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{source}: column {column!r} is datetime but row {row + 1} holds "
            f"{_shown(series.iloc[row])!r}, not a date; fix the value, or declare the column "
            f"categorical (metadata={{{column!r}: 'categorical'}})"
        )
    assert parsed is not None
    return parsed


def _column_names(frame: pd.DataFrame, source: str) -> list[str]:
    """The frame's column names; :class:`DataError` for a name that is not a string or
    that appears twice (neither could be told apart by name in metadata)."""
    names = list(frame.columns)
    odd = [n for n in names if not isinstance(n, str)]
    if odd:
        raise DataError(
            f"{source}: column names must be strings, got {odd[0]!r}; "
            "rename them (frame.columns = frame.columns.astype(str))"
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(f"{source}: columns named twice: {', '.join(repeated)}")
    return names


def _shown(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds (so a message reads ``inf``, not
    ``np.float64(inf)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _parse_dates(series: pd.Series) -> pd.Series | None:
    """Parse text as dates (NaT where a value does not parse); ``None`` when it cannot be
    parsed as one column (for example mixed time zones even in UTC)."""
    for utc in (False, True):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                parsed = pd.to_datetime(series, errors="coerce", format="mixed", utc=utc)
        except (ValueError, TypeError, OverflowError):
            continue
        if ptypes.is_datetime64_any_dtype(parsed.dtype):
            return parsed
    return None


def _infer_kind(series: pd.Series, max_categories: int) -> str:
    """The kind of one column by the rules of :meth:`TableMetadata.infer`."""
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype):
        return "boolean"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if ptypes.is_datetime64_any_dtype(dtype):
        return "datetime"
    if ptypes.is_numeric_dtype(dtype):
        return "continuous"
    values = series.dropna()
    if values.empty:
        return "categorical"
    if all(
        isinstance(v, bool | np.bool_)
        or (isinstance(v, str) and v.strip().lower() in BOOLEAN_WORDS)
        for v in values.unique()
    ):
        return "boolean"
    if pd.to_numeric(values, errors="coerce").notna().all():
        return "continuous"
    text = values.astype(str)
    if text.head(_SAMPLE).str.contains(_DIGIT).all() and text.str.contains(_DIGIT).all():
        sample = _parse_dates(values.head(_SAMPLE))
        if sample is not None and sample.notna().all():
            parsed = _parse_dates(values)
            if parsed is not None and parsed.notna().all():
                return "datetime"
    distinct = values.nunique()
    if distinct <= max_categories:
        return "categorical"
    if distinct == len(values) and not text.str.contains(r"\s").any():
        return "id"
    return "text"


def _numeric_flags(series: pd.Series) -> dict[str, bool]:
    """``integer`` and ``nonnegative`` as the observed values say (both false when none
    parses)."""
    if ptypes.is_datetime64_any_dtype(series.dtype):
        return {}
    values = pd.to_numeric(series, errors="coerce").to_numpy(np.float64, na_value=np.nan)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"integer": False, "nonnegative": False}
    return {
        "integer": bool(np.all(values == np.round(values))),
        "nonnegative": bool(values.min() >= 0),
    }
