"""Where the shared real-data folder is: one lookup for every loader and for the tests.

The shared data folder holds the public data sets (``youtube_spam/``, ``images/att_faces/``
...; see ``shared/data/README.md``). It is never copied into the repository and no
machine's path is built in: a path inside it is looked for at

1. ``$SOCIALGAN_DATA/<path>`` (the variable names the folder itself);
2. ``shared/data/<path>`` in the working directory and each of its parents;
3. ``shared/data/<path>`` in each parent of this source file (a source checkout that sits
   next to ``shared/``, as ``main/`` and ``shared/data/`` do in a work folder).

Example (from a folder that has ``shared/data/youtube_spam`` above it):
    >>> from socialgan.datapaths import find_shared_data
    >>> find_shared_data("youtube_spam")  # doctest: +SKIP
    PosixPath('.../shared/data/youtube_spam')
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from socialgan.errors import DataError

__all__ = ["DATA_ENV", "SHARED_DATA", "data_candidates", "find_shared_data"]

#: Environment variable naming the shared data folder (the one holding ``youtube_spam/`` ...).
DATA_ENV = "SOCIALGAN_DATA"
#: The shared data folder, relative to a folder above the working directory or the source.
SHARED_DATA = Path("shared", "data")


def _starts() -> list[Path]:
    """The working directory (when it still exists) and this source file's folder."""
    starts = [Path(__file__).resolve().parent]
    try:
        starts.insert(0, Path.cwd().resolve())
    except OSError:  # the working directory was deleted
        pass
    return starts


def data_candidates(relative: str | Path = "") -> list[Path]:
    """Every place where ``relative`` (a path inside the shared data folder; empty: the
    folder itself) is looked for, in search order, without repeats."""
    relative = Path(relative)
    places: list[Path] = []
    env = os.environ.get(DATA_ENV)
    if env:
        places.append(Path(env).expanduser() / relative)
    for start in _starts():
        places += [base / SHARED_DATA / relative for base in (start, *start.parents)]
    return list(dict.fromkeys(places))


def find_shared_data(relative: str | Path = "", has: Callable[[Path], bool] = Path.is_dir) -> Path:
    """The first of :func:`data_candidates` for which ``has`` is true (default: a folder).

    Raises:
        DataError: nothing found; the message lists every place tried and how to fix it.
    """
    tried = data_candidates(relative)
    for candidate in tried:
        if has(candidate):
            return candidate
    what = f"data folder {str(relative)!r}" if str(relative) not in ("", ".") else "shared data"
    raise DataError(
        f"{what} not found; looked in: {', '.join(map(str, tried))}. "
        f"Pass a path or set {DATA_ENV} to the shared data folder"
    )
