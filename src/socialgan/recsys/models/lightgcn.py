"""LightGCN: user and item embeddings smoothed over the interaction graph.

:class:`LightGCN` (He et al., SIGIR 2020) learns one ego embedding per user and item, then
propagates them ``n_layers`` times over the symmetric-normalized user-item graph
``D^-1/2 A D^-1/2`` with no weights and no non-linearity, and scores a pair by the dot
product of the mean of the layers' embeddings. It is trained with the BPR loss (one uniform
negative among the user's unconsumed items per positive) plus L2 on the batch's ego
embeddings, ``reg_weight * ||e||^2 / (2 * batch)`` as in the authors' code (RecBole's
``require_pow`` form), with Adam.

Defaults: 64 dimensions, 3 layers (RecBole-GNN's best on LastFM), ``reg_weight=1e-4`` and
batch 2048 (the paper), Xavier-uniform initialisation (RecBole). The learning rate is
``5e-3`` rather than the paper's ``1e-3``: on LastFM (8:1:1 split) ``1e-3`` is still far
from converged after 200 epochs (test NDCG@10 0.184), while ``5e-3`` plateaus from about
epoch 100 (0.194 at 150 epochs, about 1-1.5 CPU-seconds an epoch on one thread).

:class:`~socialgan.recsys.models.social_lightgcn.SocialLightGCN` propagates over a graph
that also holds the social graph's user-user edges (:func:`normalized_adjacency` builds both).

Early stopping: set ``model.valid_`` to a users x items CSR matrix of held-out interactions
before :meth:`fit`; NDCG@10 on it (training items excluded) is computed every
``eval_every`` epochs, the best epoch's embeddings are kept, and training stops after
``patience`` evaluations without a gain. ``history_`` then lists ``(epoch, loss, ndcg)``.

Example:
    >>> model = LightGCN(epochs=100).fit(split.train)  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from tqdm.auto import tqdm

from socialgan.errors import DataError, TrainingError

from ..metrics import hit_matrix, ranking_metrics, top_k
from .base import Recommender

__all__ = ["LightGCN", "normalized_adjacency", "sample_negatives"]


def normalized_adjacency(
    X: sp.csr_matrix, social: sp.csr_matrix | None = None, social_weight: float = 1.0
) -> sp.csr_matrix:
    """``D^-1/2 A D^-1/2`` over users then items, ``A = [[w S, X], [X^T, 0]]``: the
    bipartite graph of ``X``, plus the symmetrized social graph ``S`` (no self loops) with
    weight ``w`` when given. Isolated nodes keep zero rows. The result is symmetric."""
    n_users = X.shape[0]
    R = sp.csr_matrix(X, dtype=np.float32)
    if social is not None and social_weight > 0:
        S = sp.csr_matrix(social, dtype=np.float32)
        S = S.maximum(S.T).tocsr()
        S.setdiag(0)
        S.eliminate_zeros()
        S.data[:] = social_weight
    else:
        S = sp.csr_matrix((n_users, n_users), dtype=np.float32)
    A = sp.bmat([[S, R], [R.T, None]], format="csr", dtype=np.float32)
    degree = np.asarray(A.sum(axis=1)).ravel()
    scale = np.zeros_like(degree)
    scale[degree > 0] = degree[degree > 0] ** -0.5
    D = sp.diags(scale.astype(np.float32))
    out = (D @ A @ D).tocsr().astype(np.float32)
    out.sort_indices()
    return out


def _torch_csr(matrix: sp.csr_matrix) -> torch.Tensor:
    """A torch CSR tensor of a scipy one (checked by scipy already; torch's CSR is "beta")."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support", category=UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(matrix.indptr.astype(np.int64)),
            torch.from_numpy(matrix.indices.astype(np.int64)),
            torch.from_numpy(matrix.data.astype(np.float32)),
            size=matrix.shape,
            check_invariants=False,
        )


class _Propagate(torch.autograd.Function):
    """``adj @ x`` for a symmetric sparse ``adj``: the backward pass is ``adj @ grad`` too,
    which spares torch the transpose of a CSR tensor on every step."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        ctx.adj = adj
        return torch.sparse.mm(adj, x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return torch.sparse.mm(ctx.adj, grad), None


def sample_negatives(X: sp.csr_matrix, users: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One item per entry of ``users``, uniform over the items that user has not consumed
    (rejection sampling; every user in ``users`` must have an unconsumed item)."""
    n_items = X.shape[1]
    keys = (np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr)) * n_items) + (
        X.indices.astype(np.int64)
    )  # sorted: CSR rows in order, indices sorted within rows
    neg = rng.integers(0, n_items, size=len(users))
    todo = np.arange(len(users))
    while len(todo):
        key = users[todo] * n_items + neg[todo]
        pos = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
        todo = todo[keys[pos] == key]
        neg[todo] = rng.integers(0, n_items, size=len(todo))
    return neg


