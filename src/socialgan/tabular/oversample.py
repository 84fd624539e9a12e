"""Oversample the rare class of an account table: SMOTE-NC or the conditional synthesizer.

:func:`oversample` returns the table it is given followed by new rows of its minority class
(bots, say) until that class holds ``target_share`` of the rows. It only ever sees the rows
it is given: to study imbalance honestly, call it on a training fold and score on an
untouched test fold. Two methods:

- ``"smote-nc"``: imbalanced-learn's ``SMOTENC`` (Chawla et al. 2002): a new row lies on
  the segment between a real minority row and one of its ``k_neighbors`` nearest minority
  neighbours (numbers and dates interpolated, in their own units; categories and flags the
  most frequent among the neighbours). The neighbour search runs on z-scored numbers, so a
  follower count in the millions does not drown the rest. A number or date column with gaps
  gets a missing-indicator that SMOTE-NC treats as a category: a new row has a gap where
  most of its neighbours have one, and gaps are never interpolated as values (a gap
  counts as the minority's mean on the segment). Plain ``SMOTE`` (numbers only) or
  ``SMOTEN`` (categories only) when the table has one kind.
- ``"gan"``: a :class:`~socialgan.tabular.gan.TabularGAN` fitted on the given rows (or the
  ``synthesizer`` given) samples the new rows with the exact condition ``{label: minority}``.

Free text and identifiers (``description``, ``status``, ``screen_name``: the kinds
``text`` and ``id`` of :class:`~socialgan.tabular.metadata.TableMetadata`) cannot be
interpolated, and the synthesizer does not model them. With ``text="neighbour"`` (the
default) a new row takes them, all together, from its nearest real minority row (on the
modeled columns: for SMOTE-NC usually one end of its segment), so the text-derived
features a detector reads (name patterns, description length, the status client ...) stay
those of a real account of that class. ``text="missing"`` leaves them empty: then every
new row has no screen name, description or status, which a detector can learn as a
telltale of the *synthetic* rows rather than of the class.

Example:
    >>> from socialgan.tabular import load_twitter_bots
    >>> from socialgan.tabular.oversample import oversample
    >>> train = load_twitter_bots()  # doctest: +SKIP
    >>> balanced = oversample(train, "bot", method="smote-nc")  # doctest: +SKIP
    >>> balanced["bot"].mean()  # doctest: +SKIP
    0.5
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from socialgan.checks import check_choice, check_int, check_number
from socialgan.errors import DataError
from socialgan.tabular.gan import TabularGAN
from socialgan.tabular.metadata import TableMetadata, as_datetimes, as_numbers

__all__ = [
    "METHODS",
    "TEXT_MODES",
    "complete_rows",
    "fit_synthesizer",
    "oversample",
    "rows_to_add",
]

METHODS = ("smote-nc", "gan")
TEXT_MODES = ("neighbour", "missing")
_SMOTE_OPTIONS = frozenset({"k_neighbors"})
_LEFT_OUT = "columns left out of the synthesizer"  # TableMetadata.infer's warning


def oversample(
    frame: pd.DataFrame,
    label_column: str,
    *,
    method: str,
    target_share: float = 0.5,
    seed: int = 0,
    synthesizer: TabularGAN | None = None,
    text: str = "neighbour",
    column_kinds: Mapping[str, str] | None = None,
    **kw: Any,
) -> pd.DataFrame:
    """``frame`` followed by new rows of its minority class, which then holds at least
    ``target_share`` of the rows.

    Args:
        frame: the training rows (never a test fold); two classes in ``label_column``.
        label_column: the class column.
        method: ``"smote-nc"`` or ``"gan"`` (see the module docstring).
        target_share: the minority's share of the returned rows, in (0, 1); not below its
            current share. Default 0.5 (balanced).
        seed: seeds SMOTE-NC, or the synthesizer's fit and its samples. Default 0.
        synthesizer: ``"gan"`` only: a fitted :class:`TabularGAN` that models
            ``label_column`` as a discrete column; None (the default) fits one on ``frame``
            (:func:`fit_synthesizer`).
        text: ``"neighbour"`` (default): the new rows' text and id columns are those of
            their nearest real minority row; ``"missing"``: left empty.
        column_kinds: ``{column: kind}`` overriding the inferred kinds
            (:meth:`TableMetadata.infer`), for both methods.
        **kw: ``"smote-nc"``: ``k_neighbors`` (5; capped at the minority rows less one).
            ``"gan"`` without ``synthesizer``: :class:`TabularGAN` options (``epochs``,
            ``batch_size`` ...).

    Returns:
        A new frame with a fresh ``RangeIndex``: the rows of ``frame``, unchanged and in
        order, then the new minority rows, with ``frame``'s columns and dtypes.

    Raises:
        DataError: no such label column, a missing label, one class or more than two, an
            unknown method or option, a ``target_share`` outside (0, 1) or below the current
            share, or too few minority rows for SMOTE-NC.
    """
    method = check_choice("method", method, METHODS)
    text = check_choice("text", text, TEXT_MODES)
    seed = check_int("seed", seed)
    target_share = check_number(
        "target_share", target_share, minimum=0, maximum=1, open_min=True, open_max=True
    )
    base, minority, k = _plan(frame, label_column, target_share)
    if method == "smote-nc":
        unknown = sorted(set(kw) - _SMOTE_OPTIONS)
        if unknown:
            raise DataError(f"smote-nc: unknown option(s) {unknown}; it takes k_neighbors")
        if synthesizer is not None:
            raise DataError("synthesizer= is for method='gan'; smote-nc interpolates real rows")
    elif synthesizer is not None and kw:
        raise DataError(
            f"options {sorted(kw)} configure a synthesizer to fit; a fitted synthesizer was "
            "given, so they would be ignored"
        )
    if k == 0:
        return base
    codec = _Codec.fit(base, label_column, column_kinds)
    is_minority = (base[label_column] == minority).to_numpy()
    if method == "smote-nc":
        new = _smote(base, codec, is_minority, k, seed, int(kw.get("k_neighbors", 5)))
    else:
        gan = synthesizer
        if gan is None:
            gan = fit_synthesizer(base, label_column, seed=seed, column_kinds=column_kinds, **kw)
        new = gan.sample(k, seed=seed, conditions={label_column: minority})
        extra = [c for c in new.columns if c not in base.columns]
        if extra:
            raise DataError(
                f"the synthesizer models column(s) {extra} that the table lacks: it was "
                "fitted on another table"
            )
    new = _complete(new, base, codec, is_minority, label_column, minority, text)
    return pd.concat([base, new], ignore_index=True)


def complete_rows(
    rows: pd.DataFrame,
    reference: pd.DataFrame,
    label_column: str,
    value: Any,
    *,
    text: str = "neighbour",
    column_kinds: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Synthetic rows of class ``value`` made whole: the columns of ``reference`` that
    ``rows`` lacks (text and ids, which the synthesizer does not model) taken from each
    row's nearest real ``reference`` row of that class (``text="neighbour"``) or left empty
    (``"missing"``), and every column in ``reference``'s dtype. What :func:`oversample`
    does to its new rows, for rows sampled elsewhere (an adapted generator, say)."""
    text = check_choice("text", text, TEXT_MODES)
    if label_column not in reference.columns:
        raise DataError(f"no label column {label_column!r} in the reference table")
    base = reference.reset_index(drop=True)
    is_class = (base[label_column] == value).to_numpy()
    if not is_class.any():
        raise DataError(f"the reference table has no row with {label_column} = {value!r}")
    codec = _Codec.fit(base, label_column, column_kinds)
    return _complete(rows, base, codec, is_class, label_column, value, text)


