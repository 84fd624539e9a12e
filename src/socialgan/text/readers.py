"""Low-level readers for text tables (CSV, TSV, JSON lines) with errors that name file and row.

Every reader decodes strictly as UTF-8 (a leading byte-order mark is dropped; :func:`read_text`
takes another encoding) and remembers the line on which each record starts, so that
validation errors can say ``file: row 12 (line 14), column 'text': ...``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from socialgan.errors import DataError

#: Longest text accepted by default (characters); longer ones are an input error.
DEFAULT_MAX_CHARS = 10_000
#: File suffixes read as JSON lines by :func:`read_table`.
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


@dataclass
class Table:
    """Rows of a text table: ``rows[i][j]`` is column ``columns[j]`` of record ``i``."""

    path: Path
    columns: list[str]
    rows: list[list[Any]]
    lines: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def where(self, i: int, column: str | None = None) -> str:
        """``'file: row 3 (line 5), column 'text''`` for record ``i`` (0-based)."""
        loc = f"{self.path}: row {i + 1}"
        if i < len(self.lines):
            loc += f" (line {self.lines[i]})"
        return loc + (f", column {column!r}" if column is not None else "")

    def require(self, *names: str) -> None:
        """Raise :class:`DataError` listing the columns that exist when one is missing."""
        missing = [n for n in names if n not in self.columns]
        if missing:
            raise DataError(
                f"{self.path}: missing column(s) {', '.join(map(repr, missing))}; "
                f"found columns: {', '.join(map(repr, self.columns)) or '(none)'}"
            )

    def column(self, name: str) -> list[Any]:
        """All values of one column (``None`` where a JSON record lacks the key)."""
        self.require(name)
        j = self.columns.index(name)
        return [row[j] if j < len(row) else None for row in self.rows]


def _encoding_label(encoding: str) -> str:
    """``'UTF-8'`` for any spelling of UTF-8 (the error the text readers have always given),
    otherwise the encoding as the caller spelled it."""
    return "UTF-8" if codecs.lookup(encoding).name == "utf-8" else encoding


def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    """The whole file decoded strictly as ``encoding`` (a leading byte-order mark is dropped).

    Raises:
        DataError: the file is missing, the encoding is unknown, or a byte is invalid in that
            encoding; the message names the file, line, byte offset and byte, and says how
            to pass the right encoding (``--encoding latin-1``, ``encoding="latin-1"``).
    """
    path = Path(path)
    unknown = DataError(f"{path}: unknown text encoding {encoding!r} (try utf-8, latin-1, cp1252)")
    try:
        label = _encoding_label(encoding)
    except LookupError:
        raise unknown from None
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    raw = path.read_bytes()
    try:
        text = raw.decode(encoding)
    except LookupError:  # a codec that is not a text encoding (rot13, base64 ...)
        raise unknown from None
    except UnicodeDecodeError as e:
        line = raw[: e.start].decode(encoding, errors="replace").count("\n") + 1
        fix = (
            "re-save the file as UTF-8, or pass its encoding (--encoding latin-1 on the "
            'command line, encoding="latin-1" in Python; cp1252 for Windows exports)'
            if label == "UTF-8"
            else 'pass the encoding the file is in (--encoding utf-8, encoding="utf-8" ...)'
        )
        raise DataError(
            f"{path}: not valid {label} at line {line}, byte offset {e.start} "
            f"(byte 0x{raw[e.start]:02x}); {fix}"
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def read_utf8(path: str | Path) -> str:
    """The whole file as UTF-8 text: :func:`read_text` with ``encoding="utf-8"``."""
    return read_text(path, "utf-8")


def csv_records(text: str, path: Path, **reader_options: Any) -> Iterator[tuple[int, list[str]]]:
    """``(line, record)`` for each non-blank record of delimited ``text`` (``line``: where
    the record starts, 1-based); ``reader_options`` go to :func:`csv.reader`. A record the
    csv module cannot parse is an error naming ``path`` and the line."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.reader(io.StringIO(text, newline=""), **reader_options)
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise DataError(f"{path}: line {start}: cannot parse CSV ({e})") from None
        if record and not (len(record) == 1 and not record[0].strip()):
            yield start, record


def read_csv(
    path: str | Path,
    *,
    delimiter: str = ",",
    names: Sequence[str] | None = None,
    quoting: Any = csv.QUOTE_MINIMAL,
) -> Table:
    """Read a delimited file; the first non-blank line is the header unless ``names`` is given.

    Blank lines are skipped (``Youtube01-Psy.csv`` starts with one). A record with the wrong
    number of fields is an error naming its line.
    """
    path = Path(path)
    text = read_utf8(path)
    columns = list(names) if names is not None else None
    rows: list[list[Any]] = []
    lines: list[int] = []
    for start, record in csv_records(text, path, delimiter=delimiter, quoting=quoting):
        if columns is None:
            columns = [c.strip() for c in record]
            continue
        if len(record) != len(columns):
            raise DataError(
                f"{path}: line {start}: expected {len(columns)} fields "
                f"({', '.join(columns)}), found {len(record)}"
            )
        rows.append(record)
        lines.append(start)
    if columns is None:
        raise DataError(f"{path}: file is empty (expected a header line)")
    return Table(path, columns, rows, lines)


