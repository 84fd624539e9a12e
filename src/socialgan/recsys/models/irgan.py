"""IRGAN for item recommendation (Wang et al., SIGIR 2017).

"IRGAN: A Minimax Game for Unifying Generative and Discriminative Information Retrieval
Models". Both players are matrix factorizations with an item bias, ``s(u, i) = u . v_i +
b_i``:

- the **generator** is a policy over items, ``p(i | u) = softmax_i(s_G(u, i))``; it is
  trained by policy gradient (REINFORCE) with the discriminator's reward
  ``2 * (sigmoid(s_D(u, i)) - 0.5)`` (the authors' code; ``reward="softplus"`` gives the
  paper's ``log(1 + exp(s_D))``), with the authors' importance sampling: items are drawn
  from ``(1 - sample_lambda) * p(i | u) + sample_lambda * uniform(user's items)`` and each
  reward is weighted by ``p / p_n``;
- the **discriminator** scores ``(u, i)`` with ``sigmoid(s_D(u, i))`` and is trained with
  binary cross-entropy: the user's real items against as many items sampled from the
  generator at ``temperature`` (0.2 in the authors' code; the policy gradient itself uses
  the plain softmax, as there).

The schedule is the authors': ``epochs`` rounds (15), each of ``d_epochs`` passes of D over
the training pairs (100), with fresh generator negatives every ``resample_every`` passes
(5), then ``g_epochs`` passes of G over the users (50), two samples per training item each.
G starts from a matrix factorization pretrained with BPR and dynamic negative sampling
(the best of ``dns_k`` random non-purchased items is the negative), as the authors start
from their DNS model. Scores at recommend time are the generator's (``scorer``), which the
paper evaluates.

Why this does not run on the engine's :class:`~socialgan.engine.Trainer`: the Trainer
back-propagates D's verdict through G's sample, but IRGAN's samples are discrete item
indices, so G learns by policy gradient instead; D's real and fake examples are
``(user, item)`` pairs rather than one batch of generated vectors, and the two nets follow
different, epoch-based schedules. The loop is therefore written here, and reuses the
engine's pieces: D's loss is the engine's standard GAN discriminator loss
(:func:`~socialgan.engine.get_loss`), G's is the package's REINFORCE helper
(:func:`~socialgan.text.generate.policy_gradient.reinforce_loss`, each sampled item a
one-step episode, with the batch-mean reward as baseline; the authors use none, which the
helper does not offer; a baseline leaves the gradient unbiased).

Batching: the authors update with plain SGD at 0.001 after every example (D: 16 pairs,
G: one user), which is slow in Python. Here updates are mini-batches (``batch_size`` pairs
for D, ``g_batch_size`` users for G) of losses *summed* over the examples (for G: over the
users), so that one SGD step at the authors' learning rate moves the nets about as far as
the authors' run of per-example steps would. ``optimizer="adam"`` is faster to move but
departs from that regime: on LastFM (2 short rounds) Adam at 0.001 pulled the generator
well below its pretrained start. The L2 weights are the authors' effective ones (0.1 per D
example on ``||u||^2/2 + ||v_i||^2/2 + b_i^2/2``, none on G in the game). Pretraining uses
Adam (``pretrain_lr``), which converges in a few epochs.

Example:
    >>> model = IRGAN(epochs=5).fit(split.train)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from socialgan.checks import check_bool, check_choice, check_int, check_number
from socialgan.engine import get_loss
from socialgan.errors import DataError, TrainingError
from socialgan.text.generate.policy_gradient import reinforce_loss

from .base import Recommender

__all__ = ["IRGAN", "MatrixFactorization"]

SCORERS = ("generator", "discriminator")
OPTIMIZERS = ("sgd", "adam")
REWARDS = ("sigmoid", "softplus")
INIT_DELTA = 0.05  # embeddings start uniform in [-0.05, 0.05], as in the authors' code
_CHUNK = 512  # users per softmax when sampling negatives / scoring


class MatrixFactorization(nn.Module):
    """``s(u, i) = u . v_i + b_i`` with user and item embeddings and an item bias."""

    def __init__(self, n_users: int, n_items: int, dim: int) -> None:
        super().__init__()
        self.user = nn.Parameter(torch.empty(n_users, dim).uniform_(-INIT_DELTA, INIT_DELTA))
        self.item = nn.Parameter(torch.empty(n_items, dim).uniform_(-INIT_DELTA, INIT_DELTA))
        self.bias = nn.Parameter(torch.zeros(n_items))

    def all_scores(self, users: Tensor) -> Tensor:
        """``(len(users), n_items)`` scores."""
        return self.user[users] @ self.item.T + self.bias

    def pair_scores(self, users: Tensor, items: Tensor) -> Tensor:
        """Scores of ``(users[k], items[k])`` (broadcast shapes)."""
        return (self.user[users] * self.item[items]).sum(-1) + self.bias[items]

    def l2(self, users: Tensor, items: Tensor) -> Tensor:
        """Per-pair ``(||u||^2 + ||v_i||^2 + b_i^2) / 2`` (TensorFlow's ``l2_loss``)."""
        return 0.5 * (
            self.user[users].pow(2).sum(-1)
            + self.item[items].pow(2).sum(-1)
            + self.bias[items] ** 2
        )


def _optimizer(net: nn.Module, name: str, lr: float) -> torch.optim.Optimizer:
    """Plain SGD (the authors') or Adam, with the fused kernels: the nets are tiny, so the
    per-tensor overhead of the default CPU implementations would dominate."""
    if name == "sgd":
        return torch.optim.SGD(net.parameters(), lr=lr, fused=True)
    return torch.optim.Adam(net.parameters(), lr=lr, fused=True)


class _Game:
    """The nets, optimizers, data and random stream of one IRGAN fit; one method per update."""

    def __init__(self, model: IRGAN, X: sp.csr_matrix) -> None:
        self.m = model
        self.X = X.tocsr()
        n_users, n_items = self.X.shape
        self.n_items = n_items
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(model.seed)
            self.gen = MatrixFactorization(n_users, n_items, model.emb_dim)
            self.dis = MatrixFactorization(n_users, n_items, model.emb_dim)
        self.rng = torch.Generator().manual_seed(model.seed)
        coo = self.X.tocoo()
        order = np.lexsort((coo.col, coo.row))  # row-major, as the CSR is
        self.users = torch.from_numpy(coo.row[order].astype(np.int64))
        self.items = torch.from_numpy(coo.col[order].astype(np.int64))
        self.keys = torch.sort(self.users * n_items + self.items).values
        self.counts = torch.from_numpy(np.diff(self.X.indptr).astype(np.int64))
        self.active = torch.nonzero(self.counts > 0).squeeze(1)
        self.negatives = self.items.clone()  # D's fake items, one per training pair
        self.opt_g = _optimizer(self.gen, model.optimizer, model.lr_g)
        self.opt_d = _optimizer(self.dis, model.optimizer, model.lr_d)
        self.d_loss = get_loss("minimax").d_loss  # BCE: real pairs 1, generated pairs 0

    def purchased(self, users: Tensor, items: Tensor) -> Tensor:
        """Whether each ``(users, items)`` pair is a training interaction (broadcast)."""
        key = users * self.n_items + items
        at = torch.searchsorted(self.keys, key).clamp(max=len(self.keys) - 1)
        return self.keys[at] == key

    def _batches(self, n: int, size: int) -> list[Tensor]:
        perm = torch.randperm(n, generator=self.rng)
        return list(perm.split(size))

    # ---------------------------------------------------------------- pretraining
    def pretrain_step(self, idx: Tensor, opt: torch.optim.Optimizer) -> float:
        """One BPR update of G with dynamic negative sampling on training pairs ``idx``."""
        u, i = self.users[idx], self.items[idx]
        cand = torch.randint(0, self.n_items, (len(idx), self.m.dns_k), generator=self.rng)
        seen = self.purchased(u[:, None], cand)
        with torch.no_grad():
            s = self.gen.pair_scores(u[:, None], cand).masked_fill(seen, -torch.inf)
        j = cand.gather(1, s.argmax(1, keepdim=True)).squeeze(1)
        keep = ~seen.all(1)  # every candidate purchased: no negative for this pair
        if not bool(keep.any()):
            return 0.0
        u, i, j = u[keep], i[keep], j[keep]
        diff = self.gen.pair_scores(u, i) - self.gen.pair_scores(u, j)
        reg = self.gen.l2(u, i) + 0.5 * (self.gen.item[j].pow(2).sum(-1) + self.gen.bias[j] ** 2)
        loss = -F.logsigmoid(diff).mean() + self.m.reg_d * reg.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss.detach())

    def pretrain(self) -> None:
        if not self.m.pretrain_epochs:
            return
        opt = _optimizer(self.gen, "adam", self.m.pretrain_lr)
        for _ in range(self.m.pretrain_epochs):
            for idx in self._batches(len(self.users), self.m.batch_size):
                self.pretrain_step(idx, opt)

    # ---------------------------------------------------------------------- D
    @torch.no_grad()
    def sample_negatives(self) -> None:
        """One item per training pair from the generator at the D temperature."""
        out = []
        for chunk in torch.arange(self.X.shape[0]).split(_CHUNK):
            counts = self.counts[chunk]
            most = int(counts.max()) if len(counts) else 0
            if most == 0:
                continue
            logits = self.gen.all_scores(chunk) / self.m.temperature
            probs = torch.softmax(logits, 1)
            draws = torch.multinomial(probs, most, replacement=True, generator=self.rng)
            out.append(draws[torch.arange(most)[None, :] < counts[:, None]])
        self.negatives = torch.cat(out) if out else self.items.clone()

    def d_step(self, idx: Tensor) -> float:
        """One D update on training pairs ``idx`` and their generated negatives; returns
        the loss per pair.

        The loss is summed over the pairs (the engine's loss is a mean, times the count),
        so that one SGD step moves D as far as the authors' one step per example would.
        """
        u, pos, neg = self.users[idx], self.items[idx], self.negatives[idx]
        real = self.dis.pair_scores(u, pos)
        fake = self.dis.pair_scores(u, neg)
        reg = self.dis.l2(u, pos).sum() + self.dis.l2(u, neg).sum()
        loss = self.d_loss(real, fake) * len(idx) + self.m.reg_d * reg
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        return float(loss.detach()) / len(idx)  # per pair, for the log

    # ---------------------------------------------------------------------- G
    def reward(self, users: Tensor, items: Tensor) -> Tensor:
        with torch.no_grad():
            s = self.dis.pair_scores(users, items)
        return 2.0 * (torch.sigmoid(s) - 0.5) if self.m.reward == "sigmoid" else F.softplus(s)

    def g_step(self, users: Tensor) -> float:
        """One policy-gradient update of G on ``users`` (each with training items); returns
        the loss per sampled item.

        The loss is the mean over the sampled items times the number of users, so that one
        SGD step moves G about as far as the authors' one step per user would.
        """
        lam = self.m.sample_lambda
        counts = self.counts[users]
        logp_all = torch.log_softmax(self.gen.all_scores(users), 1)
        with torch.no_grad():
            prob = logp_all.exp()
            own = torch.from_numpy(self.X[users.numpy()].toarray())
            pn = (1.0 - lam) * prob + lam * own / counts[:, None].clamp(min=1)
            n_draw = 2 * int(counts.max())
            sample = torch.multinomial(pn, n_draw, replacement=True, generator=self.rng)
            mask = torch.arange(n_draw)[None, :] < 2 * counts[:, None]
            weight = prob.gather(1, sample) / pn.gather(1, sample)
            reward = self.reward(users[:, None].expand_as(sample), sample) * weight
        logp = logp_all.gather(1, sample)[mask]
        ones = torch.ones_like(logp[:, None])
        loss, _ = reinforce_loss(logp[:, None], ones, reward[mask], normalize=False)
        if self.m.reg_g > 0:
            pairs = self.gen.l2(users[:, None].expand_as(sample), sample)[mask]
            loss = loss + self.m.reg_g * pairs.mean()
        self.opt_g.zero_grad(set_to_none=True)
        (loss * len(users)).backward()
        self.opt_g.step()
        return float(loss.detach())  # per sampled item, for the log

    # ----------------------------------------------------------------- the loop
    def fit(self) -> list[dict[str, float]]:
        m = self.m
        history: list[dict[str, float]] = []
        self.pretrain()
        for epoch in range(m.epochs):
            d_losses = []
            for d_epoch in range(m.d_epochs):
                if d_epoch % m.resample_every == 0:
                    self.sample_negatives()
                for idx in self._batches(len(self.users), m.batch_size):
                    d_losses.append(self.d_step(idx))
            g_losses = []
            for _ in range(m.g_epochs):
                order = self.active[torch.randperm(len(self.active), generator=self.rng)]
                for users in order.split(m.g_batch_size):
                    g_losses.append(self.g_step(users))
            row = {
                "epoch": float(epoch + 1),
                "loss_d": float(np.mean(d_losses)) if d_losses else float("nan"),
                "loss_g": float(np.mean(g_losses)) if g_losses else float("nan"),
            }
            weights = (*self.gen.parameters(), *self.dis.parameters())
            if not all(bool(torch.isfinite(p).all()) for p in weights):
                raise TrainingError(
                    f"IRGAN: non-finite weights after round {epoch + 1} (loss_d "
                    f"{row['loss_d']}, loss_g {row['loss_g']}); try a lower lr_g / lr_d"
                )
            history.append(row)
            if m.progress:
                print(
                    f"IRGAN epoch {epoch + 1}/{m.epochs}: loss_d {row['loss_d']:.4f} "
                    f"loss_g {row['loss_g']:.4f}",
                    flush=True,
                )
        return history