def _complete(
    new: pd.DataFrame,
    base: pd.DataFrame,
    codec: _Codec,
    is_class: np.ndarray,
    label_column: str,
    value: Any,
    text: str,
) -> pd.DataFrame:
    new = new.reset_index(drop=True)
    new[label_column] = value
    others = [c for c in base.columns if c not in new.columns]
    if others:
        if text == "neighbour":
            donors = _nearest(codec, base.loc[is_class], new)
            taken = base.loc[is_class, others].iloc[donors].reset_index(drop=True)
        else:
            taken = pd.DataFrame(np.nan, index=range(len(new)), columns=others, dtype=object)
        new = pd.concat([new, taken], axis=1)
    return pd.DataFrame({c: _like(new[c], base[c]) for c in base.columns})


def rows_to_add(minority: int, total: int, target_share: float) -> int:
    """The fewest new minority rows that bring ``minority`` of ``total`` rows to a share
    of at least ``target_share`` (< 1): ``ceil((s n - m) / (1 - s))``."""
    need = (target_share * total - minority) / (1.0 - target_share)
    return max(0, math.ceil(need - 1e-9))


def fit_synthesizer(
    frame: pd.DataFrame,
    label_column: str,
    *,
    seed: int = 0,
    column_kinds: Mapping[str, str] | None = None,
    **kw: Any,
) -> TabularGAN:
    """A :class:`TabularGAN` (its defaults, quiet, ``**kw`` on top) fitted on ``frame``
    with ``label_column`` modeled as discrete, ready for ``conditions={label: value}``.
    The warning that text columns are left out is silenced: :func:`oversample` fills them."""
    kw = {"progress": False, "tensorboard": False, **kw}
    gan = TabularGAN(
        seed=seed, discrete_columns=[label_column], metadata=dict(column_kinds or {}), **kw
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_LEFT_OUT, category=UserWarning)
        return gan.fit(frame)


