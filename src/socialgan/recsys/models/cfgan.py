"""CFGAN (Chae et al., CIKM 2018): a vector-wise conditional GAN for top-N recommendation.

"CFGAN: A Generic Collaborative Filtering Framework based on Generative Adversarial
Networks". The generator G maps a user's purchase vector ``c_u`` (the condition; no noise,
as in the authors' code) to a real-valued vector over all items; the discriminator D gets
``[c_u, vector]`` and says whether the vector is the user's real purchase vector. Item
scores at recommend time are ``G(c_u)``. Two devices keep G from the trivial answer "every
item is purchased" (``scheme``):

- **ZR**, zero reconstruction: ``alpha * sum_j G(c_u)_j^2`` over negative items ``j`` sampled
  from the user's non-purchased items (a share ``zr_ratio`` of them) is added to G's loss,
  pulling those outputs towards 0;
- **PM**, partial masking: before D sees it, G's output is multiplied by ``e_u + k_u`` (the
  purchases plus a share ``pm_ratio`` of sampled non-purchased items), so G is judged on
  some negative items too and cannot put 1 everywhere;
- **ZP**: both, with two independent negative samples (the paper's best scheme).

``mode="item"`` runs the same game on item vectors (each item's vector of users), as the
authors' published ML-100K setting does; scores are then G's outputs transposed.

The game runs on the engine's :class:`~socialgan.engine.Trainer` with the engine's
``non_saturating`` loss (the authors' sigmoid cross-entropy with label 1 for G): a batch
source yields real purchase vectors, and the condition and the two masks travel as the
label tensor ``y = [c_u, e_u + k_u, ZR mask]``; D applies the PM mask itself (real vectors
are unchanged by it, as they are zero outside ``e_u``), and ZR plus G's L2 penalty are the
trainer's ``g_regularizer``. What does not fit the engine, and is done the minimal way:

- The engine's step is ``n_critic`` D updates then one G update. The authors' ML-100K
  schedule updates G more often than D (per round: 2 D passes at batch 64, 4 G passes at
  batch 32), so ``g_steps - 1`` extra G updates run from the trainer's ``on_step`` hook.
  With the engine's single batch size (32) for both nets, ``g_steps=2`` keeps the authors'
  ratio of vectors seen by G and by D (2:1).
- The engine has no L2 penalty for D; the authors' ML-100K setting has ``reg_D = 0``, so
  there is none here either.
- Negative items are drawn afresh for every batch (Bernoulli with the ratio among the
  non-purchased items), where the authors draw an exact count once per epoch; the expected
  masks are the same.
- No EMA of G (``ema_decay=0``): the authors use the live generator.

Default hyperparameters are the authors' published ML-100K ones (``parameters.py`` of the
code released with the paper: hidden 400 for G and 125 for D, one hidden layer each with
sigmoid activations and a linear output, Adam at 1e-4 with TensorFlow's default betas,
``reg_G = 0.001``, ZP with 70 % of the non-purchased items for both ZR and PM, ZR
coefficient 0.03, 750 to 1000 epochs); there ``mode`` is item based, here the user-based
formulation of the paper is the default. The authors note that the number of epochs is
"quite sensitive". The replication study of Pérez Maurera et al. (2022) finds that CFGAN
is not consistently competitive with tuned simple baselines.

Example:
    >>> model = CFGAN(epochs=300).fit(split.train)  # doctest: +SKIP
    >>> items, scores = model.recommend(["2"], k=10)  # doctest: +SKIP
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor, nn

from socialgan.checks import check_bool, check_choice, check_int, check_number, check_str
from socialgan.engine import TrainConfig, Trainer
from socialgan.errors import DataError

from .base import Recommender

__all__ = ["CFGAN", "CFGANDiscriminator", "CFGANGenerator", "PurchaseBatches"]

SCHEMES = ("zr", "pm", "zp")
MODES = ("user", "item")
ACTIVATIONS: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
OUTPUTS = ("linear", "sigmoid")
_SCORE_CHUNK = 1024  # vectors per generator call at score time


def _seed_of(*parts: int) -> int:
    """A 63-bit seed mixed from integers (no collisions between ``(seed, i)`` pairs)."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, np.uint64)[0]) >> 1


