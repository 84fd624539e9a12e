"""Reading a user's table file: CSV, TSV or JSON lines, decoded strictly in a stated
encoding, with errors that name the file and line (the named tables' loaders use the same
parser)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pandas as pd

from socialgan.errors import DataError
from socialgan.text.readers import JSONL_SUFFIXES, csv_records, json_records, read_text

__all__ = ["parse_csv", "read_table", "where"]


def _record_lines(text: str, path: Path, sep: str, skipinitialspace: bool) -> list[int]:
    """The line on which each data record starts; a record whose field count differs from
    the header's is an error naming its line (pandas would pad a short one silently)."""
    header: list[str] | None = None
    lines: list[int] = []
    # blank lines are skipped, as pandas skips them
    for start, record in csv_records(text, path, delimiter=sep, skipinitialspace=skipinitialspace):
        if header is None:
            header = [c.strip() for c in record]
            dupes = sorted({c for c in header if header.count(c) > 1})
            if dupes:
                raise DataError(f"{path}: line {start}: duplicate column name(s) {dupes}")
        elif len(record) != len(header):
            raise DataError(
                f"{path}: line {start}: expected {len(header)} fields "
                f"({', '.join(header)}), found {len(record)}"
            )
        else:
            lines.append(start)
    if header is None:
        raise DataError(f"{path}: file is empty (expected a header line)")
    if not lines:
        raise DataError(f"{path}: no rows (only a header line)")
    return lines


def parse_csv(
    text: str,
    path: Path,
    sep: str = ",",
    *,
    skipinitialspace: bool = False,
    dtype: Any = None,
) -> tuple[pd.DataFrame, list[int]]:
    """Parse decoded CSV text; returns the frame and the line each row starts on.

    Only empty fields are missing (``keep_default_na=False``): a screen name ``NA`` or
    ``null`` is a value, not a gap.
    """
    lines = _record_lines(text, path, sep, skipinitialspace)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=skipinitialspace,
            dtype=dtype,
        )
    except (pd.errors.ParserError, ValueError) as e:
        m = re.search(r"line (\d+)", str(e))
        at = f"line {m.group(1)}: " if m else ""
        raise DataError(f"{path}: {at}cannot parse ({e})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(frame) != len(lines):  # the two parsers disagree: report it rather than guess
        raise DataError(f"{path}: found {len(lines)} records but pandas read {len(frame)} rows")
    return frame, lines


def _parse_jsonl(text: str, path: Path) -> pd.DataFrame:
    records, _ = json_records(text, path)
    if not records:
        raise DataError(f"{path}: no rows (no JSON object in the file)")
    return pd.DataFrame.from_records(records)


def read_table(
    path: str | Path, *, encoding: str = "utf-8", sep: str | None = None
) -> pd.DataFrame:
    """Read a CSV (``,``), TSV (``.tsv``/``.tab``: tab) or JSON lines file into a frame.

    Args:
        path: the file. ``.jsonl``/``.ndjson``/``.json`` are read as JSON lines (one object
            per line; the columns are the union of the keys), anything else as delimited text
            with a header line.
        encoding: the file's text encoding, decoded strictly. Default ``"utf-8"``; a file
            in another one fails naming the line and byte (pass ``encoding="latin-1"`` ...).
        sep: the field separator of a delimited file; default from the suffix. Ignored for
            JSON lines.

    Returns:
        The table; pandas infers the column types. Empty fields are missing (NaN); the
        strings ``NA``, ``null`` and the like are kept as values.

    Raises:
        DataError: missing file, undecodable byte, a record with the wrong number of fields,
            invalid JSON, or no rows; the message names the file and line.
    """
    path = Path(path)
    text = read_text(path, encoding)
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return _parse_jsonl(text, path)
    if sep is None:
        sep = "\t" if suffix in (".tsv", ".tab") else ","
    return parse_csv(text, path, sep)[0]


def where(path: Path, lines: list[int], i: int, column: str) -> str:
    return f"{path}: row {i + 1} (line {lines[i]}), column {column!r}"