# ------------------------------------------------------------------ checks


def _plan(frame: Any, label: str, target_share: float) -> tuple[pd.DataFrame, Any, int]:
    """``(frame with a fresh index, minority label, rows to add)``; ``DataError`` for bad
    input."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"oversample: expected a pandas DataFrame, got {type(frame).__name__}")
    if label not in frame.columns:
        raise DataError(
            f"oversample: no label column {label!r}; the columns are: "
            + ", ".join(map(str, frame.columns))
        )
    if len(frame) == 0:
        raise DataError("oversample: the table has no rows")
    labels = frame[label]
    gaps = np.flatnonzero(labels.isna().to_numpy())
    if len(gaps):
        raise DataError(f"oversample: label {label!r}: row {gaps[0] + 1} has no label")
    counts = labels.value_counts(sort=False)
    if len(counts) < 2:
        raise DataError(
            f"oversample: label {label!r} holds one class only ({_plain(counts.index[0])!r}); "
            "there is no minority to oversample"
        )
    if len(counts) > 2:
        raise DataError(
            f"oversample: label {label!r} holds {len(counts)} classes "
            f"{[_plain(v) for v in counts.index]}; oversample takes two (one minority)"
        )
    minority = counts.idxmin()
    m, n = int(counts.min()), len(frame)
    if target_share < m / n - 1e-12:
        raise DataError(
            f"oversample: target_share={target_share:g} is below the minority's current share "
            f"{m / n:.4f} ({m} of {n} rows are {_plain(minority)!r}); oversampling only adds "
            "minority rows"
        )
    return frame.reset_index(drop=True), _plain(minority), rows_to_add(m, n, target_share)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# ------------------------------------------------------------------ encoding


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


@dataclass
class _Codec:
    """The modeled columns of a table as numbers SMOTE-NC can take, and back.

    ``numbers``: continuous and datetime columns, z-scored (gaps filled with the mean, and
    a ``:missing`` indicator among the discrete codes); ``discrete``: categorical and
    boolean columns (and the indicators) as integer codes of ``categories``.
    """

    numbers: list[str]
    dates: list[str]
    integers: list[str]
    mean: np.ndarray
    std: np.ndarray
    discrete: list[str]
    categories: dict[str, list[Any]] = field(default_factory=dict)
    gaps: list[str] = field(default_factory=list)

    @classmethod
    def fit(cls, frame: pd.DataFrame, label: str, kinds: Mapping[str, str] | None) -> _Codec:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_LEFT_OUT, category=UserWarning)
            meta = TableMetadata.infer(frame.drop(columns=[label]), metadata=dict(kinds or {}))
        numbers = [c.name for c in meta.columns if c.kind in ("continuous", "datetime")]
        codec = cls(
            numbers=numbers,
            dates=[c.name for c in meta.columns if c.kind == "datetime"],
            integers=[c.name for c in meta.columns if c.integer],
            mean=np.zeros(len(numbers)),
            std=np.ones(len(numbers)),
            discrete=[c.name for c in meta.columns if c.kind in ("categorical", "boolean")],
        )
        raw = codec._raw_numbers(frame)
        if raw.size:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column
                codec.mean = np.nan_to_num(np.nanmean(raw, axis=0))
                std = np.nan_to_num(np.nanstd(raw, axis=0))
            codec.std = np.where(std > 0, std, 1.0)
        codec.gaps = [c for j, c in enumerate(numbers) if np.isnan(raw[:, j]).any()]
        for c in codec.discrete:
            seen = [v for v in pd.unique(frame[c].astype(object)) if not _missing(v)]
            codec.categories[c] = [*seen, None]  # the last code: missing
        for c in codec.gaps:
            codec.categories[f"{c}:missing"] = [False, True]
        return codec

    @property
    def code_columns(self) -> list[str]:
        return [*self.discrete, *(f"{c}:missing" for c in self.gaps)]

    def _raw_numbers(self, frame: pd.DataFrame) -> np.ndarray:
        cols = []
        for c in self.numbers:
            if c in self.dates:
                when = as_datetimes(frame[c], c).astype("datetime64[ns]")
                ns = when.to_numpy().astype("int64").astype(np.float64)
                cols.append(np.where(when.isna().to_numpy(), np.nan, ns))
            else:
                cols.append(np.asarray(as_numbers(frame[c], c), dtype=np.float64))
        return np.column_stack(cols) if cols else np.zeros((len(frame), 0))

    def encode(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``(z-scored numbers, gaps as 0; codes, -1 for an unseen value)``."""
        raw = self._raw_numbers(frame)
        z = np.nan_to_num((raw - self.mean) / self.std)
        codes = []
        for c in self.discrete:
            index = {v: i for i, v in enumerate(self.categories[c][:-1])}
            missing = len(self.categories[c]) - 1
            values = frame[c].astype(object).tolist()
            codes.append([missing if _missing(v) else index.get(v, -1) for v in values])
        for c in self.gaps:
            codes.append(np.isnan(raw[:, self.numbers.index(c)]).astype(int).tolist())
        code_matrix = np.array(codes, dtype=np.int64).T if codes else np.zeros((len(frame), 0))
        return z, code_matrix.reshape(len(frame), -1)

    def one_hot(self, frame: pd.DataFrame) -> np.ndarray:
        """z-scored numbers and one-hot codes: the space of the nearest-neighbour search."""
        z, codes = self.encode(frame)
        parts = [z]
        for j, c in enumerate(self.code_columns):
            width = len(self.categories[c])
            hot = np.zeros((len(frame), width))
            seen = codes[:, j] >= 0
            hot[np.flatnonzero(seen), codes[seen, j]] = 1.0
            parts.append(hot)
        return np.hstack(parts)

    def decode(self, z: np.ndarray, codes: np.ndarray) -> pd.DataFrame:
        """The modeled columns of encoded rows (numbers unscaled, integers rounded)."""
        out: dict[str, Any] = {}
        gap_of = {c: codes[:, len(self.discrete) + i] == 1 for i, c in enumerate(self.gaps)}
        for j, c in enumerate(self.numbers):
            values = z[:, j] * self.std[j] + self.mean[j]
            if c in self.integers or c in self.dates:
                values = np.round(values)
            values = np.where(gap_of[c], np.nan, values) if c in gap_of else values
            if c in self.dates:
                gap = np.isnan(values)
                when = np.where(gap, 0, values).astype(np.int64).view("datetime64[ns]")
                when[gap] = np.datetime64("NaT")
                out[c] = when
            else:
                out[c] = values
        for j, c in enumerate(self.discrete):
            cats = self.categories[c]
            out[c] = pd.Series([cats[int(v)] for v in codes[:, j]], dtype=object)
        return pd.DataFrame(out)