def _init_linear(layer: nn.Linear) -> None:
    """Glorot-uniform weights and small uniform biases, as the authors' layers start."""
    nn.init.xavier_uniform_(layer.weight)
    nn.init.uniform_(layer.bias, -0.01, 0.01)


def _mlp(d_in: int, hidden: int, layers: int, d_out: int, activation: str) -> nn.Sequential:
    mods: list[nn.Module] = []
    width = d_in
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), ACTIVATIONS[activation]()]
        width = hidden
    mods.append(nn.Linear(width, d_out))
    for m in mods:
        if isinstance(m, nn.Linear):
            _init_linear(m)
    return nn.Sequential(*mods)


class CFGANGenerator(nn.Module):
    """G: purchase vector ``c`` (the condition) -> real-valued vector over the same items.

    ``forward(z, y)`` ignores the noise ``z`` (CFGAN uses none; ``z_dim`` is 1 only because
    the engine draws latents) and reads the condition from the first ``dim`` columns of
    ``y``.
    """

    def __init__(
        self,
        dim: int,
        hidden: int,
        layers: int,
        activation: str = "sigmoid",
        output: str = "linear",
    ) -> None:
        super().__init__()
        self.dim = dim
        self.z_dim = 1
        self.num_classes = dim  # truthy: the engine then asks the batch source for conditions
        self.net = _mlp(dim, hidden, layers, dim, activation)
        if output == "sigmoid":
            self.net.append(nn.Sigmoid())

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        del z
        return self.vectors(y[:, : self.dim])

    def vectors(self, condition: Tensor) -> Tensor:
        """G's output for purchase vectors ``condition`` ``(n, dim)``."""
        return self.net(condition)


class CFGANDiscriminator(nn.Module):
    """D: logit that ``x`` is the real purchase vector of the user whose condition is in ``y``.

    ``y = [c, m, zr]`` (each ``dim`` wide): D sees ``[c, x * m]``, the partial masking of
    CFGAN (``m = e_u + k_u``; a real vector is zero outside ``e_u``, so it passes unchanged).
    """

    def __init__(self, dim: int, hidden: int, layers: int, activation: str = "sigmoid") -> None:
        super().__init__()
        self.dim = dim
        self.net = _mlp(2 * dim, hidden, layers, 1, activation)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        d = self.dim
        return self.net(torch.cat([y[:, :d], x * y[:, d : 2 * d]], 1)).squeeze(1)


