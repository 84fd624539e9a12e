"""Interaction data for recommenders: who consumed what, and who knows whom.

:class:`Interactions` holds one row per (user, item) pair, in index space (users and
items numbered ``0..n-1``) with the raw ids kept beside it, plus an optional social graph
(users x users). Loaders:

- :func:`load_lastfm` reads HetRec 2011 Last.fm (``user_artists.dat``, the friend network
  ``user_friends.dat``, which has no header, and the artist names of ``artists.dat``);
- :func:`load_filmtrust` reads FilmTrust (``ratings.txt`` and the directed ``trust.txt``);
- :func:`read_interactions` reads any ``user item [rating [timestamp]]`` file, tab, space or
  comma separated, with or without a header (CFGAN's ``.train`` / ``.test`` files and
  MovieLens's ``u.data`` have this form); ``min_rating`` turns ratings into implicit
  feedback.

Every problem in a file is a :class:`~socialgan.errors.DataError` naming the file and line.

Example:
    >>> data = load_lastfm()  # doctest: +SKIP
    >>> data.n_users, data.n_items, data.nnz  # doctest: +SKIP
    (1892, 17632, 92834)
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from socialgan.datapaths import find_shared_data
from socialgan.errors import DataError

__all__ = [
    "DATASETS",
    "Interactions",
    "load_dataset",
    "load_filmtrust",
    "load_lastfm",
    "read_interactions",
    "read_pair",
]


@dataclass(frozen=True)
class Interactions:
    """User-item interactions in index space, with the raw ids and an optional social graph.

    Attributes:
        users, items: int64 arrays, one entry per interaction (indices into ``user_ids`` /
            ``item_ids``).
        ratings: float32 array (1.0 for implicit data).
        timestamps: float64 array or None.
        user_ids, item_ids: raw ids as strings, index -> id.
        item_names: display names per item index (``artists.dat``'s names), or None.
        social: users x users CSR matrix (1 = an edge), or None.
        source: where the data came from (a path or a data set name).
    """

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    user_ids: np.ndarray
    item_ids: np.ndarray
    timestamps: np.ndarray | None = None
    item_names: np.ndarray | None = None
    social: sp.csr_matrix | None = None
    source: str = ""
    _index: dict[str, dict[str, int]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def nnz(self) -> int:
        return len(self.users)

    def matrix(self, binary: bool = True) -> sp.csr_matrix:
        """The users x items CSR matrix (float32): 1 per interaction, or the rating."""
        values = np.ones(self.nnz, np.float32) if binary else self.ratings.astype(np.float32)
        shape = (self.n_users, self.n_items)
        out = sp.csr_matrix((values, (self.users, self.items)), shape=shape, dtype=np.float32)
        out.sum_duplicates()
        out.sort_indices()
        return out

    def subset(self, rows: np.ndarray) -> Interactions:
        """The interactions at ``rows`` (a boolean mask or indices), in the same id space."""
        ts = None if self.timestamps is None else self.timestamps[rows]
        return replace(
            self,
            users=self.users[rows],
            items=self.items[rows],
            ratings=self.ratings[rows],
            timestamps=ts,
            _index={},
        )

    def user_index(self, user_id: object) -> int | None:
        """The index of a raw user id, or None for a user the data do not hold."""
        if "user" not in self._index:
            self._index["user"] = {str(u): i for i, u in enumerate(self.user_ids)}
        return self._index["user"].get(str(user_id))

    def describe(self) -> str:
        density = self.nnz / max(1, self.n_users * self.n_items)
        text = (
            f"{self.n_users:,} users, {self.n_items:,} items, {self.nnz:,} interactions "
            f"(density {density:.4%})"
        )
        if self.social is not None:
            text += f", {self.social.nnz:,} social edges"
        return text


# ------------------------------------------------------------------------ reading
def _sniff_delimiter(first: str) -> str | None:
    if "\t" in first:
        return "\t"
    if "," in first:
        return ","
    return None  # runs of spaces


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_HEADER_WORDS = {"user", "userid", "user_id", "uid", "u", "user id", "source", "trustor"}


def _is_header(rows: list[list[str]]) -> bool:
    """A first line of column names: it starts with a word such as ``user``, or it holds
    text where the next line holds a number."""
    first = rows[0]
    if first and first[0].strip().lower() in _HEADER_WORDS:
        return True
    if len(rows) < 2:
        return False
    return any(not _is_number(a) and _is_number(b) for a, b in zip(first, rows[1], strict=False))


def _rows(path: Path) -> tuple[list[list[str]], int]:
    """The file's fields per line and the line number of the first data row (a header line
    of non-numbers is skipped)."""
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            lines = [line for line in handle.read().splitlines()]
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror or error})") from error
    content = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
    if not content:
        raise DataError(f"{path}: the file is empty")
    delimiter = _sniff_delimiter(content[0][1])
    rows: list[list[str]] = []
    numbers: list[int] = []
    reader = csv.reader([line for _, line in content], delimiter=delimiter or " ")
    for (n, line), parsed in zip(content, reader, strict=True):
        fields = line.split() if delimiter is None else [f.strip() for f in parsed]
        rows.append(fields)
        numbers.append(n)
    start = 1 if _is_header(rows) else 0
    return rows[start:], numbers[start] if start < len(numbers) else numbers[-1] + 1


def _index_of(ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Raw ids -> (codes, unique ids): in first-seen order, or sorted numerically when all
    are integers (so that index order matches id order)."""
    unique = list(dict.fromkeys(ids))
    if all(u.lstrip("-").isdigit() for u in unique):
        unique.sort(key=int)
    lookup = {u: i for i, u in enumerate(unique)}
    return np.fromiter((lookup[u] for u in ids), np.int64, len(ids)), np.array(unique, dtype=str)