# ------------------------------------------------------------------ the methods


def _imblearn() -> Any:
    try:
        from imblearn import over_sampling
    except ImportError:
        raise DataError(
            "oversample(method='smote-nc') needs imbalanced-learn: "
            "pip install 'socialgan[tabular]' (or use method='gan')"
        ) from None
    return over_sampling


def _smote(
    frame: pd.DataFrame, codec: _Codec, is_minority: np.ndarray, k: int, seed: int, k_nn: int
) -> pd.DataFrame:
    """``k`` SMOTE-NC rows of the minority class (modeled columns only)."""
    m = int(is_minority.sum())
    if m < 2:
        raise DataError(
            f"smote-nc: the minority class has {m} row; interpolation needs at least 2 "
            "(use method='gan', or more data)"
        )
    k_nn = min(check_int("k_neighbors", k_nn, minimum=1), m - 1)
    z, codes = codec.encode(frame)
    for i, c in enumerate(codec.gaps):  # a gap interpolates as the minority's mean
        j, gap = codec.numbers.index(c), codes[:, len(codec.discrete) + i] == 1
        known = is_minority & ~gap
        z[gap, j] = z[known, j].mean() if known.any() else 0.0
    x = np.hstack([z, codes.astype(np.float64)])
    if x.shape[1] == 0:
        raise DataError(
            "smote-nc: the table has no number, date, category or flag column to interpolate "
            "(only text, ids and the label)"
        )
    y = is_minority.astype(np.int64)
    strategy = {1: m + k}
    lib = _imblearn()
    n_num, n_cat = z.shape[1], codes.shape[1]
    if n_num and n_cat:
        cats = list(range(n_num, n_num + n_cat))
        sampler = lib.SMOTENC(
            categorical_features=cats,
            sampling_strategy=strategy,
            k_neighbors=k_nn,
            random_state=seed,
        )
    elif n_num:
        sampler = lib.SMOTE(sampling_strategy=strategy, k_neighbors=k_nn, random_state=seed)
    else:
        sampler = lib.SMOTEN(sampling_strategy=strategy, k_neighbors=k_nn, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        resampled, _ = sampler.fit_resample(x, y)
    new = np.asarray(resampled, dtype=np.float64)[len(frame) :]  # imblearn appends them
    if len(new) != k:  # pragma: no cover - a change in imbalanced-learn, not bad input
        raise RuntimeError(f"SMOTE-NC returned {len(new)} new rows, expected {k}")
    return codec.decode(new[:, :n_num], np.rint(new[:, n_num:]).astype(np.int64))


def _nearest(codec: _Codec, minority: pd.DataFrame, new: pd.DataFrame) -> np.ndarray:
    """For each new row, the position in ``minority`` of its nearest real row."""
    from sklearn.neighbors import NearestNeighbors

    real = codec.one_hot(minority)
    if real.shape[1] == 0:  # nothing to compare: donors drawn in turn
        return np.arange(len(new)) % len(minority)
    nn = NearestNeighbors(n_neighbors=1).fit(real)
    return nn.kneighbors(codec.one_hot(new), return_distance=False)[:, 0]


def _like(values: pd.Series, template: pd.Series) -> pd.Series:
    """``values`` in ``template``'s dtype where it fits (a bool column with gaps becomes
    pandas ``boolean``; anything else that does not fit stays as it is)."""
    dtype = template.dtype
    try:
        if ptypes.is_bool_dtype(dtype) and values.isna().any():
            return values.astype("boolean")
        if ptypes.is_integer_dtype(dtype) and values.isna().any():
            return values.astype("Int64")
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values
