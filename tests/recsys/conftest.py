"""Small interaction data sets with planted structure for the recommender tests."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from socialgan.recsys.data import Interactions
from socialgan.recsys.models.base import Recommender


def planted(n_users: int = 40, n_items: int = 30, seed: int = 0) -> Interactions:
    """Two taste groups: users 0..n/2-1 like items 0..m/2-1, the others the rest; each user
    has about half of their group's items, plus one item of the other group."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    half_u, half_i = n_users // 2, n_items // 2
    for u in range(n_users):
        own = np.arange(half_i) if u < half_u else np.arange(half_i, n_items)
        other = np.arange(half_i, n_items) if u < half_u else np.arange(half_i)
        chosen = list(rng.choice(own, size=half_i // 2, replace=False)) + [rng.choice(other)]
        users += [u] * len(chosen)
        items += chosen
    n = len(users)
    friends = sp.csr_matrix(
        (np.ones(n_users), (np.arange(n_users), (np.arange(n_users) + 1) % n_users)),
        shape=(n_users, n_users),
    )
    return Interactions(
        users=np.array(users, np.int64),
        items=np.array(items, np.int64),
        ratings=rng.integers(1, 100, n).astype(np.float32),
        user_ids=np.array([str(10 + u) for u in range(n_users)]),
        item_ids=np.array([str(100 + i) for i in range(n_items)]),
        item_names=np.array([f"item {i}" for i in range(n_items)]),
        social=(friends + friends.T).tocsr(),
        source="planted",
    )


def own_group_share(model: Recommender, n_users: int = 40, n_items: int = 30, k: int = 5) -> float:
    """Share of each user's top-k unseen items that lie in the user's own taste group of
    :func:`planted` data (chance: about 0.5)."""
    users = np.arange(n_users)
    scores = model.score(users, exclude=model.train_)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    mine = (top < n_items // 2) == (users[:, None] < n_users // 2)
    return float(mine.mean())


@pytest.fixture()
def toy() -> Interactions:
    return planted()