def json_records(text: str, path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    """The objects of JSON-lines ``text`` (blank lines skipped) and the line of each; a line
    that is not a JSON object is an error naming ``path`` and the line."""
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: line {lineno}: not valid JSON ({e.msg})") from None
        if not isinstance(obj, dict):
            raise DataError(
                f"{path}: line {lineno}: expected a JSON object, found {type(obj).__name__}"
            )
        records.append(obj)
        lines.append(lineno)
    return records, lines


def read_jsonl(path: str | Path) -> Table:
    """Read JSON lines (one object per line); columns are the union of keys, in order."""
    path = Path(path)
    records, lines = json_records(read_utf8(path), path)
    columns: dict[str, None] = {}
    for obj in records:
        columns.update(dict.fromkeys(obj))
    names = list(columns)
    rows = [[obj.get(c) for c in names] for obj in records]
    return Table(path, names, rows, lines)


def read_table(path: str | Path) -> Table:
    """CSV (``.csv``), TSV (``.tsv``/``.tab``) or JSON lines (``.jsonl``/``.ndjson``/``.json``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return read_jsonl(path)
    if suffix in (".tsv", ".tab"):
        return read_csv(path, delimiter="\t")
    return read_csv(path)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def check_texts(
    values: Sequence[Any], where: Callable[[int], str], max_chars: int = DEFAULT_MAX_CHARS
) -> list[str]:
    """Validate texts: strings, not empty or blank, at most ``max_chars`` characters."""
    out: list[str] = []
    for i, value in enumerate(values):
        if _is_missing(value) or (isinstance(value, str) and not value.strip()):
            raise DataError(f"{where(i)}: empty text")
        if not isinstance(value, str):
            raise DataError(f"{where(i)}: expected a text string, found {type(value).__name__}")
        if len(value) > max_chars:
            raise DataError(
                f"{where(i)}: text has {len(value):,} characters, more than the limit of "
                f"{max_chars:,} (raise max_chars to accept it)"
            )
        out.append(value)
    return out


def _sort_key(name: str) -> tuple[int, float, str]:
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)


def encode_labels(
    values: Sequence[Any],
    where: Callable[[int], str],
    order: Sequence[str] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Map raw labels to ``int64`` ids; returns ``(ids, label_names)``.

    With ``order`` the names and their ids are fixed and any other value is an error;
    without it the distinct values are sorted (numerically when they all look like numbers,
    so ``0/1`` and ``ham/spam`` both put the positive class last).
    """
    names: list[str] = []
    for i, value in enumerate(values):
        if _is_missing(value):
            raise DataError(f"{where(i)}: missing label")
        if isinstance(value, (dict, list)):
            raise DataError(f"{where(i)}: label must be a string or number, found {value!r}")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        names.append(str(value).strip())
    if order is None:
        label_names = sorted(set(names), key=_sort_key)
    else:
        label_names = list(order)
        known = set(label_names)
        for i, name in enumerate(names):
            if name not in known:
                raise DataError(
                    f"{where(i)}: unknown label {name!r}; expected one of {', '.join(order)}"
                )
    index = {name: k for k, name in enumerate(label_names)}
    return np.array([index[n] for n in names], dtype=np.int64), label_names


def parse_post(
    line: str,
    number: int,
    *,
    text_column: str = "text",
    max_chars: int = DEFAULT_MAX_CHARS,
    jsonl: bool = True,
) -> dict[str, Any]:
    """One input line of a file to score -> ``{"line", ["id"], "text", "meta"}`` (``meta``:
    the object's other fields, for detectors with metadata columns) or ``{"line", ["id"],
    "error"}``. With ``jsonl`` the line is a JSON object (text in ``text_column``) or
    string; otherwise the line is the text."""
    record: dict[str, Any] = {"line": number}
    obj: Any = line
    if jsonl:
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            return {**record, "error": f"not valid JSON ({e.msg})"}
    meta: dict[str, Any] = {}
    if isinstance(obj, dict):
        meta = {k: v for k, v in obj.items() if k != text_column}
        if "id" in obj:
            record["id"] = obj["id"]
        obj = obj.get(text_column)
    if not isinstance(obj, str) or not obj.strip():
        what = "missing" if obj is None else "empty" if isinstance(obj, str) else "not a string"
        return {**record, "error": f"text field {text_column!r} is {what}"}
    if len(obj) > max_chars:
        return {**record, "error": f"text has {len(obj):,} characters, more than {max_chars:,}"}
    return {**record, "text": obj, "meta": meta}
