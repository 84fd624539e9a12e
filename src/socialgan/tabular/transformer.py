"""The data transformer of the tabular GAN: a table to the vectors G and D see, and back.

Mode-specific normalization (Xu et al. 2019, "Modeling Tabular Data using Conditional
GAN"): a continuous or datetime column is fitted with a Dirichlet-process Gaussian mixture,
so that a multi-modal column (follower counts, account ages) becomes a one-hot of its mode
plus a scalar ``alpha = (x - mu_k) / (4 sigma_k)`` within it, which a tanh can produce;
one that had missing values also gets a [present, missing] one-hot. Categorical and
boolean columns become a one-hot over their observed values, the missing value its own
category. :attr:`TableTransformer.spans` say what activation G must apply where,
:attr:`TableTransformer.discrete` what a conditional vector can name. The per-column
encodings (and how datetimes are counted) are in :mod:`~socialgan.tabular.column_codecs`.

``inverse_transform(transform(frame))`` gives the modeled columns back, dtypes and missing
values included (floats to float64 rounding) when ``transform`` is asked for float64; the
float32 default, what the networks train on, rounds ``alpha`` to float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from socialgan.checks import check_int, check_number
from socialgan.errors import DataError

from .column_codecs import (
    MODE_ARRAYS,
    CategoryCodec,
    ModeCodec,
    fit_categories,
    fit_modes,
    listing,
    plain,
)
from .metadata import ColumnMeta, TableMetadata

__all__ = ["STATE_FORMAT", "DiscreteColumn", "Span", "TableTransformer"]

#: The ``format`` entry of :meth:`TableTransformer.to_state`.
STATE_FORMAT = "socialgan.TableTransformer"
_Codec = ModeCodec | CategoryCodec


@dataclass(frozen=True)
class Span:
    """``width`` output units from ``start`` that encode one part of ``column``: ``kind``
    ``"alpha"`` (one tanh scalar), ``"mode"`` (softmax over its Gaussian modes),
    ``"category"`` (softmax over a categorical or boolean column's values) or ``"missing"``
    (softmax over [present, missing])."""

    column: str
    kind: str
    start: int
    width: int
    activation: str


@dataclass(frozen=True)
class DiscreteColumn:
    """A categorical or boolean column: its ``category`` span starts at ``start``;
    ``categories`` are its values in one-hot order (``None`` for missing) and ``counts``
    how often each occurred in the training data."""

    name: str
    start: int
    categories: list[Any]
    counts: list[int]


class TableTransformer:
    """Encode a table for the GAN (:meth:`transform`) and decode G's output
    (:meth:`inverse_transform`).

    Args:
        max_modes: most Gaussian modes per continuous column (default 10).
        weight_threshold: modes of mixture weight at most this are dropped (default 0.005).
        max_fit_rows: each mixture is fitted on a seeded subsample of at most this many
            rows, which keeps fit fast on big tables (default 20,000).
        seed: seeds the subsample and the mixtures (default 0).
        log_long_tails: model a long-tailed non-negative column (skewness above 2 that
            ``log1p`` lowers: follower counts, say) as ``log1p(x)`` (default True).

    After :meth:`fit`: ``columns`` (the modeled columns, in order), ``spans``,
    ``discrete`` and ``output_dim``.

    Example:
        >>> tt = TableTransformer().fit(frame, TableMetadata.infer(frame))  # doctest: +SKIP
        >>> x = tt.transform(frame)  # float32 (rows, tt.output_dim)  # doctest: +SKIP
        >>> tt.inverse_transform(x)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        max_modes: int = 10,
        weight_threshold: float = 0.005,
        max_fit_rows: int = 20_000,
        seed: int = 0,
        log_long_tails: bool = True,
    ) -> None:
        self.max_modes = check_int("max_modes", max_modes, minimum=1)
        self.weight_threshold = check_number(
            "weight_threshold", weight_threshold, minimum=0, maximum=1, open_max=True
        )
        self.max_fit_rows = check_int("max_fit_rows", max_fit_rows, minimum=2)
        self.seed = check_int("seed", seed, minimum=0)
        self.log_long_tails = bool(log_long_tails)
        self.columns: list[str] = []
        self.spans: list[Span] = []
        self.discrete: list[DiscreteColumn] = []
        self.output_dim = 0
        self._metas: list[ColumnMeta] = []
        self._codecs: list[_Codec] = []

    def fit(self, frame: pd.DataFrame, metadata: TableMetadata) -> TableTransformer:
        """Learn the encoding of ``metadata``'s modeled columns from ``frame`` (checked
        first with :meth:`TableMetadata.validate`)."""
        metadata.validate(frame, source="fit")
        metas = metadata.modeled()
        codecs: list[_Codec] = []
        for meta in metas:
            series = frame[meta.name]
            if meta.kind in ("categorical", "boolean"):
                codecs.append(fit_categories(series, meta.name))
            else:
                codecs.append(fit_modes(series, meta, **self._params()))
        self._set_layout(metas, codecs)
        return self

    def transform(self, frame: pd.DataFrame, *, dtype: Any = np.float32) -> np.ndarray:
        """``frame`` as a ``(rows, output_dim)`` array (float32 unless ``dtype``);
        ``alpha`` is not clipped, so :meth:`inverse_transform` gives the values back."""
        self._check_fitted()
        absent = [c for c in self.columns if c not in frame.columns]
        if absent:
            raise DataError(
                f"transform: the frame has no column {', '.join(map(repr, absent))}; "
                f"expected the columns {', '.join(self.columns)}"
            )
        n = len(frame)
        out = np.zeros((n, self.output_dim), dtype=dtype)
        rows = np.arange(n)
        for meta, codec, start in self._layout():
            series = frame[meta.name]
            if isinstance(codec, CategoryCodec):
                out[rows, start + codec.encode(series, meta.name, "transform")] = 1.0
                continue
            x = codec.values(series, meta.name, "transform")
            missing = np.isnan(x)
            if missing.any() and not codec.missing:
                raise DataError(
                    f"transform: column {meta.name!r}: row {int(np.flatnonzero(missing)[0]) + 1}"
                    " is missing, but the training data had no missing values in it"
                )
            alpha, mode = codec.encode(np.where(missing, codec.fill, x))
            out[:, start] = alpha
            out[rows, start + 1 + mode] = 1.0
            if codec.missing:
                out[rows, start + 1 + len(codec.means) + missing] = 1.0
        return out

    def inverse_transform(self, data: np.ndarray) -> pd.DataFrame:
        """A frame of the modeled columns from ``data`` ``(rows, output_dim)``: tanh spans
        clipped to [-1, 1], softmax spans decoded by argmax (logits or probabilities)."""
        self._check_fitted()
        data = np.asarray(data, dtype=np.float64)
        if data.ndim != 2 or data.shape[1] != self.output_dim:
            raise DataError(
                f"inverse_transform: expected an array (rows, {self.output_dim}), "
                f"got shape {data.shape}"
            )
        out = {}
        for meta, codec, start in self._layout():
            if isinstance(codec, CategoryCodec):
                width = len(codec.categories)
                out[meta.name] = codec.decode(data[:, start : start + width].argmax(axis=1))
                continue
            k = len(codec.means)
            mode = data[:, start + 1 : start + 1 + k].argmax(axis=1)
            missing = np.zeros(len(data), dtype=bool)
            if codec.missing:
                missing = data[:, start + 1 + k + 1] > data[:, start + 1 + k]
            out[meta.name] = codec.decode(data[:, start], mode, missing)
        return pd.DataFrame(out, columns=self.columns)

    def category_index(self, column: str, value: Any) -> int:
        """The index of ``value`` among ``column``'s categories (``None`` or NaN: missing)."""
        self._check_fitted()
        found = [d for d in self.discrete if d.name == column]
        if not found:
            raise DataError(
                f"column {column!r} is not a categorical or boolean column; the discrete "
                f"columns are: {', '.join(d.name for d in self.discrete) or '(none)'}"
            )
        wanted = plain(value)
        for i, category in enumerate(found[0].categories):
            if (category is None) == (wanted is None) and (wanted is None or category == wanted):
                return i
        raise DataError(
            f"column {column!r}: unknown value {value!r}; expected one of "
            + listing(found[0].categories)
        )

    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """A JSON-able dict and float64 arrays (for safetensors) that :meth:`from_state`
        reads back; nothing is pickled."""
        self._check_fitted()
        arrays: dict[str, np.ndarray] = {}
        columns = []
        for i, (meta, codec) in enumerate(zip(self._metas, self._codecs, strict=True)):
            columns.append({"meta": meta.to_dict(), **codec.info()})
            if isinstance(codec, ModeCodec):
                for name in ("means", "stds", "weights"):
                    arrays[f"{i}.{name}"] = np.ascontiguousarray(getattr(codec, name), np.float64)
        state = {"format": STATE_FORMAT, "version": 1, "params": self._params(), "columns": columns}
        return state, arrays

    @classmethod
    def from_state(cls, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> TableTransformer:
        """The transformer saved by :meth:`to_state`."""
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise DataError(f"transformer state: expected a dict with format {STATE_FORMAT!r}")
        try:
            self = cls(**state["params"])
            metas: list[ColumnMeta] = []
            codecs: list[_Codec] = []
            for i, column in enumerate(state["columns"]):
                column = dict(column)
                metas.append(ColumnMeta.from_dict(column.pop("meta")))
                if column.pop("kind") == "categories":
                    codecs.append(CategoryCodec(**column))
                    continue
                stored: dict[str, Any] = {
                    n: np.asarray(arrays[f"{i}.{n}"], np.float64) for n in MODE_ARRAYS
                }
                codecs.append(ModeCodec(**stored, **column))
        except DataError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"transformer state: malformed ({exc!r})") from None
        self._set_layout(metas, codecs)
        return self

    def _set_layout(self, metas: list[ColumnMeta], codecs: list[_Codec]) -> None:
        """Derive ``columns``, ``spans``, ``discrete`` and ``output_dim`` from the codecs."""
        self._metas, self._codecs = metas, codecs
        self.columns = [m.name for m in metas]
        self.spans, self.discrete = [], []
        start = 0
        for meta, codec in zip(metas, codecs, strict=True):
            if isinstance(codec, CategoryCodec):
                width = len(codec.categories)
                self.spans.append(Span(meta.name, "category", start, width, "softmax"))
                self.discrete.append(
                    DiscreteColumn(meta.name, start, list(codec.categories), list(codec.counts))
                )
                start += width
                continue
            k = len(codec.means)
            self.spans.append(Span(meta.name, "alpha", start, 1, "tanh"))
            self.spans.append(Span(meta.name, "mode", start + 1, k, "softmax"))
            start += 1 + k
            if codec.missing:
                self.spans.append(Span(meta.name, "missing", start, 2, "softmax"))
                start += 2
        self.output_dim = start

    def _layout(self) -> list[tuple[ColumnMeta, _Codec, int]]:
        """Each modeled column with its codec and the start of its first span."""
        starts: dict[str, int] = {}
        for span in self.spans:
            starts.setdefault(span.column, span.start)
        return [(m, c, starts[m.name]) for m, c in zip(self._metas, self._codecs, strict=True)]

    def _params(self) -> dict[str, Any]:
        return {
            "max_modes": self.max_modes, "weight_threshold": self.weight_threshold,
            "max_fit_rows": self.max_fit_rows, "seed": self.seed,
            "log_long_tails": self.log_long_tails,
        }  # fmt: skip

    def _check_fitted(self) -> None:
        if not self._codecs:
            raise RuntimeError("the TableTransformer is not fitted: call fit(frame, metadata)")