def read_interactions(
    path: str | Path,
    *,
    min_rating: float | None = None,
    duplicates: str = "error",
    source: str | None = None,
) -> Interactions:
    """Read a ``user item [rating [timestamp]]`` file (tab, comma or space separated).

    Args:
        path: the file; a first line of column names is skipped.
        min_rating: keep only rows rated at least this (implicit feedback from ratings);
            None keeps every row.
        duplicates: what a repeated (user, item) pair does: ``"error"`` (default),
            ``"last"`` or ``"first"`` (keep that one).
        source: a name for the data (default: the path).

    Raises:
        DataError: an unreadable or empty file, a line with fewer than two fields, a
            non-numeric or negative rating or timestamp, a repeated pair under
            ``duplicates="error"``, nothing left after ``min_rating``.
    """
    path = Path(path)
    if duplicates not in ("error", "first", "last"):
        raise ValueError("duplicates must be 'error', 'first' or 'last'")
    rows, first_line = _rows(path)
    users: list[str] = []
    items: list[str] = []
    ratings: list[float] = []
    stamps: list[float] = []
    width = len(rows[0]) if rows else 0
    for offset, fields in enumerate(rows):
        line = first_line + offset
        if len(fields) < 2:
            raise DataError(f"{path}, line {line}: expected 'user item [rating [timestamp]]'")
        users.append(fields[0])
        items.append(fields[1])
        if width >= 3:
            ratings.append(_number(path, line, "rating", fields, 2))
        if width >= 4:
            stamps.append(_number(path, line, "timestamp", fields, 3))
    if not users:
        raise DataError(f"{path}: no interactions (only a header line)")
    rating = np.asarray(ratings, np.float32) if ratings else np.ones(len(users), np.float32)
    keep = np.ones(len(users), bool)
    seen: dict[tuple[str, str], int] = {}
    for row, pair in enumerate(zip(users, items, strict=True)):
        if pair in seen:
            if duplicates == "error":
                raise DataError(
                    f"{path}, line {first_line + row}: user {pair[0]!r} and item {pair[1]!r} "
                    f"appear again (first at line {first_line + seen[pair]}); remove the "
                    "repeated rows or pass duplicates='last' / 'first'"
                )
            if duplicates == "last":
                keep[seen[pair]] = False
                seen[pair] = row
            else:
                keep[row] = False
        else:
            seen[pair] = row
    if min_rating is not None:
        keep &= rating >= min_rating
        if not keep.any():
            raise DataError(f"{path}: no rating is >= min_rating={min_rating}")
    idx = np.flatnonzero(keep)
    u, user_ids = _index_of([users[i] for i in idx])
    v, item_ids = _index_of([items[i] for i in idx])
    ts = np.asarray(stamps, np.float64)[idx] if stamps else None
    return Interactions(
        users=u,
        items=v,
        ratings=rating[idx],
        user_ids=user_ids,
        item_ids=item_ids,
        timestamps=ts,
        source=source or str(path),
    )


