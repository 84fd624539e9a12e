"""The interface every recommender shares, and its persistence.

A recommender is fitted on a users x items interaction matrix (and, where it uses one, a
users x users social graph), scores every item for a batch of users, and recommends the top
``k`` that a user has not consumed. Subclasses implement three things:

- ``_fit(X, social)``: learn from the binary CSR matrix ``X`` (float32);
- ``_score(users)``: a dense ``(len(users), n_items)`` float32 array of scores, higher is
  better (the base class masks consumed items);
- ``_state()`` / ``_set_state(state)``: the learned arrays, saved as safetensors.

Hyperparameters are the ``__init__`` arguments (scikit-learn style, read back by
:meth:`Recommender.get_params`); the folder written by :meth:`save_pretrained` holds
``config.json`` (model type, hyperparameters, shapes), ``model.safetensors`` (the learned
arrays and the training matrix), ``catalog.json`` (raw user and item ids, item names) and a
model card ``README.md``. Nothing is pickled.

Example:
    >>> model = EASE(l2=500).fit(data)  # doctest: +SKIP
    >>> items, scores = model.recommend(["2"], k=10)  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import json
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from safetensors.numpy import load_file, save

from socialgan.engine.checkpoint import atomic_write_bytes, atomic_write_json
from socialgan.errors import DataError
from socialgan.loading import CONFIG_FILE, MODEL_FILE, read_config, read_safetensors

from ..data import Interactions
from ..metrics import top_k

__all__ = ["CATALOG_FILE", "Recommender", "as_matrix", "csr_from_state", "csr_state"]

CATALOG_FILE = "catalog.json"


def as_matrix(data: Interactions | sp.spmatrix | np.ndarray) -> sp.csr_matrix:
    """A binary float32 CSR users x items matrix from interactions or a matrix."""
    if isinstance(data, Interactions):
        return data.matrix(binary=True)
    X = sp.csr_matrix(data, dtype=np.float32)
    X.sum_duplicates()
    X.data[:] = 1.0
    X.eliminate_zeros()
    X.sort_indices()
    return X


def csr_state(name: str, matrix: sp.csr_matrix) -> dict[str, np.ndarray]:
    """A CSR matrix as ``{name.indptr, name.indices, name.data}`` arrays for safetensors."""
    m = sp.csr_matrix(matrix)
    return {
        f"{name}.indptr": m.indptr.astype(np.int64),
        f"{name}.indices": m.indices.astype(np.int64),
        f"{name}.data": m.data.astype(np.float32),
    }


def csr_from_state(state: dict[str, np.ndarray], name: str) -> sp.csr_matrix:
    """The square CSR matrix :func:`csr_state` wrote under ``name``."""
    n = len(state[f"{name}.indptr"]) - 1
    return sp.csr_matrix(
        (state[f"{name}.data"], state[f"{name}.indices"], state[f"{name}.indptr"]), shape=(n, n)
    )


class Recommender:
    """Base class: ``fit(interactions, social=None) -> self``, ``recommend(users, k)``."""

    #: ``model_type`` written to ``config.json`` (registered in :mod:`socialgan.loading`).
    model_type: ClassVar[str] = ""
    #: A short description for the model card.
    description: ClassVar[str] = ""
    #: True for models that read the social graph.
    uses_social: ClassVar[bool] = False

    train_: sp.csr_matrix
    #: training users per item (derived from ``train_``, set with it)
    item_counts_: np.ndarray
    user_ids_: np.ndarray | None = None
    item_ids_: np.ndarray | None = None
    item_names_: np.ndarray | None = None

    # ------------------------------------------------------------------ params
    def get_params(self) -> dict[str, Any]:
        """The hyperparameters (the ``__init__`` arguments) and their values."""
        names = [
            p.name
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        ]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> Recommender:
        known = self.get_params()
        for key, value in params.items():
            if key not in known:
                raise ValueError(f"{type(self).__name__} has no parameter {key!r}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # --------------------------------------------------------------------- fit
    def fit(
        self, interactions: Interactions | sp.spmatrix, social: sp.spmatrix | None = None
    ) -> Recommender:
        """Learn from ``interactions`` (users x items; an :class:`Interactions` also brings
        its ids, item names and social graph, which ``social`` overrides)."""
        X = as_matrix(interactions)
        if X.nnz == 0:
            raise DataError("cannot fit a recommender on no interactions")
        if isinstance(interactions, Interactions):
            values = interactions.matrix(binary=False)
            self.user_ids_ = interactions.user_ids
            self.item_ids_ = interactions.item_ids
            self.item_names_ = interactions.item_names
            if social is None:
                social = interactions.social
        graph = None
        if social is not None:
            graph = sp.csr_matrix(social, dtype=np.float32)
            if graph.shape != (X.shape[0], X.shape[0]):
                raise DataError(
                    f"the social graph is {graph.shape[0]} x {graph.shape[1]} but there are "
                    f"{X.shape[0]} users"
                )
        if not isinstance(interactions, Interactions):
            values = sp.csr_matrix(interactions, dtype=np.float32)
            values.sum_duplicates()
            values.sort_indices()
        self.train_ = X
        self.item_counts_ = np.bincount(X.indices, minlength=X.shape[1])
        #: the interaction strengths (play counts, ratings) on X's pattern, for models that
        #: weight them; 1 everywhere for binary input
        self.values_ = values if values.nnz == X.nnz else X
        self._fit(X, graph)
        return self

    def _fit(self, X: sp.csr_matrix, social: sp.csr_matrix | None) -> None:
        raise NotImplementedError

    def _score(self, users: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # ------------------------------------------------------------------- score
    @property
    def n_users(self) -> int:
        return int(self.train_.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.train_.shape[1])

    def score(self, users: np.ndarray, exclude: sp.csr_matrix | None = None) -> np.ndarray:
        """Scores of every item for user indices ``users`` (float32, higher is better);
        the items of ``exclude`` (a users x items matrix) are set to ``-inf``."""
        if not hasattr(self, "train_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit() first")
        users = np.asarray(users, dtype=np.int64)
        scores = np.asarray(self._score(users), dtype=np.float32)
        if scores.shape != (len(users), self.n_items):
            raise RuntimeError(f"{type(self).__name__}._score returned shape {scores.shape}")
        if exclude is not None:
            rows = exclude[users]
            r, c = rows.nonzero()
            scores[r, c] = -np.inf
        return scores

    def popular(self) -> np.ndarray:
        """Item indices by training popularity, most popular first."""
        return np.argsort(-self.item_counts_, kind="stable")

    def recommend(
        self, users: Any, k: int = 10, exclude_seen: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """The top ``k`` items for each of ``users`` (raw ids when the model was fitted on
        :class:`Interactions`, else indices).

        A user the training data do not hold gets the most popular items, with a warning
        (scores NaN). Returns ``(items, scores)``, each ``(len(users), k)``: raw item ids
        (indices without a catalog) and the model's scores.
        """
        if isinstance(users, str | int | np.integer):
            users = [users]
        users = list(users)
        idx = np.array([self._user_index(u) for u in users], dtype=np.int64)
        k = int(k)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        known = idx >= 0
        items = np.zeros((len(users), min(k, self.n_items)), np.int64)
        scores = np.full(items.shape, np.nan, np.float32)
        if known.any():
            s = self.score(idx[known], self.train_ if exclude_seen else None)
            top = top_k(s, k)
            items[known] = top
            scores[known] = np.take_along_axis(s, top, axis=1)
        if (~known).any():
            unknown = [str(u) for u, ok in zip(users, known, strict=True) if not ok]
            warnings.warn(
                f"unknown user(s) {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}"
                ": not in the training data, recommending the most popular items",
                stacklevel=2,
            )
            items[~known] = self.popular()[: items.shape[1]]
        if self.item_ids_ is not None:
            return self.item_ids_[items], scores
        return items, scores

    def _user_index(self, user: Any) -> int:
        if self.user_ids_ is None:
            try:
                index = int(user)
            except (TypeError, ValueError):
                raise DataError(
                    f"user {user!r} is not an integer; this model has no catalog of user ids, "
                    "so users are row numbers"
                ) from None
            if not 0 <= index < self.n_users:
                return -1
            return index
        if self.user_ids_.size and all(str(u).lstrip("-").isdigit() for u in self.user_ids_[:50]):
            if not str(user).strip().lstrip("-").isdigit():
                raise DataError(f"user id {user!r} is not an integer; this data's user ids are")
        if not hasattr(self, "_user_lookup"):
            self._user_lookup = {str(u): i for i, u in enumerate(self.user_ids_)}
        return self._user_lookup.get(str(user).strip(), -1)

    def item_name(self, item: Any) -> str:
        """The display name of a raw item id (the id itself without names)."""
        if self.item_names_ is None or self.item_ids_ is None:
            return str(item)
        if not hasattr(self, "_item_lookup"):
            self._item_lookup = {str(v): i for i, v in enumerate(self.item_ids_)}
        index = self._item_lookup.get(str(item))
        return str(item) if index is None else str(self.item_names_[index])

    # ------------------------------------------------------------- persistence
    def _state(self) -> dict[str, np.ndarray]:
        return {}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        del state

    def _extra_config(self) -> dict[str, Any]:
        """JSON-able learned settings beyond the hyperparameters (none by default)."""
        return {}

    def _set_extra_config(self, config: dict[str, Any]) -> None:
        del config

    def save_pretrained(self, directory: str | Path, card: str = "") -> Path:
        """Write ``config.json``, ``model.safetensors``, ``catalog.json`` and ``README.md``."""
        if not hasattr(self, "train_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; nothing to save")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        X = self.train_
        tensors = {
            "train.indptr": X.indptr.astype(np.int64),
            "train.indices": X.indices.astype(np.int64),
        }
        for key, value in self._state().items():
            tensors[f"state.{key}"] = np.ascontiguousarray(value)
        config = {
            "model_type": self.model_type,
            "params": self.get_params(),
            "n_users": self.n_users,
            "n_items": self.n_items,
            "extra": self._extra_config(),
        }
        atomic_write_bytes(directory / MODEL_FILE, save(tensors))
        catalog = {
            "user_ids": None if self.user_ids_ is None else [str(u) for u in self.user_ids_],
            "item_ids": None if self.item_ids_ is None else [str(v) for v in self.item_ids_],
            "item_names": None if self.item_names_ is None else [str(n) for n in self.item_names_],
        }
        atomic_write_bytes(directory / CATALOG_FILE, json.dumps(catalog).encode())
        atomic_write_bytes(directory / "README.md", self._card(card).encode())
        atomic_write_json(directory / CONFIG_FILE, config)  # last: marks the folder complete
        return directory

    def _card(self, extra: str) -> str:
        params = ", ".join(f"`{k}={v!r}`" for k, v in self.get_params().items()) or "none"
        lines = [
            f"# {type(self).__name__} recommender (socialgan)",
            "",
            self.description,
            "",
            f"- Trained on {self.n_users:,} users x {self.n_items:,} items, "
            f"{self.train_.nnz:,} interactions (implicit feedback).",
            f"- Hyperparameters: {params}.",
            "- Load: `socialgan.load(DIR)` or `socialgan recsys recommend DIR --user ID`.",
            "- Limits: recommends only items seen in training; a new user gets the most "
            "popular items.",
        ]
        if extra:
            lines += ["", extra]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> Recommender:
        """Open a folder written by :meth:`save_pretrained`."""
        directory = Path(directory)
        config = read_config(directory, expect=cls.model_type or "socialgan.recsys.")
        if cls.model_type == "":  # the base class: dispatch on the folder's model type
            from socialgan.loading import model_class

            target = model_class(config["model_type"])
            return target.from_pretrained(directory)  # type: ignore[no-any-return]
        tensors = read_safetensors(directory / MODEL_FILE, load_file)
        model = cls(**config.get("params", {}))
        shape = (int(config["n_users"]), int(config["n_items"]))
        indptr = tensors["train.indptr"]
        indices = tensors["train.indices"]
        data = np.ones(len(indices), np.float32)
        model.train_ = sp.csr_matrix((data, indices, indptr), shape=shape)
        model.item_counts_ = np.bincount(indices, minlength=shape[1])
        model._set_state(
            {k[len("state.") :]: v for k, v in tensors.items() if k.startswith("state.")}
        )
        model._set_extra_config(config.get("extra", {}))
        catalog_path = directory / CATALOG_FILE
        if catalog_path.is_file():
            try:
                catalog = json.loads(catalog_path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise DataError(f"{catalog_path}: not valid JSON ({e})") from None
            for key in ("user_ids", "item_ids", "item_names"):
                if catalog.get(key) is not None:
                    setattr(model, key + "_", np.array(catalog[key], dtype=str))
        return model
