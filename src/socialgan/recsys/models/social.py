"""Simple social baselines: a user's friends' items blended into the user's own history.

The history a neighbourhood or linear model scores becomes ``x_u + beta * mean_f x_f`` over
the user's friends ``f`` in the social graph (the users a user trusts, for a directed
graph), so that what friends consume counts as weak evidence of taste. ``beta = 0`` gives
the plain model back, which makes the search over ``beta`` an honest answer to "does the
graph help?". Two such models: :class:`SocialItemKNN` (the social baseline the field uses)
and :class:`SocialEASE`.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from socialgan.errors import DataError

from .base import csr_from_state, csr_state
from .ease import WeightedEASE
from .neighbors import ItemKNN

__all__ = ["SocialEASE", "SocialItemKNN", "friends_mean"]


def friends_mean(social: sp.csr_matrix) -> sp.csr_matrix:
    """The row-normalized social graph: row ``u`` averages over ``u``'s friends."""
    graph = sp.csr_matrix(social, dtype=np.float32)
    graph.data[:] = 1.0
    degree = np.asarray(graph.sum(axis=1)).ravel()
    return sp.diags(1.0 / np.maximum(degree, 1.0)).dot(graph).tocsr().astype(np.float32)


class _FriendsHistory:
    """Mixin: the scored history of a user includes ``beta`` times their friends' mean."""

    beta: float
    train_: sp.csr_matrix
    social_: sp.csr_matrix

    def _take_graph(self, social: sp.csr_matrix | None) -> None:
        if social is None:
            raise DataError(
                f"{type(self).__name__} needs a social graph (users x users): fit it on data "
                "with a friend or trust network (lastfm, filmtrust) or pass social="
            )
        self.social_ = friends_mean(social)

    def _history_matrix(self) -> sp.csr_matrix:
        """The (possibly weighted) training histories the model scores."""
        return getattr(self, "Xw_", self.train_)

    def _histories(self, users: np.ndarray) -> sp.csr_matrix:
        history = self._history_matrix()
        own = history[users]
        if not self.beta:
            return own
        friends = self.social_[users] @ history
        return (own + float(self.beta) * friends).tocsr()

    # cooperative overrides: the mixin comes first in each model's bases, so super() is
    # the plain model (ItemKNN, WeightedEASE)
    def _fit(self, X: sp.csr_matrix, social: sp.csr_matrix | None) -> None:
        self._take_graph(social)
        super()._fit(X, social)  # type: ignore[misc]

    def _state(self) -> dict[str, np.ndarray]:
        return {**super()._state(), **csr_state("social", self.social_)}  # type: ignore[misc]

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        super()._set_state(state)  # type: ignore[misc]
        self.social_ = csr_from_state(state, "social")


class SocialItemKNN(_FriendsHistory, ItemKNN):
    """ItemKNN scoring ``x_u + beta * mean of friends' x_f`` (see the module docstring)."""

    model_type = "socialgan.recsys.SocialItemKNN"
    description = "ItemKNN over the user's history plus beta x their friends' mean history."
    uses_social = True
    search_space: ClassVar[dict[str, list]] = {
        **ItemKNN.search_space,
        "beta": [0.0, 0.05, 0.1, 0.2, 0.5, 1.0],
    }

    def __init__(
        self, top_k: int = 100, shrink: float = 10.0, normalize: bool = True, beta: float = 0.1
    ) -> None:
        super().__init__(top_k=top_k, shrink=shrink, normalize=normalize)
        self.beta = beta

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.asarray((self._histories(users) @ self.W_).toarray(), dtype=np.float32)


class SocialEASE(_FriendsHistory, WeightedEASE):
    """WeightedEASE scoring ``x_u + beta * mean of friends' x_f`` (see the module docstring)."""

    model_type = "socialgan.recsys.SocialEASE"
    description = "EASE over the user's history plus beta x their friends' mean history."
    uses_social = True
    search_space: ClassVar[dict[str, list]] = {
        **WeightedEASE.search_space,
        "beta": [0.0, 0.02, 0.05, 0.1, 0.2, 0.5],
    }

    def __init__(
        self,
        l2: float = 100.0,
        l2_diag: float = 2.0,
        weighting: str = "log",
        pop_penalty: float = 0.25,
        solver: str = "auto",
        beta: float = 0.02,
    ) -> None:
        super().__init__(l2, l2_diag, weighting, pop_penalty, solver)
        self.beta = beta

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.debias(self.score_histories(self._histories(users)))
