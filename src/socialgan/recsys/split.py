"""Train / validation / test splits of interaction data, per user.

Every splitter works user by user, so that each user with enough interactions has some in
each part, and no user who has any interaction is left without a training item:

- :func:`ratio_split` shuffles each user's interactions with ``seed`` and cuts them by
  ratios, the way RecBole's ``RS`` split grouped by user does (``(0.8, 0.1, 0.1)`` is
  RecBole's default; a part whose share would round to zero still gets one interaction as
  long as training keeps at least one);
- :func:`holdout_split` is the random per-user 80/20 holdout (two parts);
- :func:`leave_one_out` holds out each user's last interaction (by timestamp, or a random
  one without timestamps) for test and the one before for validation;
- :func:`temporal_split` cuts each user's history in time order by ratios.

Each returns a :class:`Split` whose parts share the data's id space.

Example:
    >>> split = ratio_split(load_lastfm(), (0.8, 0.1, 0.1), seed=2020)  # doctest: +SKIP
    >>> split.train.nnz, split.valid.nnz, split.test.nnz  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from socialgan.errors import DataError

from .data import Interactions

__all__ = [
    "SPLITS",
    "Split",
    "holdout_split",
    "given_split",
    "leave_one_out",
    "make_split",
    "ratio_split",
    "split_counts",
    "temporal_split",
]


@dataclass(frozen=True)
class Split:
    """Train, validation (None for a two-way split) and test interactions."""

    train: Interactions
    valid: Interactions | None
    test: Interactions
    protocol: str
    #: What the final model is fitted on when it is not ``train`` (a given train / test
    #: pair: the search holds part of the given train out, the final fit uses all of it).
    full_train: Interactions | None = None

    @property
    def final_train(self) -> Interactions:
        return self.train if self.full_train is None else self.full_train

    def test_exclude(self) -> list[Interactions]:
        """What the test ranking leaves out: everything the final model may know."""
        if self.full_train is not None:
            return [self.full_train]
        return [self.train] if self.valid is None else [self.train, self.valid]

    def check(self) -> Split:
        """Raise :class:`DataError` for an empty part; return self."""
        for name, part in (("train", self.train), ("valid", self.valid), ("test", self.test)):
            if part is not None and part.nnz == 0:
                raise DataError(
                    f"the {name} split of {self.train.source or 'the data'} is empty "
                    f"({self.protocol}): too few interactions per user for this split"
                )
        return self


def split_counts(total: int, ratios: Sequence[float]) -> list[int]:
    """How many of a user's ``total`` interactions go to each part (RecBole's rule: floor
    of each share, the rest to the first part, then each later part whose share is between
    0 and 1 takes one from the first part while the first part keeps more than one)."""
    counts = [int(r * total) for r in ratios]
    counts[0] = total - sum(counts[1:])
    for i in range(1, len(ratios)):
        if counts[0] <= 1:
            break
        if 0 < ratios[-i] * total < 1:
            counts[-i] += 1
            counts[0] -= 1
    return counts


def _check_ratios(ratios: Sequence[float]) -> list[float]:
    values = [float(r) for r in ratios]
    if len(values) not in (2, 3) or any(r < 0 for r in values) or values[0] <= 0:
        raise ValueError(f"ratios must be 2 or 3 non-negative shares, train > 0; got {ratios}")
    total = sum(values)
    return [r / total for r in values]


def _by_user(data: Interactions) -> list[np.ndarray]:
    order = np.argsort(data.users, kind="stable")
    bounds = np.searchsorted(data.users[order], np.arange(data.n_users + 1))
    return [order[bounds[u] : bounds[u + 1]] for u in range(data.n_users)]


def _assemble(
    data: Interactions, parts: list[list[np.ndarray]], protocol: str, three: bool
) -> Split:
    pieces = [np.sort(np.concatenate(p)) if p else np.zeros(0, np.int64) for p in parts]
    valid = data.subset(pieces[1]) if three else None
    test = data.subset(pieces[-1])
    return Split(data.subset(pieces[0]), valid, test, protocol).check()


def _cut(data: Interactions, ordered: list[np.ndarray], ratios: list[float], protocol: str):
    parts: list[list[np.ndarray]] = [[] for _ in ratios]
    for rows in ordered:
        if len(rows) == 0:
            continue
        bounds = np.cumsum(split_counts(len(rows), ratios))[:-1]
        for part, chunk in zip(parts, np.split(rows, bounds), strict=True):
            part.append(chunk)
    return _assemble(data, parts, protocol, three=len(ratios) == 3)


def ratio_split(
    data: Interactions, ratios: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 2020
) -> Split:
    """Shuffle each user's interactions (``seed``) and cut them by ``ratios`` (RecBole's
    random split grouped by user; its default seed is 2020)."""
    shares = _check_ratios(ratios)
    rng = np.random.default_rng(seed)
    ordered = [rng.permutation(rows) for rows in _by_user(data)]
    label = ":".join(f"{r:g}" for r in ratios)
    return _cut(data, ordered, shares, f"random {label} per user, seed {seed}")


def holdout_split(data: Interactions, test_size: float = 0.2, seed: int = 0) -> Split:
    """A random per-user holdout: ``test_size`` of each user's interactions to test."""
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1); got {test_size}")
    rng = np.random.default_rng(seed)
    ordered = [rng.permutation(rows) for rows in _by_user(data)]
    return _cut(
        data,
        ordered,
        [1 - test_size, test_size],
        f"random {1 - test_size:g}/{test_size:g} holdout per user, seed {seed}",
    )