class PurchaseBatches:
    """The engine's batch source for CFGAN: purchase vectors and ``y = [c, e + k, ZR mask]``.

    Batch ``i`` takes rows ``i % batches_per_epoch`` of a permutation made from
    ``(seed, epoch)`` and draws its negative items from ``(seed, i)``, so it is a pure
    function of ``i`` (the engine's contract: a resumed run sees the same batches).
    Negatives are each non-purchased item with probability ``pm_ratio`` (PM, the ``k_u`` of
    the paper) and, independently, ``zr_ratio`` (ZR); a ratio of 0 switches that scheme off.
    :meth:`sample_labels` gives the generator's own steps conditions of random rows, drawn
    from the engine's checkpointed generator.
    """

    def __init__(
        self,
        matrix: sp.csr_matrix,
        *,
        batch_size: int,
        seed: int,
        zr_ratio: float,
        pm_ratio: float,
        device: torch.device | str = "cpu",
    ) -> None:
        self.matrix = sp.csr_matrix(matrix, dtype=np.float32)
        self.n_rows, self.dim = self.matrix.shape
        if self.n_rows < 1:
            raise DataError("CFGAN needs at least one purchase vector")
        self.batch_size = min(int(batch_size), self.n_rows)
        self.batches_per_epoch = self.n_rows // self.batch_size
        self.seed = int(seed)
        self.zr_ratio, self.pm_ratio = float(zr_ratio), float(pm_ratio)
        self.device = torch.device(device)
        self._epoch = -1
        self._perm = np.arange(self.n_rows)

    def __len__(self) -> int:
        return self.batches_per_epoch

    def vectors(self, rows: np.ndarray) -> Tensor:
        """Dense purchase vectors of ``rows`` (float32)."""
        dense = self.matrix[rows].toarray()
        return torch.from_numpy(dense).to(self.device)

    def labels(self, c: Tensor, u: Tensor) -> Tensor:
        """``y`` for purchase vectors ``c`` from uniform draws ``u`` ``(2, n, dim)``."""
        free = c == 0
        pm = c + ((u[0] < self.pm_ratio) & free).to(c.dtype)
        zr = ((u[1] < self.zr_ratio) & free).to(c.dtype)
        return torch.cat([c, pm, zr], 1)

    def batch(self, index: int) -> tuple[Tensor, Tensor]:
        epoch, pos = divmod(int(index), self.batches_per_epoch)
        if epoch != self._epoch:
            self._perm = np.random.default_rng(_seed_of(self.seed, 0, epoch)).permutation(
                self.n_rows
            )
            self._epoch = epoch
        rows = self._perm[pos * self.batch_size : (pos + 1) * self.batch_size]
        c = self.vectors(rows)
        g = torch.Generator(device=self.device).manual_seed(_seed_of(self.seed, 1, index))
        u = torch.rand((2, len(rows), self.dim), generator=g, device=self.device)
        return c, self.labels(c, u)

    def sample_labels(self, n: int, generator: torch.Generator) -> Tensor:
        rows = torch.randint(0, self.n_rows, (n,), generator=generator, device=generator.device)
        c = self.vectors(rows.cpu().numpy())
        u = torch.rand((2, n, self.dim), generator=generator, device=generator.device)
        return self.labels(c, u.to(self.device))