class IRGAN(Recommender):
    """IRGAN item recommendation with the authors' ML-100K settings (see the module docstring).

    Args:
        emb_dim: embedding size of both nets (5, the paper's ML-100K setting).
        epochs: rounds of the game (15).
        d_epochs: D passes over the training pairs per round (100).
        g_epochs: G passes over the users per round (50).
        resample_every: D passes between fresh generator negatives (5).
        batch_size: training pairs per D (and pretraining) update (256).
        g_batch_size: users per G update (64).
        lr_g, lr_d: learning rates of G and D in the game (0.001 each, the authors').
        optimizer: ``sgd`` (the authors', on losses summed so that a batch step matches
            their per-example steps) or ``adam``.
        reg_d: L2 weight of D (and of G's pretraining) per example (0.1).
        reg_g: L2 weight of G in the game (0.0, as the authors).
        temperature: softmax temperature of the generator's negatives for D (0.2).
        sample_lambda: importance-sampling mix towards the user's own items (0.2; 0 samples
            from the policy alone).
        reward: ``sigmoid`` (``2 * (sigmoid(s) - 0.5)``, authors' code) or ``softplus``
            (``log(1 + exp(s))``, the paper).
        pretrain_epochs: BPR-DNS epochs of G before the game (30; 0 starts from random).
        pretrain_lr: Adam learning rate of the pretraining (0.01).
        dns_k: candidates per pair of dynamic negative sampling (5, the authors' DNS_K).
        scorer: the net that scores at recommend time, ``generator`` (the paper's) or
            ``discriminator``.
        seed: seeds weights and every sample (0).
        progress: print one line per round.
    """

    model_type: ClassVar[str] = "socialgan.recsys.IRGAN"
    description: ClassVar[str] = (
        "IRGAN (Wang et al., SIGIR 2017): a matrix-factorization generator, a softmax policy "
        "over items trained by policy gradient, plays against a matrix-factorization "
        "discriminator of (user, item) pairs. Scores are the generator's."
    )
    #: The grid tuned on validation.
    search_space: ClassVar[dict[str, list[Any]]] = {
        "emb_dim": [5, 16, 64],
        "epochs": [5, 15, 30],
        "lr_g": [1e-3, 1e-2],
        "lr_d": [1e-3, 1e-2],
        "temperature": [0.2, 0.5, 1.0],
        "reg_d": [0.01, 0.1],
    }

    generator_: MatrixFactorization | None = None
    discriminator_: MatrixFactorization | None = None
    #: Logged losses of the last fit (one row per log interval / round).
    history_: list[dict[str, float]]

    def __init__(
        self,
        emb_dim: int = 5,
        epochs: int = 15,
        d_epochs: int = 100,
        g_epochs: int = 50,
        resample_every: int = 5,
        batch_size: int = 256,
        g_batch_size: int = 64,
        lr_g: float = 1e-3,
        lr_d: float = 1e-3,
        optimizer: str = "sgd",
        reg_d: float = 0.1,
        reg_g: float = 0.0,
        temperature: float = 0.2,
        sample_lambda: float = 0.2,
        reward: str = "sigmoid",
        pretrain_epochs: int = 30,
        pretrain_lr: float = 0.01,
        dns_k: int = 5,
        scorer: str = "generator",
        seed: int = 0,
        progress: bool = False,
    ) -> None:
        self.emb_dim = emb_dim
        self.epochs = epochs
        self.d_epochs = d_epochs
        self.g_epochs = g_epochs
        self.resample_every = resample_every
        self.batch_size = batch_size
        self.g_batch_size = g_batch_size
        self.lr_g = lr_g
        self.lr_d = lr_d
        self.optimizer = optimizer
        self.reg_d = reg_d
        self.reg_g = reg_g
        self.temperature = temperature
        self.sample_lambda = sample_lambda
        self.reward = reward
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.dns_k = dns_k
        self.scorer = scorer
        self.seed = seed
        self.progress = progress
        self._validate()

    def _validate(self) -> None:
        """Check every hyperparameter (a bad one is a :class:`DataError` naming it)."""
        self.emb_dim = check_int("emb_dim", self.emb_dim, minimum=1)
        self.epochs = check_int("epochs", self.epochs, minimum=0)
        self.d_epochs = check_int("d_epochs", self.d_epochs, minimum=0)
        self.g_epochs = check_int("g_epochs", self.g_epochs, minimum=0)
        self.resample_every = check_int("resample_every", self.resample_every, minimum=1)
        self.batch_size = check_int("batch_size", self.batch_size, minimum=1)
        self.g_batch_size = check_int("g_batch_size", self.g_batch_size, minimum=1)
        self.lr_g = check_number("lr_g", self.lr_g, minimum=0, open_min=True)
        self.lr_d = check_number("lr_d", self.lr_d, minimum=0, open_min=True)
        self.optimizer = check_choice("optimizer", self.optimizer, OPTIMIZERS)
        self.reg_d = check_number("reg_d", self.reg_d, minimum=0)
        self.reg_g = check_number("reg_g", self.reg_g, minimum=0)
        self.temperature = check_number("temperature", self.temperature, minimum=0, open_min=True)
        self.sample_lambda = check_number(
            "sample_lambda", self.sample_lambda, minimum=0, maximum=1, open_max=True
        )
        self.reward = check_choice("reward", self.reward, REWARDS)
        self.pretrain_epochs = check_int("pretrain_epochs", self.pretrain_epochs, minimum=0)
        self.pretrain_lr = check_number("pretrain_lr", self.pretrain_lr, minimum=0, open_min=True)
        self.dns_k = check_int("dns_k", self.dns_k, minimum=1)
        self.scorer = check_choice("scorer", self.scorer, SCORERS)
        self.seed = check_int("seed", self.seed, minimum=0)
        self.progress = check_bool("progress", self.progress)

    def _build_game(self, X: sp.csr_matrix) -> _Game:
        """The untrained game on ``X`` (users x items)."""
        self._validate()
        return _Game(self, X)

    def _fit(self, X: sp.csr_matrix, social: sp.csr_matrix | None) -> None:
        del social
        game = self._build_game(X)
        self.history_ = game.fit()
        self.generator_ = game.gen.eval()
        self.discriminator_ = game.dis.eval()

    @torch.no_grad()
    def _score(self, users: np.ndarray) -> np.ndarray:
        net = self.generator_ if self.scorer == "generator" else self.discriminator_
        if net is None:
            raise RuntimeError("IRGAN has no weights; call fit() or from_pretrained() first")
        idx = torch.from_numpy(np.asarray(users, dtype=np.int64))
        parts = [net.all_scores(chunk).numpy() for chunk in idx.split(_CHUNK)]
        if not parts:
            return np.zeros((0, self.n_items), np.float32)
        return np.concatenate(parts).astype(np.float32, copy=False)

    # -------------------------------------------------------------- persistence
    def _state(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for name, net in (("generator", self.generator_), ("discriminator", self.discriminator_)):
            if net is not None:
                for key, value in net.state_dict().items():
                    out[f"{name}.{key}"] = value.detach().cpu().numpy()
        return out

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self._validate()
        for name in ("generator", "discriminator"):
            weights = {
                k[len(name) + 1 :]: torch.from_numpy(v)
                for k, v in state.items()
                if k.startswith(name + ".")
            }
            if set(weights) != {"user", "item", "bias"}:
                raise DataError(f"the saved IRGAN has no complete {name} (user, item, bias)")
            shape = (self.n_users, self.n_items, self.emb_dim)
            with torch.random.fork_rng(devices=[]):  # the initial values are overwritten
                net = MatrixFactorization(*shape)
            if tuple(weights["user"].shape) != (shape[0], shape[2]) or tuple(
                weights["item"].shape
            ) != (shape[1], shape[2]):
                raise DataError(
                    f"the saved IRGAN {name} has shapes {tuple(weights['user'].shape)} and "
                    f"{tuple(weights['item'].shape)}; the config needs {shape[0]} users and "
                    f"{shape[1]} items of {shape[2]} dimensions"
                )
            net.load_state_dict(weights)
            setattr(self, f"{name}_", net.eval())