def _time_order(data: Interactions, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if data.timestamps is None:
        return rng.permutation(rows)
    return rows[np.argsort(data.timestamps[rows], kind="stable")]


def leave_one_out(data: Interactions, seed: int = 0) -> Split:
    """Each user's last interaction (by time; random without timestamps) to test, the one
    before to validation; users with fewer than three interactions keep all in train."""
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for rows in _by_user(data):
        ordered = _time_order(data, rows, rng)
        if len(ordered) < 3:
            parts[0].append(ordered)
            continue
        parts[0].append(ordered[:-2])
        parts[1].append(ordered[-2:-1])
        parts[2].append(ordered[-1:])
    how = "by timestamp" if data.timestamps is not None else f"random, seed {seed}"
    return _assemble(data, parts, f"leave-one-out ({how})", three=True)


def temporal_split(data: Interactions, ratios: Sequence[float] = (0.8, 0.1, 0.1)) -> Split:
    """Each user's history in time order, cut by ``ratios`` (the latest to test)."""
    if data.timestamps is None:
        raise DataError(
            f"{data.source or 'the data'} has no timestamps: a temporal split needs a "
            "'user item rating timestamp' file; use the random split instead"
        )
    shares = _check_ratios(ratios)
    rng = np.random.default_rng(0)
    ordered = [_time_order(data, rows, rng) for rows in _by_user(data)]
    label = ":".join(f"{r:g}" for r in ratios)
    return _cut(data, ordered, shares, f"temporal {label} per user")


def given_split(
    train: Interactions, test: Interactions, valid_share: float = 0.1, seed: int = 0
) -> Split:
    """A given train / test pair used as is: the search validates on ``valid_share`` of each
    user's given training interactions; the final model is fitted on the whole given train."""
    inner = ratio_split(train, (1 - valid_share, valid_share), seed=seed)
    return Split(
        inner.train,
        inner.test,
        test,
        f"given train / test files; validation: {valid_share:g} of train per user, seed {seed}",
        full_train=train,
    ).check()


#: ``--split`` names for :func:`make_split`.
SPLITS = ("recbole", "holdout", "loo", "temporal")


def make_split(data: Interactions, name: str, seed: int = 2020) -> Split:
    """A split by its CLI name: ``recbole`` (8:1:1 random per user), ``holdout`` (80/20
    random per user, with 10% of train held out for validation), ``loo``, ``temporal``."""
    if name == "recbole":
        return ratio_split(data, (0.8, 0.1, 0.1), seed=seed)
    if name == "holdout":
        return ratio_split(data, (0.72, 0.08, 0.2), seed=seed)
    if name == "loo":
        return leave_one_out(data, seed=seed)
    if name == "temporal":
        return temporal_split(data)
    raise DataError(f"unknown split {name!r}; choose one of {', '.join(SPLITS)}")