class LightGCN(Recommender):
    """LightGCN: layer-mean of linear propagations over the user-item graph, BPR-trained."""

    model_type: ClassVar[str] = "socialgan.recsys.LightGCN"
    description: ClassVar[str] = (
        "LightGCN (He et al., SIGIR 2020): user and item embeddings propagated over the "
        "normalized user-item graph and averaged over layers, trained with the BPR loss."
    )
    #: A small grid for tuning on validation data.
    search_space: ClassVar[dict[str, list[Any]]] = {
        "n_layers": [1, 2, 3],
        "reg_weight": [1e-5, 1e-4, 1e-3],
        "lr": [1e-3, 5e-3, 1e-2],
    }

    #: Optional held-out users x items matrix for early stopping (see the module docstring).
    valid_: sp.csr_matrix | None = None
    #: The layer-mean embeddings that score users and items (the saved state).
    user_embedding_: np.ndarray
    item_embedding_: np.ndarray
    #: ``(epoch, mean batch loss, validation NDCG@10 or NaN)`` per epoch of the last fit.
    history_: list[tuple[int, float, float]]
    epochs_trained_: int | None
    best_epoch_: int | None
    best_valid_ndcg_: float | None

    def __init__(
        self,
        embedding_size: int = 64,
        n_layers: int = 3,
        reg_weight: float = 1e-4,
        lr: float = 5e-3,
        batch_size: int = 2048,
        epochs: int = 150,
        eval_every: int = 5,
        patience: int = 5,
        seed: int = 0,
        progress: bool = False,
    ) -> None:
        self.embedding_size = embedding_size
        self.n_layers = n_layers
        self.reg_weight = reg_weight
        self.lr = lr
        self.batch_size = batch_size
        self.epochs = epochs
        self.eval_every = eval_every
        self.patience = patience
        self.seed = seed
        self.progress = progress

    # ----------------------------------------------------------------- graph
    def _adjacency(self, X: sp.csr_matrix, social: sp.csr_matrix | None) -> sp.csr_matrix:
        del social  # plain LightGCN ignores the social graph
        return normalized_adjacency(X)

    def _check_params(self) -> None:
        for name in ("embedding_size", "batch_size", "epochs", "eval_every", "patience"):
            if int(getattr(self, name)) < 1:
                raise DataError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if int(self.n_layers) < 0:
            raise DataError(f"n_layers must be >= 0, got {self.n_layers!r}")
        if not float(self.lr) > 0 or not float(self.reg_weight) >= 0:
            raise DataError(
                f"need lr > 0 and reg_weight >= 0, got {self.lr!r}, {self.reg_weight!r}"
            )

    # ------------------------------------------------------------------- fit
    def _fit(self, X: sp.csr_matrix, social: sp.csr_matrix | None) -> None:
        self._check_params()
        n_users, n_items = X.shape
        valid = self._valid_matrix(X.shape)
        adj = _torch_csr(self._adjacency(X, social))
        gen = torch.Generator().manual_seed(int(self.seed))
        rng = np.random.default_rng(int(self.seed))
        user_w = torch.empty(n_users, int(self.embedding_size))
        item_w = torch.empty(n_items, int(self.embedding_size))
        torch.nn.init.xavier_uniform_(user_w, generator=gen)  # RecBole's initialisation
        torch.nn.init.xavier_uniform_(item_w, generator=gen)
        ego = torch.nn.Parameter(torch.cat([user_w, item_w]))
        optimizer = torch.optim.Adam([ego], lr=float(self.lr))

        counts = np.diff(X.indptr)
        users = np.repeat(np.arange(n_users, dtype=np.int64), counts)
        items = X.indices.astype(np.int64)
        keep = counts[users] < n_items  # a user who consumed everything has no negative
        if not keep.any():
            raise DataError("every user consumed every item: no negative to train BPR on")
        users, items = users[keep], items[keep]

        self.history_ = []
        best, best_epoch, stale = -np.inf, 0, 0
        best_state: tuple[np.ndarray, np.ndarray] | None = None
        bar = tqdm(range(int(self.epochs)), desc=type(self).__name__, disable=not self.progress)
        for epoch in bar:
            loss = self._epoch(ego, adj, optimizer, X, users, items, rng, n_users)
            ndcg = float("nan")
            last = epoch + 1 == int(self.epochs)
            if valid is not None and ((epoch + 1) % int(self.eval_every) == 0 or last):
                self._store(ego, adj, n_users)
                ndcg = self._valid_ndcg(X, valid)
                if ndcg > best:
                    best, best_epoch, stale = ndcg, epoch + 1, 0
                    best_state = (self.user_embedding_.copy(), self.item_embedding_.copy())
                else:
                    stale += 1
            self.history_.append((epoch + 1, loss, ndcg))
            bar.set_postfix(loss=f"{loss:.4f}", **({} if np.isnan(ndcg) else {"ndcg": ndcg}))
            if stale >= int(self.patience):
                break
        self.epochs_trained_ = len(self.history_)
        if best_state is not None:
            self.user_embedding_, self.item_embedding_ = best_state
            self.best_epoch_ = best_epoch
            self.best_valid_ndcg_ = float(best)
        else:
            self._store(ego, adj, n_users)
            self.best_epoch_, self.best_valid_ndcg_ = None, None

    def _epoch(
        self,
        ego: torch.Tensor,
        adj: torch.Tensor,
        optimizer: torch.optim.Optimizer,
        X: sp.csr_matrix,
        users: np.ndarray,
        items: np.ndarray,
        rng: np.random.Generator,
        n_users: int,
    ) -> float:
        """One pass over the positives in shuffled batches; the mean batch loss."""
        order = rng.permutation(len(users))
        u_all, i_all = users[order], items[order]
        j_all = sample_negatives(X, u_all, rng)
        total, n_batches = 0.0, 0
        size = int(self.batch_size)
        for start in range(0, len(order), size):
            # one gather per tensor: each costs a full-size gradient buffer in backward
            nodes = torch.from_numpy(
                np.concatenate(
                    [
                        u_all[start : start + size],
                        i_all[start : start + size] + n_users,
                        j_all[start : start + size] + n_users,
                    ]
                )
            )
            n = len(nodes) // 3
            rows = self._layer_sum(ego, adj)[nodes] / (int(self.n_layers) + 1)
            e_u, e_i, e_j = rows[:n], rows[n : 2 * n], rows[2 * n :]
            bpr = -torch.nn.functional.logsigmoid((e_u * (e_i - e_j)).sum(dim=1)).mean()
            l2 = ego[nodes].pow(2).sum()
            loss = bpr + float(self.reg_weight) * l2 / (2 * n)
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            total += float(loss.detach())
            n_batches += 1
        if not np.isfinite(total):
            raise TrainingError(f"the BPR loss became {total}; try a lower lr than {self.lr}")
        return total / max(1, n_batches)

    def _layer_sum(self, ego: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """The sum of the ego embeddings and their ``n_layers`` propagations."""
        layer, total = ego, ego
        for _ in range(int(self.n_layers)):
            layer = _Propagate.apply(layer, adj)
            total = total + layer
        return total

    def _propagate(self, ego: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """The layer mean: the final embeddings of every user, then every item."""
        return self._layer_sum(ego, adj) / (int(self.n_layers) + 1)

    def _store(self, ego: torch.Tensor, adj: torch.Tensor, n_users: int) -> None:
        with torch.no_grad():
            final = self._propagate(ego, adj).numpy()
        self.user_embedding_ = np.ascontiguousarray(final[:n_users], dtype=np.float32)
        self.item_embedding_ = np.ascontiguousarray(final[n_users:], dtype=np.float32)

    # ------------------------------------------------------------ validation
    def _valid_matrix(self, shape: tuple[int, int]) -> sp.csr_matrix | None:
        if self.valid_ is None:
            return None
        valid = sp.csr_matrix(self.valid_, dtype=np.float32)
        if valid.shape != shape:
            raise DataError(
                f"valid_ is {valid.shape[0]} x {valid.shape[1]} but the training matrix is "
                f"{shape[0]} x {shape[1]}; use the same split's id space"
            )
        valid.sort_indices()
        return valid

    def _valid_ndcg(self, X: sp.csr_matrix, valid: sp.csr_matrix) -> float:
        """NDCG@10 on ``valid`` with the training items excluded."""
        users = np.flatnonzero(np.diff(valid.indptr))
        if not len(users):
            return float("nan")
        hits = []
        for start in range(0, len(users), 2048):
            batch = users[start : start + 2048]
            scores = self.user_embedding_[batch] @ self.item_embedding_.T
            r, c = X[batch].nonzero()
            scores[r, c] = -np.inf
            hits.append(hit_matrix(top_k(scores, 10), valid, batch))
        n_truth = np.diff(valid.indptr)[users]
        return ranking_metrics(np.concatenate(hits), n_truth, ks=(10,))["ndcg@10"]

    # ----------------------------------------------------------------- score
    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.user_embedding_[users] @ self.item_embedding_.T, np.float32)

    def _state(self) -> dict[str, np.ndarray]:
        return {"user_embedding": self.user_embedding_, "item_embedding": self.item_embedding_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.user_embedding_ = np.asarray(state["user_embedding"], np.float32)
        self.item_embedding_ = np.asarray(state["item_embedding"], np.float32)

    def _extra_config(self) -> dict[str, Any]:
        return {
            "epochs_trained": getattr(self, "epochs_trained_", None),
            "best_epoch": getattr(self, "best_epoch_", None),
            "best_valid_ndcg@10": getattr(self, "best_valid_ndcg_", None),
        }

    def _set_extra_config(self, config: dict[str, Any]) -> None:
        self.epochs_trained_ = config.get("epochs_trained")
        self.best_epoch_ = config.get("best_epoch")
        self.best_valid_ndcg_ = config.get("best_valid_ndcg@10")
