"""Account features for bot detection, from any account table.

:class:`AccountFeatures` turns a table of account profiles into a numeric matrix. Columns
are found by kind (:meth:`socialgan.tabular.metadata.TableMetadata.infer`), with the
Twitter names (:data:`KNOWN_COLUMNS`) as known extras that fix a column's kind and role:

- counts and other numbers: ``sign(x) * log1p(|x|)``, plus ``:missing`` where the
  training table had gaps;
- flags (booleans, ``TRUE``/``yes``/``1``): 0/1 and a ``:missing`` indicator;
- dates (any datetime column): the age in days at a reference time, the newest date of
  that column in the training table (stored, so a score does not drift with the clock);
- the ratios bot research uses (Yang et al. 2020, Botometer-lite):
  followers per friend, statuses per day of age, favourites per status, listed per
  follower, each ``log1p(a / max(b, 1))``;
- screen-name and name patterns: length, digit count and share, trailing digits,
  upper-case share, underscores, ``bot`` in the name, name / screen-name similarity;
- free text (description, the last status, location, url ...): length, empty, URL,
  hashtag and mention counts; a Twitter status dump (``{'text': ..., 'source': ...}`` or
  tweepy's ``Status(...)``) is read for its tweet text and its client (``source``);
- categorical columns (``lang``, the status client): one-hot of the training table's
  frequent values, ``:other`` and ``:missing``;
- optionally (``hash_features > 0``), a hashed TF-IDF of description + status text
  (word 1-2-grams and char 2-4-grams with scikit-learn's ``HashingVectorizer``: no
  vocabulary to store, only the ``idf``). Off by default: on ``twitter-bots`` (5-fold CV,
  seed 0) it lowered the LightGBM detector's accuracy from 0.926 to 0.916 (256 columns)
  and made it 5 times slower; the text alone reaches 0.73 (logistic regression), and a
  stacked text score added nothing (0.928). Other platforms' bots may write more tellingly.

The learned state is JSON (:meth:`AccountFeatures.to_dict`): column roles, reference
times, categories and the ``idf`` vectors; no pickle.

Example:
    >>> from socialgan.tabular import load_twitter_bots
    >>> from socialgan.tabular.features import AccountFeatures
    >>> table = load_twitter_bots()  # doctest: +SKIP
    >>> feats = AccountFeatures(exclude=["bot"]).fit(table)  # doctest: +SKIP
    >>> feats.transform_frame(table.head())  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from socialgan.checks import check_int
from socialgan.errors import DataError
from socialgan.tabular.features_text import (
    hashed_idf,
    hashed_tfidf,
    is_missing,
    name_patterns,
    name_similarity,
    status_parts,
    strings,
    text_stats,
)
from socialgan.tabular.metadata import TableMetadata

__all__ = ["FEATURES_VERSION", "KNOWN_COLUMNS", "RATIOS", "AccountFeatures"]

FEATURES_VERSION = 1
#: Known column names by role (the first found in a table is used). The first name of a
#: count role, and every flag, date, document and categorical name, fixes the kind.
KNOWN_COLUMNS: dict[str, tuple[str, ...]] = {
    "followers": ("followers_count", "followers"),
    "friends": ("friends_count", "following_count", "friends", "following"),
    "statuses": ("statuses_count", "tweet_count", "statuses", "tweets"),
    "favourites": ("favourites_count", "favorites_count", "likes_count", "favourites"),
    "listed": ("listedcount", "listed_count"),
    "screen_name": ("screen_name", "username", "user_name", "handle"),
    "name": ("name", "display_name", "full_name"),
    "created_at": ("created_at", "account_created_at"),
    "documents": ("description", "status", "bio", "text", "tweet"),
    "flags": (
        "verified",
        "default_profile",
        "default_profile_image",
        "has_extended_profile",
        "protected",
        "geo_enabled",
    ),  # fmt: skip
    "categorical": ("lang",),
    "ignored": ("id", "id_str", "user_id"),
}
_COUNT_ROLES = ("followers", "friends", "statuses", "favourites", "listed")
#: ``name: (numerator role, denominator role)``; ``age`` is the account age in days.
RATIOS = {
    "followers_per_friend": ("followers", "friends"),
    "statuses_per_day": ("statuses", "age"),
    "favourites_per_status": ("favourites", "statuses"),
    "listed_per_follower": ("listed", "followers"),
}
_STATUS = "status"
_TRUE = frozenset({"true", "yes", "1", "t", "y"})
_FALSE = frozenset({"false", "no", "0", "f", "n"})


def _numbers(series: pd.Series, column: str, source: str) -> np.ndarray:
    """A number column as float64 (NaN where missing); ``DataError`` naming the row of a
    value that is not a finite number."""
    if ptypes.is_bool_dtype(series.dtype) or ptypes.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isinf(values)
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(np.float64, na_value=np.nan)
        bad = ~np.isfinite(values) & ~series.map(is_missing).to_numpy(bool)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{source}: column {column!r} holds numbers, but row {row + 1} holds "
            f"{series.iloc[row]!r}; expected a number (or an empty cell)"
        )
    return values


def _flags(series: pd.Series, column: str, source: str) -> np.ndarray:
    """A flag column as 1.0 / 0.0 / NaN (missing): bools, 0/1, or the words of
    :data:`_TRUE` / :data:`_FALSE` in any case; ``DataError`` naming the row otherwise."""
    out = np.full(len(series), np.nan)
    for i, v in enumerate(series.tolist()):
        if is_missing(v):
            continue
        word = str(v).strip().lower()
        if isinstance(v, bool | np.bool_) or word in _TRUE | _FALSE:
            out[i] = float(bool(v) if isinstance(v, bool | np.bool_) else word in _TRUE)
        elif isinstance(v, int | float | np.number) and float(v) in (0.0, 1.0):
            out[i] = float(v)
        else:
            raise DataError(
                f"{source}: column {column!r} is a flag, but row {i + 1} holds {v!r}; "
                "expected true/false, yes/no or 1/0"
            )
    return out


def _ages(series: pd.Series, column: str, source: str) -> pd.Series:
    """A date column as naive UTC ``datetime64`` (NaT where missing; text is parsed, any
    offset converted to UTC); ``DataError`` naming the row of a value that is no date."""
    if ptypes.is_datetime64_any_dtype(series.dtype):
        parsed = series
    elif ptypes.is_numeric_dtype(series.dtype) or ptypes.is_bool_dtype(series.dtype):
        raise DataError(
            f"{source}: column {column!r} holds dates at fit, numbers now; convert them "
            "with pd.to_datetime(..., unit=...) first"
        )
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(series, errors="coerce", format="mixed", utc=True)
        bad = np.flatnonzero(parsed.isna().to_numpy() & ~series.map(is_missing).to_numpy(bool))
        if len(bad):
            raise DataError(
                f"{source}: column {column!r} holds dates, but row {bad[0] + 1} holds "
                f"{series.iloc[bad[0]]!r}; expected a date such as 2017-03-13 22:21 or "
                "Mon Mar 13 22:35:37 +0000 2017"
            )
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]").reset_index(drop=True)


def _slog(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def _first(names: Sequence[str], role: str) -> str | None:
    return next((c for c in KNOWN_COLUMNS[role] if c in names), None)


class AccountFeatures:
    """Numeric features of account rows (see the module docstring for the blocks).

    Args:
        exclude: columns never used (the label, ids ...). ``id``, ``id_str`` and ``user_id``
            and columns inferred as identifiers are left out anyway.
        column_kinds: ``{column: kind}`` overriding the inferred kind (``continuous``,
            ``categorical``, ``boolean``, ``datetime``, ``text``, ``id``).
        hash_features: columns of the hashed TF-IDF block (half word, half char n-grams);
            0 leaves it out. Default 0 (see the module docstring).
        max_categories: one-hot columns kept per categorical column. Default 20.
        min_category_count: training rows a value needs for its own column. Default 5.

    After :meth:`fit`: ``feature_names_`` (one per output column) and ``columns_`` (the
    table columns used; each must be present when transforming).
    """

    def __init__(
        self,
        *,
        exclude: Sequence[str] = (),
        column_kinds: Mapping[str, str] | None = None,
        hash_features: int = 0,
        max_categories: int = 20,
        min_category_count: int = 5,
    ) -> None:
        self.exclude = list(exclude)
        self.column_kinds = dict(column_kinds or {})
        self.hash_features = check_int("hash_features", hash_features, minimum=0)
        if self.hash_features == 1:
            raise DataError("hash_features: expected 0 (no text block) or at least 2, got 1")
        self.max_categories = check_int("max_categories", max_categories, minimum=1)
        self.min_category_count = check_int("min_category_count", min_category_count, minimum=1)
        self.state_: dict[str, Any] | None = None

    # ------------------------------------------------------------------ fitting

    def fit(self, frame: pd.DataFrame, *, source: str = "table") -> AccountFeatures:
        """Find each column's role in ``frame`` and learn references, categories and idf."""
        self._fit(frame, source)
        return self

    def fit_transform(self, frame: pd.DataFrame, *, source: str = "table") -> np.ndarray:
        """:meth:`fit` then :meth:`transform` (computed once)."""
        return self._fit(frame, source)

    def _fit(self, frame: pd.DataFrame, source: str) -> np.ndarray:
        frame = _checked(frame, source)
        names = [c for c in frame.columns if c not in self.exclude]
        names = [c for c in names if c not in KNOWN_COLUMNS["ignored"]]
        if not names:
            raise DataError(f"{source}: no column to learn from (all excluded)")
        roles = {r: _first(names, r) for r in (*_COUNT_ROLES, "screen_name", "name")}
        # the Twitter names fix a kind (a count with a bad value is an error, not text);
        # other known names only take their role when their inferred kind fits it
        twitter_counts = [KNOWN_COLUMNS[r][0] for r in _COUNT_ROLES]
        kinds: dict[str, str] = {c: "continuous" for c in twitter_counts if c in names}
        kinds |= {c: "boolean" for c in KNOWN_COLUMNS["flags"] if c in names}
        kinds |= {c: "datetime" for c in KNOWN_COLUMNS["created_at"] if c in names}
        kinds |= {c: "text" for c in KNOWN_COLUMNS["documents"] if c in names}
        kinds |= {c: "categorical" for c in KNOWN_COLUMNS["categorical"] if c in names}
        for r in ("screen_name", "name"):
            if (column := roles[r]) is not None:
                kinds[column] = "text"
        unknown = sorted(set(self.column_kinds) - set(names))
        if unknown:
            raise DataError(f"{source}: column_kinds names unknown column(s) {unknown}")
        kinds |= self.column_kinds
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "left out of the synthesizer"
            meta = TableMetadata.infer(frame[names], metadata=kinds)
        by_kind: dict[str, list[str]] = {k: [] for k in ("continuous", "boolean", "datetime")}
        by_kind |= {"categorical": [], "text": []}
        for col in meta.columns:
            if col.kind in by_kind and col.name not in (roles["screen_name"], roles["name"]):
                by_kind[col.kind].append(col.name)
        for r in _COUNT_ROLES:  # a ratio needs its columns to be numbers
            if roles[r] not in by_kind["continuous"]:
                roles[r] = None
        created = _first(by_kind["datetime"], "created_at") or next(iter(by_kind["datetime"]), None)
        docs = [c for c in KNOWN_COLUMNS["documents"] if c in by_kind["text"]]
        state: dict[str, Any] = {
            "version": FEATURES_VERSION,
            "numbers": by_kind["continuous"],
            "flags": by_kind["boolean"],
            "dates": by_kind["datetime"],
            "created_at": created,
            "texts": by_kind["text"],
            "documents": docs or list(by_kind["text"]),
            "roles": roles,
            "categorical": {c: [] for c in by_kind["categorical"]},
            "source": _STATUS in by_kind["text"],  # the client of a status dump
            "hash_features": self.hash_features if by_kind["text"] else 0,
        }
        # what fitting learns: gaps, reference times, frequent values, idf
        state["number_gaps"] = [
            c for c in state["numbers"] if np.isnan(_numbers(frame[c], c, source)).any()
        ]
        state["reference"] = {}
        for c in state["dates"]:
            newest = _ages(frame[c], c, source).max()
            state["reference"][c] = None if pd.isna(newest) else newest.isoformat()
        if state["source"]:
            state["categorical"][f"{_STATUS}:source"] = []
        for c, values in self._categorical_values(frame, state).items():
            counts = pd.Series(values, dtype=object).dropna().value_counts()
            kept = [v for v in counts.index if counts[v] >= self.min_category_count]
            state["categorical"][c] = sorted(kept, key=lambda v: (-counts[v], v))[
                : self.max_categories
            ]
        state["idf"] = hashed_idf(self._documents(frame, state), state["hash_features"])
        self.state_ = state
        self.feature_names_, matrix = self._blocks(frame, source)
        state["feature_names"] = self.feature_names_
        return matrix

    # ------------------------------------------------------------------ transforming

    @property
    def columns_(self) -> list[str]:
        """The table columns the features read (each must be present to transform)."""
        s = self._state()
        named = [s["roles"][r] for r in ("screen_name", "name")]
        found = [*s["numbers"], *s["flags"], *s["dates"], *s["texts"], *s["categorical"], *named]
        found = [c for c in found if c != f"{_STATUS}:source"]
        return list(dict.fromkeys(c for c in found if c))

    @property
    def n_features_(self) -> int:
        return len(self._state()["feature_names"])

    def text_columns(self) -> np.ndarray:
        """Boolean mask of the hashed TF-IDF columns (already unit-scaled per row)."""
        return np.array([n.startswith("tfidf:") for n in self._state()["feature_names"]])

    def transform(self, frame: pd.DataFrame, *, source: str = "table") -> np.ndarray:
        """``(N, n_features_)`` float64 features of ``frame``'s rows; ``DataError`` for a
        column the features were fitted with that ``frame`` lacks, or a bad value."""
        s = self._state()
        frame = _checked(frame, source)
        absent = [c for c in self.columns_ if c not in frame.columns]
        if absent:
            raise DataError(
                f"{source}: missing column(s) {absent} that the features were fitted on; "
                f"found: {list(frame.columns)}"
            )
        names, matrix = self._blocks(frame, source)
        if names != s["feature_names"]:  # pragma: no cover - a bug, not bad input
            raise RuntimeError("feature names differ from the fitted ones")
        return matrix

    def transform_frame(self, frame: pd.DataFrame, *, source: str = "table") -> pd.DataFrame:
        """:meth:`transform` as a frame with the feature names as columns."""
        return pd.DataFrame(self.transform(frame, source=source), columns=self.feature_names_)

    def _blocks(self, frame: pd.DataFrame, source: str) -> tuple[list[str], np.ndarray]:
        s = self._state()
        frame = frame.reset_index(drop=True)
        cols: dict[str, np.ndarray] = {}
        raw: dict[str, np.ndarray] = {}
        for c in s["numbers"]:
            raw[c] = _numbers(frame[c], c, source)
            cols[f"{c}:log1p"] = _slog(np.nan_to_num(raw[c]))
            if c in s["number_gaps"]:
                cols[f"{c}:missing"] = np.isnan(raw[c]).astype(np.float64)
        for c in s["flags"]:
            flag = _flags(frame[c], c, source)
            cols[f"{c}:true"] = np.nan_to_num(flag)
            cols[f"{c}:missing"] = np.isnan(flag).astype(np.float64)
        age = None
        for c in s["dates"]:
            when = _ages(frame[c], c, source)
            ref = s["reference"][c]
            if ref is None:  # no date in the training column
                days = np.full(len(frame), np.nan)
            else:
                delta = (pd.Timestamp(ref) - when).dt.total_seconds() / 86400
                days = np.clip(delta.to_numpy(np.float64, na_value=np.nan), 0, None)
            cols[f"{c}:age_days"] = np.nan_to_num(days)
            cols[f"{c}:missing"] = np.isnan(days).astype(np.float64)
            if c == s["created_at"]:
                age = days
        values = {r: raw[c] for r, c in s["roles"].items() if c in raw} | {"age": age}
        for name, (num, den) in RATIOS.items():
            a, b = values.get(num), values.get(den)
            if a is not None and b is not None:
                ratio = np.clip(a / np.maximum(b, 1), 0, None)
                cols[f"ratio:{name}"] = np.nan_to_num(np.log1p(ratio))
        handles = {r: s["roles"][r] for r in ("screen_name", "name") if s["roles"][r]}
        texts = {r: strings(frame[c]) for r, c in handles.items()}
        for r, handle in texts.items():
            cols |= {f"{r}:{k}": v for k, v in name_patterns(handle).items()}
        if len(texts) == 2:
            pairs = zip(texts["screen_name"], texts["name"], strict=True)
            cols["name:similarity"] = np.array([name_similarity(a, b) for a, b in pairs])
        parsed = {c: self._texts(frame, c) for c in s["texts"]}
        for c, column_texts in parsed.items():
            cols |= {f"{c}:{k}": v for k, v in text_stats(column_texts).items()}
        for c, values_ in self._categorical_values(frame, s).items():
            kept = s["categorical"][c]
            index = {v: i for i, v in enumerate(kept)}
            one_hot = np.zeros((len(frame), len(kept) + 2))
            for i, v in enumerate(values_):
                one_hot[i, len(kept) + 1 if v is None else index.get(v, len(kept))] = 1.0
            for j, label in enumerate([*(f"={v}" for v in kept), ":other", ":missing"]):
                cols[f"{c}{label}"] = one_hot[:, j]
        names = list(cols)
        dense = np.column_stack([cols[n] for n in names]) if names else np.zeros((len(frame), 0))
        hashed = hashed_tfidf(self._documents(frame, s), s["hash_features"], s["idf"], len(frame))
        names += [f"tfidf:{i}" for i in range(hashed.shape[1])]
        return names, np.hstack([dense, hashed]).astype(np.float64)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _texts(frame: pd.DataFrame, column: str) -> list[str]:
        if column == _STATUS:
            return [status_parts(v)[0] for v in frame[column].tolist()]
        return strings(frame[column])

    @staticmethod
    def _categorical_values(
        frame: pd.DataFrame, state: dict[str, Any]
    ) -> dict[str, list[str | None]]:
        """Each categorical column's values as lower-cased stripped strings (``None`` if
        missing); ``status:source`` is the client of the status dumps."""
        out: dict[str, list[str | None]] = {}
        for c in state["categorical"]:
            if c == f"{_STATUS}:source":
                out[c] = [status_parts(v)[1] for v in frame[_STATUS].tolist()]
            else:
                out[c] = [None if is_missing(v) else str(v).strip().lower() for v in frame[c]]
        return out

    @staticmethod
    def _documents(frame: pd.DataFrame, state: dict[str, Any]) -> list[str]:
        parts = [AccountFeatures._texts(frame, c) for c in state["documents"]]
        return [" ".join(p).strip() for p in zip(*parts, strict=True)] if parts else []

    def _state(self) -> dict[str, Any]:
        if self.state_ is None:
            raise ValueError("AccountFeatures is not fitted yet; call fit first")
        return self.state_

    # ------------------------------------------------------------------ persistence

    def to_dict(self) -> dict[str, Any]:
        """The settings and learned state as JSON-able data (:meth:`from_dict` reads it)."""
        return {
            "params": {
                "exclude": self.exclude,
                "column_kinds": self.column_kinds,
                "hash_features": self.hash_features,
                "max_categories": self.max_categories,
                "min_category_count": self.min_category_count,
            },
            "state": self._state(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AccountFeatures:
        """Rebuild fitted features from :meth:`to_dict`'s output (``DataError`` if broken)."""
        try:
            feats = cls(**d["params"])
            state = dict(d["state"])
            version = state["version"]
            if version > FEATURES_VERSION:
                raise DataError(
                    f"account features of version {version}, newer than this socialgan "
                    f"reads ({FEATURES_VERSION}); upgrade socialgan"
                )
            hashed = int(state["hash_features"])
            if hashed and sum(len(v) for v in state["idf"].values()) != hashed:
                raise ValueError("idf vectors do not match hash_features")
            feats.state_ = state
            feats.feature_names_ = list(state["feature_names"])
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            if isinstance(e, DataError):
                raise
            raise DataError(f"account features: incomplete or inconsistent state ({e})") from None
        return feats


def _checked(frame: Any, source: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{source}: expected a pandas DataFrame of accounts, got {type(frame)}")
    if len(frame) == 0:
        raise DataError(f"{source}: the table has no rows")
    odd = [c for c in frame.columns if not isinstance(c, str)]
    if odd:
        raise DataError(f"{source}: column names must be strings, got {odd[0]!r}")
    return frame