def _number(path: Path, line: int, what: str, fields: list[str], column: int) -> float:
    if len(fields) <= column:
        raise DataError(f"{path}, line {line}: the {what} is missing")
    try:
        value = float(fields[column])
    except ValueError:
        raise DataError(
            f"{path}, line {line}: the {what} {fields[column]!r} is not a number"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise DataError(f"{path}, line {line}: the {what} {fields[column]!r} is negative")
    return value


def read_pair(
    train: str | Path, test: str | Path, *, min_rating: float | None = None
) -> tuple[Interactions, Interactions]:
    """A given train / test pair (CFGAN's ``.train`` / ``.test``), read into one id space.

    Test users or items that the train file never mentions are dropped (a recommender
    cannot rank an item it has never seen); ``DataError`` if nothing of the test is left.
    """
    a = read_interactions(train, min_rating=min_rating)
    b = read_interactions(test, min_rating=min_rating)
    users = {u: i for i, u in enumerate(a.user_ids)}
    items = {v: i for i, v in enumerate(a.item_ids)}
    bu = np.array([users.get(u, -1) for u in b.user_ids[b.users]], np.int64)
    bi = np.array([items.get(v, -1) for v in b.item_ids[b.items]], np.int64)
    keep = (bu >= 0) & (bi >= 0)
    if not keep.any():
        raise DataError(f"{test}: none of its users and items appear in {train}")
    ts = None if b.timestamps is None else b.timestamps[keep]
    test_part = replace(
        a, users=bu[keep], items=bi[keep], ratings=b.ratings[keep], timestamps=ts, _index={}
    )
    return a, test_part


# ---------------------------------------------------------------------- data sets
def _social(path: Path, user_ids: np.ndarray, *, undirected: bool) -> sp.csr_matrix:
    """An edge list file (``a b [value]``, no header needed) as a users x users matrix over
    ``user_ids``; edges to users without interactions are dropped (RecBole's
    ``filter_net_by_inter``)."""
    rows, first_line = _rows(path)
    lookup = {u: i for i, u in enumerate(user_ids)}
    src: list[int] = []
    dst: list[int] = []
    for offset, fields in enumerate(rows):
        if len(fields) < 2:
            raise DataError(f"{path}, line {first_line + offset}: expected 'user user [value]'")
        a, b = lookup.get(fields[0]), lookup.get(fields[1])
        if a is not None and b is not None and a != b:
            src.append(a)
            dst.append(b)
    n = len(user_ids)
    graph = sp.csr_matrix((np.ones(len(src), np.float32), (src, dst)), shape=(n, n))
    if undirected:
        graph = graph.maximum(graph.T).tocsr()
    graph.data[:] = 1.0
    graph.sort_indices()
    return graph


def load_lastfm(folder: str | Path | None = None) -> Interactions:
    """HetRec 2011 Last.fm: 92,834 user-artist pairs (implicit: the play counts are kept as
    ratings), artist names, and the undirected friend network."""
    root = Path(folder) if folder is not None else find_shared_data("lastfm_hetrec")
    data = read_interactions(root / "user_artists.dat", source="lastfm")
    names = _artist_names(root / "artists.dat")
    item_names = np.array([names.get(i, i) for i in data.item_ids], dtype=str)
    social = _social(root / "user_friends.dat", data.user_ids, undirected=True)
    return replace(data, item_names=item_names, social=social)


def _artist_names(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader, None)
        return {row[0]: row[1] for row in reader if len(row) >= 2}


def load_filmtrust(folder: str | Path | None = None) -> Interactions:
    """FilmTrust: 35,497 ratings (0.5-4; three repeated user-film pairs keep their last
    rating) and the directed trust network (trustor -> trustee)."""
    root = Path(folder) if folder is not None else find_shared_data("filmtrust")
    data = read_interactions(root / "ratings.txt", duplicates="last", source="filmtrust")
    social = _social(root / "trust.txt", data.user_ids, undirected=False)
    return replace(data, social=social)


#: Names accepted by :func:`load_dataset` (and ``--data`` in the CLI).
DATASETS = {"lastfm": load_lastfm, "filmtrust": load_filmtrust}


def load_dataset(name_or_path: str | Path, *, min_rating: float | None = None) -> Interactions:
    """A data set by name (``lastfm``, ``filmtrust``) or any interactions file."""
    key = str(name_or_path).lower()
    if key in DATASETS:
        data = DATASETS[key]()
        if min_rating is not None:
            data = data.subset(data.ratings >= min_rating)
        return data
    path = Path(name_or_path)
    if path.is_dir():
        raise DataError(
            f"{path}: a folder; pass a 'user item [rating]' file or one of {sorted(DATASETS)}"
        )
    if not path.exists():
        raise DataError(f"{path}: no such file, and not one of the data sets {sorted(DATASETS)}")
    return read_interactions(path, min_rating=min_rating)
