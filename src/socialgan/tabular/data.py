"""Account tables as pandas frames: a user's own file, and the named real tables.

* :func:`read_table` (from :mod:`socialgan.tabular.readers`) reads a user's CSV, TSV or
  JSON lines file, decoded strictly (a file in another encoding fails naming the file,
  line and byte, and says to pass the encoding);
* :func:`load_twitter_bots` is the Twitter bot / human profile table, cleaned;
* :func:`load_adult` is UCI Adult, the standard tabular-synthesis benchmark;
* :func:`load_table` takes a name from :data:`NAMED_TABLES` or a file path (what the CLI
  calls); :data:`LABEL_COLUMNS` gives the label column of each named table.

The named tables live in the shared data folder (see ``shared/data/README.md``), found as
:func:`socialgan.text.data.find_data_dir` finds it; ``root=`` overrides the lookup.

Example:
    >>> from socialgan.tabular.data import load_table, LABEL_COLUMNS
    >>> bots = load_table("twitter-bots")  # doctest: +SKIP
    >>> bots[LABEL_COLUMNS["twitter-bots"]].mean()  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from socialgan.errors import DataError
from socialgan.tabular.readers import parse_csv, read_table, where
from socialgan.text.data import find_data_dir
from socialgan.text.readers import read_text

__all__ = [
    "ADULT_COLUMNS",
    "ADULT_INTEGER_COLUMNS",
    "ADULT_LABELS",
    "LABEL_COLUMNS",
    "NAMED_TABLES",
    "TWITTER_BOOL_COLUMNS",
    "TWITTER_BOTS_ENCODING",
    "TWITTER_COUNT_COLUMNS",
    "TWITTER_TEXT_COLUMNS",
    "load_adult",
    "load_table",
    "load_twitter_bots",
    "read_table",
]

#: The encoding of the two twitter_bots CSVs. ``shared/data/README.md`` says latin-1; the
#: bytes are Mac Roman (an Excel-for-Mac export): 0x8e is "é" in "Pokémon", 0xc1 the "¡" of
#: "¡Seguinos", 0xd2/0xd3 curly quotes. Read as latin-1, 2,412 bytes (0x80-0x9f) would be
#: C1 control characters.
TWITTER_BOTS_ENCODING = "mac_roman"
TWITTER_COUNT_COLUMNS = tuple(
    "followers_count friends_count listedcount favourites_count statuses_count".split()
)
TWITTER_BOOL_COLUMNS = tuple(
    "verified default_profile default_profile_image has_extended_profile".split()
)
TWITTER_TEXT_COLUMNS = ("screen_name", "name", "description", "location", "url", "status", "lang")
_TWITTER_COLUMNS = ("id", "id_str", "created_at", "bot") + TWITTER_COUNT_COLUMNS
_TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"  # Sat Oct 17 22:35:31 +0000 2015
_SHEET_TIME = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$")
_QUOTES = '"\u201c\u201d'  # straight and curly double quotes

ADULT_COLUMNS = tuple(
    "age workclass fnlwgt education education-num marital-status occupation relationship race"
    " sex capital-gain capital-loss hours-per-week native-country Y".split()
)
ADULT_INTEGER_COLUMNS = tuple(
    "age fnlwgt education-num capital-gain capital-loss hours-per-week".split()
)
ADULT_LABELS = ("<=50K", ">50K")
_ADULT_FILES = {"train": "adult.data", "test": "adult.test"}


# --------------------------------------------------------------------------- twitter_bots


def _unquote(value: Any) -> Any:
    """A value of the JSON-style rows: ``"text"`` (straight or curly quotes, JSON escapes
    such as ``\\n`` decoded) -> ``text``; ``null`` and ``""`` -> missing."""
    if not isinstance(value, str):
        return value
    v = value.strip()
    if v == "null":
        return np.nan
    if len(v) >= 2 and v[0] in _QUOTES and v[-1] in _QUOTES:
        inner = v[1:-1]
        try:
            v = json.loads(f'"{inner}"', strict=False)
        except json.JSONDecodeError:
            v = inner
    else:
        v = v.strip(_QUOTES)  # a quote on one side only (one created_at)
    return v if v else np.nan


def _parse_created_at(raw: pd.Series, path: Path, lines: list[int]) -> pd.Series:
    """Both spellings in the files -> ``datetime64`` (UTC, naive).

    ``Sat Oct 17 22:35:31 +0000 2015`` is Twitter's own. ``a/b/YYYY H:MM`` is what Excel
    wrote: mostly month/day (516 rows have a day over 12 in second place), sometimes
    day/month (44 rows have one in first place, such as ``13/03/2017 22:21``). A first number
    over 12 means day/month; otherwise month/day is assumed, so a day/month date with both
    numbers at most 12 is misread: by the share above, about 8% of the 418 such rows.
    """
    s = raw.str.replace('"', "", regex=False).str.strip()
    twitter = pd.to_datetime(s, format=_TWITTER_TIME, errors="coerce", utc=True)
    out = pd.Series(twitter.dt.tz_localize(None).to_numpy(), index=s.index)
    sheet = s.str.extract(_SHEET_TIME.pattern).astype(float)
    first, second = sheet[0], sheet[1]
    day_first = first > 12
    parts = pd.DataFrame(
        {
            "year": sheet[2],
            "month": second.where(day_first, first),
            "day": first.where(day_first, second),
            "hour": sheet[3],
            "minute": sheet[4],
            "second": sheet[5].fillna(0),
        }
    )
    ok = parts[["year", "month", "day"]].notna().all(axis=1)
    ok &= parts["month"].between(1, 12) & parts["hour"].between(0, 23)
    if ok.any():
        sheet_times = pd.to_datetime(parts[ok], errors="coerce")
        out = out.fillna(sheet_times.reindex(out.index))
    bad = np.flatnonzero(s.notna().to_numpy() & out.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        raise DataError(
            f"{where(path, lines, i, 'created_at')}: cannot read the date {raw.iloc[i]!r}; "
            "expected 'Sat Oct 17 22:35:31 +0000 2015' or '13/03/2017 22:21'"
        )
    return out.astype("datetime64[ns]")


def _parse_bools(raw: pd.Series, column: str, path: Path, lines: list[int]) -> pd.Series:
    """``TRUE``/``FALSE`` (any case) -> ``bool``; with missing values, pandas ``boolean``."""
    words = raw.str.strip().str.lower()
    values = words.map({"true": True, "false": False})
    bad = np.flatnonzero(words.notna().to_numpy() & values.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        raise DataError(
            f"{where(path, lines, i, column)}: expected TRUE or FALSE, found {raw.iloc[i]!r}"
        )
    return values.astype("boolean" if values.isna().any() else bool)


def _parse_counts(raw: pd.Series, column: str, path: Path, lines: list[int]) -> pd.Series:
    """Whole non-negative numbers -> ``int64``; anything else (or a gap) is an error."""
    s = raw.str.strip()
    good = s.str.fullmatch(r"\d+").fillna(False).astype(bool).to_numpy()
    if not good.all():
        i = int(np.flatnonzero(~good)[0])
        raise DataError(f"{where(path, lines, i, column)}: expected a count, found {raw.iloc[i]!r}")
    return s.astype("int64")


def _read_twitter_file(path: Path, label: int) -> pd.DataFrame:
    frame, lines = parse_csv(read_text(path, TWITTER_BOTS_ENCODING), path, dtype=str)
    needed = _TWITTER_COLUMNS + TWITTER_BOOL_COLUMNS + TWITTER_TEXT_COLUMNS
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    # 95 rows (49 + 46) were pasted from JSON: every string is quoted
    # ("lenirvana666", "" for empty, null for none). Their id_str is quoted too.
    json_rows = frame["id_str"].str.strip().str.startswith('"').fillna(False).astype(bool)
    for column in ("created_at", *TWITTER_TEXT_COLUMNS):
        frame.loc[json_rows, column] = frame.loc[json_rows, column].map(_unquote).astype(object)
    for column in ("url", "status"):  # Python's None and JSON's null stand for no value
        frame.loc[frame[column].isin(["None", "null"]), column] = np.nan
    frame["lang"] = frame["lang"].str.lower()  # both zh-CN and zh-cn appear
    out = frame.drop(columns=["id", "id_str"])
    out["created_at"] = _parse_created_at(frame["created_at"], path, lines)
    for column in TWITTER_BOOL_COLUMNS:
        out[column] = _parse_bools(frame[column], column, path, lines)
    for column in TWITTER_COUNT_COLUMNS:
        out[column] = _parse_counts(frame[column], column, path, lines)
    wrong = np.flatnonzero(frame["bot"].str.strip().to_numpy() != str(label))
    if len(wrong):
        i = int(wrong[0])
        raise DataError(f"{where(path, lines, i, 'bot')}: expected {label} in this file")
    out["bot"] = np.full(len(out), label, dtype=np.int64)
    return out


def load_twitter_bots(
    root: str | Path | None = None, *, drop_conflicts: bool = True
) -> pd.DataFrame:
    """Twitter bot and human account profiles: one row per account, ``bot`` = 1 for a bot.

    Reads ``twitter_bots/bots_data.csv`` (1,056 rows) then ``nonbots_data.csv`` (1,176),
    decoded as Mac Roman (:data:`TWITTER_BOTS_ENCODING`; the data README says latin-1, but
    the accented letters decode right only as Mac Roman). Some non-ASCII text was garbled
    before the export (UTF-8 read as Windows-1252, ``_`` where Excel could not write a
    character: ``Ã«vÃ«rÃ¿ Ã_mlÃ_``) and is left as it is: it cannot be undone reliably.

    Cleaning:

    * ``id`` and ``id_str`` are dropped: Excel turned many into floats such as ``8.41E+17``,
      so they no longer identify an account (and an id says nothing about being a bot);
    * 95 rows hold JSON-quoted strings (``"lenirvana666"``, ``""``, ``null``): the
      quotes are removed and JSON escapes such as ``\\n`` decoded; ``None``/``null`` in
      ``url`` and ``status`` is missing; ``lang`` is lower-cased (``zh-CN`` and ``zh-cn``);
    * ``created_at`` mixes Twitter's ``Sat Oct 17 22:35:31 +0000 2015`` and Excel's
      ``13/03/2017 22:21`` / ``12/30/2015 4:20`` (month/day unless the first number is over
      12, see :func:`_parse_created_at`): ``datetime64`` in UTC, naive;
    * ``verified``, ``default_profile``, ``default_profile_image`` (``bool``) and
      ``has_extended_profile`` (78 missing: pandas ``boolean``) from ``TRUE``/``FALSE``;
    * the five counts are ``int64`` (all present and whole in the files; any other value
      is a :class:`DataError` naming the row);
    * ``screen_name``, ``name``, ``description``, ``location``, ``url``, ``status`` (the raw
      last-tweet string, in four different dumps) and ``lang`` stay strings, NaN if missing.

    Duplicates (by case-insensitive screen name, after the unquoting): ``jk_rowling`` is
    twice among the humans (one copy JSON-quoted): its first row is kept. 5 accounts
    (``cihpom``, ``GenerateACat``, ...) are in both files with the same profile and opposite
    labels: their label is unknowable, and a copy on each side of a cross-validation split
    leaks, so by default all 10 rows are dropped. Result: 2,221 rows, 1,051 bots and 1,170
    humans (``drop_conflicts=False``: 2,231, 1,056 and 1,175).

    Args:
        root: the shared data folder or the ``twitter_bots`` folder itself; default: found
            as :func:`socialgan.datapaths.find_shared_data` does.
        drop_conflicts: drop accounts (by case-insensitive screen name) labelled both bot
            and human. Default True.
    """
    folder = find_data_dir("twitter_bots", root)
    parts = [
        _read_twitter_file(folder / name, label)
        for name, label in (("bots_data.csv", 1), ("nonbots_data.csv", 0))
    ]
    frame = pd.concat(parts, ignore_index=True)
    key = frame["screen_name"].str.lower()
    repeat = frame.assign(key=key).duplicated(["key", "bot"]).to_numpy() & key.notna().to_numpy()
    drop = repeat  # an account listed twice with one label keeps its first row
    if drop_conflicts:
        drop = drop | (frame.groupby(key)["bot"].transform("nunique") > 1).to_numpy()
    return frame[~drop].reset_index(drop=True)


# --------------------------------------------------------------------------- adult


def _read_adult_file(path: Path) -> pd.DataFrame:
    text = read_text(path)
    if text.startswith("|"):  # the UCI adult.test begins with "|1x3 Cross validator"
        text = "\n" + text.split("\n", 1)[-1]  # a blank line keeps the line numbers
    frame, lines = parse_csv(text, path, skipinitialspace=True)
    if tuple(frame.columns) != ADULT_COLUMNS:
        raise DataError(
            f"{path}: expected the columns {list(ADULT_COLUMNS)}, found {list(frame.columns)}"
        )
    frame["Y"] = frame["Y"].str.strip().str.rstrip(".")  # adult.test writes ">50K."
    bad = np.flatnonzero(~frame["Y"].isin(ADULT_LABELS).to_numpy())
    if len(bad):
        i = int(bad[0])
        raise DataError(
            f"{where(path, lines, i, 'Y')}: expected <=50K or >50K, found {frame['Y'].iloc[i]!r}"
        )
    for column in ADULT_INTEGER_COLUMNS:
        values = pd.to_numeric(frame[column], errors="coerce")
        good = (values.notna() & (values % 1 == 0)).to_numpy()
        if not good.all():
            i = int(np.flatnonzero(~good)[0])
            raise DataError(
                f"{where(path, lines, i, column)}: expected a whole number, "
                f"found {frame[column].iloc[i]!r}"
            )
        frame[column] = values.astype("int64")
    return frame


def load_adult(root: str | Path | None = None, split: str = "train") -> pd.DataFrame:
    """UCI Adult (census income): 14 attributes and the label ``Y`` (``<=50K`` / ``>50K``).

    ``split`` is ``train`` (``adult.data``, 32,561 rows), ``test`` (``adult.test``, 16,281)
    or ``all`` (train then test, 48,842). The test file's labels lose their final dot
    (``>50K.`` -> ``>50K``), so both splits share two labels; a first junk line
    (``|1x3 Cross validator`` in the UCI copy; this one has a header instead) is skipped.
    ``?`` (unknown ``workclass``, ``occupation``, ``native-country``) is kept as a category
    of its own, as in the CTGAN paper's protocol (Xu et al. 2019). The six numeric columns
    (:data:`ADULT_INTEGER_COLUMNS`) are ``int64``; the rest are strings. Exact repeats (24
    rows of ``adult.data``, 5 of ``adult.test``) are kept, as in the published benchmarks.

    Args:
        root: the shared data folder or the ``adult`` folder itself; default: found as
            :func:`socialgan.datapaths.find_shared_data` does.
        split: ``"train"``, ``"test"`` or ``"all"``. Default ``"train"``.
    """
    if split not in (*_ADULT_FILES, "all"):
        raise DataError(f"adult: unknown split {split!r}; expected train, test or all")
    folder = find_data_dir("adult", root)
    names = list(_ADULT_FILES) if split == "all" else [split]
    frames = [_read_adult_file(folder / _ADULT_FILES[name]) for name in names]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


# --------------------------------------------------------------------------- named sources

#: Named tables for the CLI: name -> loader taking the optional ``root``.
NAMED_TABLES: dict[str, Callable[..., pd.DataFrame]] = {
    "twitter-bots": load_twitter_bots,
    "adult": partial(load_adult, split="train"),
    "adult:train": partial(load_adult, split="train"),
    "adult:test": partial(load_adult, split="test"),
}
#: The label column of each named table.
LABEL_COLUMNS: dict[str, str] = {
    "twitter-bots": "bot",
    "adult": "Y",
    "adult:train": "Y",
    "adult:test": "Y",
}


def load_table(source: str, *, encoding: str = "utf-8") -> pd.DataFrame:
    """A named table (:data:`NAMED_TABLES`) or a file read by :func:`read_table`.

    ``encoding`` applies to files only (the named tables know their own).

    Raises:
        DataError: neither a name nor an existing file (the message lists the names), or
            the file cannot be read.
    """
    if source in NAMED_TABLES:
        return NAMED_TABLES[source]()
    path = Path(source).expanduser()
    if not path.is_file():
        raise DataError(
            f"{source!r} is neither a named table ({', '.join(NAMED_TABLES)}) nor a file"
            + (" (it is a folder)" if path.is_dir() else "")
        )
    return read_table(path, encoding=encoding)
