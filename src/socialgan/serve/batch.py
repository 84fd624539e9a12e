"""Batch scoring of a JSONL file of posts, streamed in chunks, resumable after a crash.

:class:`Scorer` turns a batch of input records (one JSON object or string per line) into
moderation records in the shape of the public moderation APIs; it is the one scoring
function that the CLI (``socialgan score``) runs and that a service or a Ray Data
``map_batches`` can call. :func:`score_file` streams any size of input through it:

- the input is read line by line, ``chunk_size`` lines at a time, never whole;
- each output line carries the input's ``line`` number (and its ``id`` when it has one);
  a bad line (not JSON, no text, too long) becomes ``{"line": N, "error": "..."}`` and the
  rest is still scored;
- every chunk is appended, flushed and fsynced before the next one is read, so a crash
  loses at most the chunk being scored; a half-written last line is cut off on resume;
- ``resume=True`` (the default) continues after the last line already in the output, so
  nothing is scored twice and the finished file equals one clean run's.

Example:
    >>> scorer = Scorer(["models/spam"])  # doctest: +SKIP
    >>> report = score_file(scorer, "posts.jsonl", "scores.jsonl")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from socialgan.errors import DataError

__all__ = ["ScoreReport", "Scorer", "score_file"]

DEFAULT_CHUNK = 1024


class Scorer:
    """Moderation records for batches of posts from saved text detectors.

    Args:
        models: model folders (``detect-train`` outputs); each is one category, named by
            the detector's category (or the folder's name).
        thresholds: ``{category: t}`` or one number; default: each model's stored one.
        text_column: the field holding the text in JSON objects.
        max_chars: longer texts are reported as errors, not scored.
    """

    def __init__(
        self,
        models: Sequence[str | Path],
        thresholds: dict[str, float] | float | None = None,
        text_column: str = "text",
        max_chars: int = 10_000,
    ) -> None:
        from socialgan.text.attack.hardening import load_text_detector
        from socialgan.text.detect.moderation import resolve_thresholds, stored_thresholds

        if not models:
            raise DataError("give at least one model folder")
        self.detectors: dict[str, Any] = {}
        for folder in models:
            det = load_text_detector(folder)
            category = getattr(det, "category_", None) or Path(folder).name
            if category in self.detectors:
                raise DataError(f"{folder}: a second model for category {category!r}")
            self.detectors[category] = det
        self.thresholds = resolve_thresholds(
            list(self.detectors), thresholds, defaults=stored_thresholds(self.detectors)
        )
        self.text_column = text_column
        self.max_chars = max_chars
        self.warnings: list[str] = []

    def parse(self, line: str, number: int) -> dict[str, Any]:
        """One input line -> ``{"line", ["id"], "text", "meta"}`` or ``{..., "error"}``."""
        from socialgan.text.readers import parse_post

        return parse_post(line, number, text_column=self.text_column, max_chars=self.max_chars)

    def score(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Moderation records for parsed records (errors pass through), in order."""
        from socialgan.text.detect.moderation import moderate

        good = [r for r in records if "text" in r]
        results: Iterator[dict[str, Any]] = iter(())
        if good:
            X: Any = [r["text"] for r in good]
            if any(r["meta"] for r in good):  # metadata columns for detectors that use them
                import pandas as pd

                X = pd.DataFrame([r["meta"] for r in good]).reset_index(drop=True)
                X["text"] = [r["text"] for r in good]
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                scored = moderate(X, self.detectors, self.thresholds)
            for w in caught:
                if str(w.message) not in self.warnings:
                    self.warnings.append(str(w.message))
            results = iter(scored)
        out: list[dict[str, Any]] = []
        for r in records:
            head: dict[str, Any] = {k: r[k] for k in ("line", "id") if k in r}
            tail: dict[str, Any] = {"error": r["error"]} if "error" in r else next(results)
            out.append({**head, **tail})
        return out

    def __call__(self, lines: Sequence[str], first_line: int = 1) -> list[dict[str, Any]]:
        """Score raw input lines numbered from ``first_line``."""
        return self.score([self.parse(t, first_line + i) for i, t in enumerate(lines)])


@dataclass
class ScoreReport:
    """What :func:`score_file` did."""

    scored: int
    errors: int
    skipped: int
    output: Path


def _done_lines(output: Path) -> int:
    """The input line number of the last complete output record; a torn last line (a crash
    mid-write) is cut off the file."""
    if not output.exists():
        return 0
    with open(output, "rb+") as handle:
        data = handle.read()
        end = data.rfind(b"\n") + 1  # keep whole lines only
        if end < len(data):
            handle.truncate(end)
    last = 0
    for raw in data[:end].splitlines()[-1:]:
        try:
            last = int(json.loads(raw)["line"])
        except (ValueError, KeyError, TypeError):
            raise DataError(
                f"{output}: its last line is not a scored record of socialgan score; "
                "pass another --output, or --overwrite"
            ) from None
    return last


def _chunks(path: Path, start_after: int, size: int) -> Iterator[tuple[list[str], list[int]]]:
    """``(lines, their line numbers)`` of the non-blank lines after ``start_after``."""
    batch: list[str] = []
    numbers: list[int] = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if number <= start_after or not line.strip():
                continue
            batch.append(line.rstrip("\r\n"))
            numbers.append(number)
            if len(batch) == size:
                yield batch, numbers
                batch, numbers = [], []
    if batch:
        yield batch, numbers


def score_file(
    scorer: Scorer,
    input: str | Path,
    output: str | Path,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    resume: bool = True,
    overwrite: bool = False,
    progress: bool | None = None,
    max_chunks: int | None = None,
) -> ScoreReport:
    """Score every line of ``input`` (JSONL) into ``output`` (JSONL), see the module.

    Args:
        chunk_size: lines scored together (and written before the next are read).
        resume: continue after the last line already in ``output``.
        overwrite: start ``output`` afresh instead.
        progress: a tqdm bar over the input's bytes (None: on a terminal).
        max_chunks: stop after this many chunks (a test's simulated crash; None: all).
    """
    from tqdm import tqdm

    from socialgan.engine.utils import is_tty

    source, target = Path(input), Path(output)
    if not source.is_file():
        raise DataError(f"{source}: no such input file")
    if chunk_size < 1:
        raise DataError(f"chunk size must be >= 1, got {chunk_size}")
    if target.exists() and not (resume or overwrite):
        raise DataError(f"{target} exists; resume it (the default) or pass --overwrite")
    if overwrite and target.exists():
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    done = _done_lines(target)
    scored = errors = chunks = 0
    bar = tqdm(
        total=source.stat().st_size,
        unit="B",
        unit_scale=True,
        desc=f"scoring {source.name}",
        disable=not (is_tty() if progress is None else progress),
    )
    with open(target, "a", encoding="utf-8") as out:
        for lines, numbers in _chunks(source, done, chunk_size):
            records = scorer.score(
                [scorer.parse(t, n) for t, n in zip(lines, numbers, strict=True)]
            )
            out.write("".join(json.dumps(r) + "\n" for r in records))
            out.flush()
            os.fsync(out.fileno())
            errors += sum("error" in r for r in records)
            scored += sum("error" not in r for r in records)
            bar.update(sum(len(t.encode()) + 1 for t in lines))
            chunks += 1
            if max_chunks is not None and chunks >= max_chunks:
                break
    bar.close()
    return ScoreReport(scored=scored, errors=errors, skipped=done, output=target)