class CFGAN(Recommender):
    """CFGAN with the authors' ML-100K settings (see the module docstring).

    Args:
        scheme: ``"zp"`` (ZR and PM, default), ``"zr"`` or ``"pm"``.
        mode: ``"user"`` (G generates user vectors over items) or ``"item"`` (item vectors
            over users, the authors' published ML-100K choice).
        epochs: passes of G over the vectors (1000); the game runs
            ``ceil(epochs * rows / (batch_size * g_steps))`` engine steps.
        batch_size: vectors per D and per G update (32).
        g_steps: G updates per D update (2; see the module docstring).
        hidden_g, hidden_d: hidden widths of G (400) and D (125).
        layers_g, layers_d: hidden layers of G and D (1 each).
        activation: hidden activation, ``sigmoid`` (authors), ``tanh`` or ``relu``.
        g_output: G's output layer, ``linear`` (authors' code) or ``sigmoid``.
        lr_g, lr_d: Adam learning rates (1e-4 each; betas 0.9, 0.999).
        alpha: ZR coefficient (0.03).
        zr_ratio, pm_ratio: share of a user's non-purchased items sampled for ZR and for
            PM (0.7 each).
        reg_g: L2 weight on G's parameters, ``reg_g * sum(w^2) / 2`` (0.001).
        seed: seeds the weights, the batches and the negative samples (0): same seed, same
            model.
        progress: show the engine's progress lines.
        device: where to train (``cpu``); scoring runs on the CPU.
    """

    model_type: ClassVar[str] = "socialgan.recsys.CFGAN"
    description: ClassVar[str] = (
        "CFGAN (Chae et al., CIKM 2018): a conditional GAN whose generator produces a user's "
        "whole purchase vector from the user's training vector, with zero-reconstruction and "
        "partial-masking negative sampling. Scores are the generator's outputs."
    )
    #: The grid tuned on validation.
    search_space: ClassVar[dict[str, list[Any]]] = {
        "mode": ["user", "item"],
        "epochs": [100, 300, 1000],
        "alpha": [0.01, 0.03, 0.1],
        "zr_ratio": [0.3, 0.7, 0.9],
        "pm_ratio": [0.3, 0.7, 0.9],
        "hidden_g": [200, 400],
    }

    generator_: CFGANGenerator | None = None
    #: Logged losses of the last fit (one row per log interval / round).
    history_: list[dict[str, float]]

    def __init__(
        self,
        scheme: str = "zp",
        mode: str = "user",
        epochs: int = 1000,
        batch_size: int = 32,
        g_steps: int = 2,
        hidden_g: int = 400,
        hidden_d: int = 125,
        layers_g: int = 1,
        layers_d: int = 1,
        activation: str = "sigmoid",
        g_output: str = "linear",
        lr_g: float = 1e-4,
        lr_d: float = 1e-4,
        alpha: float = 0.03,
        zr_ratio: float = 0.7,
        pm_ratio: float = 0.7,
        reg_g: float = 1e-3,
        seed: int = 0,
        progress: bool = False,
        device: str = "cpu",
    ) -> None:
        self.scheme = scheme
        self.mode = mode
        self.epochs = epochs
        self.batch_size = batch_size
        self.g_steps = g_steps
        self.hidden_g = hidden_g
        self.hidden_d = hidden_d
        self.layers_g = layers_g
        self.layers_d = layers_d
        self.activation = activation
        self.g_output = g_output
        self.lr_g = lr_g
        self.lr_d = lr_d
        self.alpha = alpha
        self.zr_ratio = zr_ratio
        self.pm_ratio = pm_ratio
        self.reg_g = reg_g
        self.seed = seed
        self.progress = progress
        self.device = device
        self._validate()
        self._full_scores: np.ndarray | None = None

    def _validate(self) -> None:
        """Check every hyperparameter (a bad one is a :class:`DataError` naming it)."""
        self.scheme = check_choice("scheme", str(self.scheme).lower(), SCHEMES)
        self.mode = check_choice("mode", str(self.mode).lower(), MODES)
        self.epochs = check_int("epochs", self.epochs, minimum=1)
        self.batch_size = check_int("batch_size", self.batch_size, minimum=1)
        self.g_steps = check_int("g_steps", self.g_steps, minimum=1)
        self.hidden_g = check_int("hidden_g", self.hidden_g, minimum=1)
        self.hidden_d = check_int("hidden_d", self.hidden_d, minimum=1)
        self.layers_g = check_int("layers_g", self.layers_g, minimum=1)
        self.layers_d = check_int("layers_d", self.layers_d, minimum=1)
        self.activation = check_choice("activation", self.activation, ACTIVATIONS)
        self.g_output = check_choice("g_output", self.g_output, OUTPUTS)
        self.lr_g = check_number("lr_g", self.lr_g, minimum=0, open_min=True)
        self.lr_d = check_number("lr_d", self.lr_d, minimum=0, open_min=True)
        self.alpha = check_number("alpha", self.alpha, minimum=0)
        self.zr_ratio = check_number("zr_ratio", self.zr_ratio, minimum=0, maximum=1)
        self.pm_ratio = check_number("pm_ratio", self.pm_ratio, minimum=0, maximum=1)
        self.reg_g = check_number("reg_g", self.reg_g, minimum=0)
        self.seed = check_int("seed", self.seed, minimum=0)
        self.progress = check_bool("progress", self.progress)
        self.device = check_str("device", self.device, empty=False)

    # ------------------------------------------------------------------ the game
    def _vectors_matrix(self, X: sp.csr_matrix) -> sp.csr_matrix:
        """The rows G generates: users x items, or items x users in item mode."""
        return X.tocsr() if self.mode == "user" else X.T.tocsr()

    def _build_trainer(self, X: sp.csr_matrix) -> Trainer:
        """The engine trainer of the game on ``X`` (users x items), untrained."""
        self._validate()
        rows = self._vectors_matrix(X)
        n_rows, dim = rows.shape
        use_zr = self.scheme in ("zr", "zp")
        use_pm = self.scheme in ("pm", "zp")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            G = CFGANGenerator(dim, self.hidden_g, self.layers_g, self.activation, self.g_output)
            D = CFGANDiscriminator(dim, self.hidden_d, self.layers_d, self.activation)
        data = PurchaseBatches(
            rows,
            batch_size=self.batch_size,
            seed=self.seed,
            zr_ratio=self.zr_ratio if use_zr else 0.0,
            pm_ratio=self.pm_ratio if use_pm else 0.0,
        )
        steps = max(1, math.ceil(self.epochs * n_rows / (data.batch_size * self.g_steps)))
        config = TrainConfig(
            loss="non_saturating",
            steps=steps,
            batch_size=data.batch_size,
            n_critic=1,
            lr_g=self.lr_g,
            lr_d=self.lr_d,
            betas_g=(0.9, 0.999),
            betas_d=(0.9, 0.999),
            ema_decay=0.0,
            ema_warmup=False,
            device=self.device,
            seed=self.seed,
            log_every=max(1, min(200, steps)),
            snapshot_every=200,
            tensorboard=False,
        )
        g_params = list(G.parameters())
        alpha, reg_g = self.alpha, self.reg_g

        def regularizer(fake: Tensor, y: Tensor | None) -> Tensor:
            """ZR (``alpha`` x squared outputs on the sampled negatives) + L2 on G."""
            out = fake.new_zeros(())
            if use_zr and alpha > 0 and y is not None:
                out = out + alpha * (fake.pow(2) * y[:, 2 * dim :]).sum(1).mean()
            if reg_g > 0:
                out = out + reg_g * 0.5 * sum(p.pow(2).sum() for p in g_params)
            return out

        extra = self.g_steps - 1

        def more_g_steps(trainer: Trainer) -> None:
            """CFGAN's schedule: ``g_steps - 1`` G updates besides the engine's one."""
            for _ in range(extra):
                trainer.g_step()

        return Trainer(
            G,
            D,
            data,
            config,
            progress=None if self.progress else False,
            g_regularizer=regularizer,
            on_step=more_g_steps if extra else None,
        )

    def _fit(self, X: sp.csr_matrix, social: sp.csr_matrix | None) -> None:
        del social
        trainer = self._build_trainer(X)
        trainer.fit()
        G = trainer.G
        assert isinstance(G, CFGANGenerator)
        self.generator_ = G.cpu().eval()
        self.history_ = trainer.history
        self._full_scores = None

    # ------------------------------------------------------------------ scoring
    @torch.no_grad()
    def _generate(self, rows: sp.csr_matrix) -> np.ndarray:
        G = self.generator_
        if G is None:
            raise RuntimeError("CFGAN has no generator; call fit() or from_pretrained() first")
        parts = []
        for start in range(0, rows.shape[0], _SCORE_CHUNK):
            c = torch.from_numpy(rows[start : start + _SCORE_CHUNK].toarray())
            parts.append(G.vectors(c).numpy())
        if not parts:
            return np.zeros((0, rows.shape[1]), np.float32)
        return np.concatenate(parts).astype(np.float32, copy=False)

    def _score(self, users: np.ndarray) -> np.ndarray:
        if self.mode == "user":
            return self._generate(self.train_[users])
        if self._full_scores is None:  # item mode: every item vector, transposed, once
            self._full_scores = np.ascontiguousarray(self._generate(self.train_.T.tocsr()).T)
        return self._full_scores[users]

    # -------------------------------------------------------------- persistence
    def _state(self) -> dict[str, np.ndarray]:
        if self.generator_ is None:
            return {}
        return {
            f"generator.{k}": v.detach().cpu().numpy()
            for k, v in self.generator_.state_dict().items()
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self._validate()
        prefix = "generator."
        weights = {
            k[len(prefix) :]: torch.from_numpy(v) for k, v in state.items() if k.startswith(prefix)
        }
        first = weights.get("net.0.weight")
        if first is None or first.dim() != 2:
            raise DataError("the saved CFGAN has no generator weights (generator.net.0.weight)")
        dim = int(first.shape[1])
        expected = self.n_items if self.mode == "user" else self.n_users
        if dim != expected:
            raise DataError(
                f"the saved CFGAN generator takes vectors of {dim} but {self.mode} mode on this "
                f"training matrix needs {expected}"
            )
        G = CFGANGenerator(dim, self.hidden_g, self.layers_g, self.activation, self.g_output)
        try:
            G.load_state_dict(weights)
        except RuntimeError as error:
            raise DataError(f"the saved CFGAN weights do not fit its config: {error}") from None
        self.generator_ = G.eval()
        self._full_scores = None
