"""``TabularGAN``: a CTGAN-class synthesizer of mixed-type tables, trained by the engine.

The pieces (Xu et al. 2019, "Modeling Tabular Data using Conditional GAN"), each its own
module: the data transformer (:mod:`~socialgan.tabular.transformer`: mode-specific
normalization of continuous columns, one-hot categories), training-by-sampling with a
conditional vector (:mod:`~socialgan.tabular.sampler`), a residual generator with
Gumbel-softmax outputs and a PacGAN critic (:mod:`~socialgan.tabular.nets`). The game is
the engine's WGAN-GP (:class:`~socialgan.engine.Trainer`: ``n_critic``, EMA, NaN rollback,
atomic checkpoints, exact resume, run folder), with CTGAN's condition loss as the
generator's regularizer.

Sampling with ``conditions={"bot": 1}`` is exact: the generator is asked for that category
through its conditional vector, and the column is then set to it, so every row honours the
condition (no rejection sampling, which fails for rare categories).

Free-text and identifier columns (``description``, ``screen_name``...) are left out of the
model with a warning (see :class:`~socialgan.tabular.metadata.TableMetadata`): sampled
tables have the modeled columns only.

Example:
    >>> from socialgan.tabular import TabularGAN, load_table
    >>> gan = TabularGAN(epochs=300).fit(load_table("adult"))  # doctest: +SKIP
    >>> bots = gan.sample(1000, seed=0, conditions={"bot": 1})  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from socialgan.checks import check_int, check_number
from socialgan.engine import TrainConfig, Trainer, seed_everything
from socialgan.engine.checkpoint import (
    atomic_write_json,
    check_resumable,
    latest_checkpoint,
)
from socialgan.engine.config import TRAIN_OPTIONS
from socialgan.engine.plots import plot_losses
from socialgan.engine.utils import select_device
from socialgan.errors import DataError
from socialgan.loading import CONFIG_FILE
from socialgan.tabular.metadata import TableMetadata
from socialgan.tabular.nets import PacCritic, TabularGenerator, condition_loss
from socialgan.tabular.sampler import ConditionalBatches, condition_probabilities
from socialgan.tabular.transformer import TableTransformer

__all__ = ["TabularGAN"]

#: CTGAN's game: WGAN-GP, one critic step per generator step, Adam 2e-4 with betas
#: (0.5, 0.9). Any of these can be overridden through ``**train``.
GAME_DEFAULTS: dict[str, Any] = {
    "loss": "wasserstein",
    "gp_lambda": 10.0,
    "n_critic": 1,
    "lr_g": 2e-4,
    "lr_d": 2e-4,
    "betas_g": (0.5, 0.9),
    "betas_d": (0.5, 0.9),
    "log_every": 50,
}
SAMPLE_ROWS = 20  # rows per sample file of a run folder


class TabularGAN:
    """A conditional tabular GAN with CTGAN's design and defaults.

    Args:
        epochs: passes over the table (300, as CTGAN); one pass is ``n // batch_size``
            steps. ``steps=`` (a train option) overrides it.
        batch_size: rows per step (500); a multiple of ``pac``.
        z_dim: latent size (128).
        generator_dims: residual block widths of G ((256, 256)).
        discriminator_dims: hidden widths of the critic ((256, 256)).
        pac: rows the critic scores together (10).
        tau: Gumbel-softmax temperature of G's categorical outputs (0.2).
        log_frequency: draw training conditions by log-frequency (True, CTGAN's default).
        max_modes: Gaussian modes per continuous column (10).
        log_long_tails: model long-tailed non-negative columns (follower counts) as
            ``log1p(x)`` before the mixture (True; see
            :mod:`~socialgan.tabular.column_codecs`). CTGAN has no such step.
        discrete_columns: columns to treat as categorical even if they hold numbers.
        metadata: per-column overrides of the inferred kinds (``{"col": "categorical"}`` or
            ``{"col": {"kind": "continuous", "integer": True}}``), or a whole
            :class:`TableMetadata`.
        seed: seeds the transformer, the nets, the batches and the noise (0).
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        run_dir: run folder (``config.json``, ``stats.jsonl``, TensorBoard,
            ``samples/step-*.csv``, ``checkpoints/``, ``losses.png``); None: in memory.
        sample_every: steps between sample files (0: only at the end).
        progress: None = bar on a terminal, plain lines otherwise; False = quiet.
        cpu_seconds: stop (and checkpoint) once the fit has used this much CPU time.
        **train: any :class:`~socialgan.engine.TrainConfig` field (``steps``, ``lr_g``,
            ``n_critic``, ``ema_decay`` (0.999), ``checkpoint_every``, ``gp_lambda``...).
    """

    model_type = "socialgan.tabular.TabularGAN"

    def __init__(
        self,
        *,
        epochs: int = 300,
        batch_size: int = 500,
        z_dim: int = 128,
        generator_dims: Sequence[int] = (256, 256),
        discriminator_dims: Sequence[int] = (256, 256),
        pac: int = 10,
        tau: float = 0.2,
        log_frequency: bool = True,
        max_modes: int = 10,
        log_long_tails: bool = True,
        discrete_columns: Sequence[str] = (),
        metadata: Mapping[str, Any] | TableMetadata | None = None,
        seed: int = 0,
        device: str = "cpu",
        run_dir: str | Path | None = None,
        sample_every: int = 0,
        progress: bool | None = None,
        cpu_seconds: float | None = None,
        **train: Any,
    ) -> None:
        unknown = sorted(set(train) - TRAIN_OPTIONS)
        if unknown:
            raise DataError(
                f"unknown option(s) {', '.join(unknown)}; training options are: "
                + ", ".join(sorted(TRAIN_OPTIONS))
            )
        pac = check_int("pac", pac, minimum=1)
        batch_size = check_int("batch_size", batch_size, minimum=pac)
        if batch_size % pac:
            raise DataError(f"batch_size={batch_size} is not a multiple of pac={pac}")
        self.params: dict[str, Any] = {
            "epochs": check_int("epochs", epochs, minimum=1),
            "batch_size": batch_size,
            "z_dim": check_int("z_dim", z_dim, minimum=1),
            "generator_dims": [check_int("generator_dims", d, minimum=1) for d in generator_dims],
            "discriminator_dims": [
                check_int("discriminator_dims", d, minimum=1) for d in discriminator_dims
            ],
            "pac": pac,
            "tau": check_number("tau", tau, minimum=0, open_min=True),
            "log_frequency": bool(log_frequency),
            "max_modes": check_int("max_modes", max_modes, minimum=1),
            "log_long_tails": bool(log_long_tails),
            "seed": check_int("seed", seed),
        }
        self.discrete_columns = [str(c) for c in discrete_columns]
        self.metadata_overrides = metadata
        self.train_options = {**GAME_DEFAULTS, **train, "batch_size": batch_size, "seed": seed}
        self.train_config = TrainConfig.from_dict({**self.train_options, "device": device})
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.sample_every = check_int("sample_every", sample_every, minimum=0)
        self.progress = progress
        self.cpu_seconds = check_number("cpu_seconds", cpu_seconds, minimum=0, optional=True)
        self.metadata: TableMetadata | None = None
        self.transformer: TableTransformer | None = None
        self.generator: TabularGenerator | None = None
        self.ema_generator: TabularGenerator | None = None
        self.discriminator: PacCritic | None = None
        self.trainer: Trainer | None = None
        self.data_info: dict[str, Any] = {}
        self.history: list[dict[str, float]] = []

    # ---------------------------------------------------------------- fit
    def _infer_metadata(self, frame: pd.DataFrame) -> TableMetadata:
        given = self.metadata_overrides
        if isinstance(given, TableMetadata):
            return given
        return TableMetadata.infer(frame, discrete_columns=self.discrete_columns, metadata=given)

    def build_nets(self, tr: TableTransformer) -> tuple[TabularGenerator, PacCritic]:
        """The untrained generator and critic for a fitted transformer."""
        p = self.params
        spans = [(s.start, s.width, s.activation) for s in tr.spans]
        n_cond = sum(len(d.categories) for d in tr.discrete)
        g = TabularGenerator(p["z_dim"], n_cond, spans, hidden=p["generator_dims"], tau=p["tau"])
        d = PacCritic(tr.output_dim, n_cond, hidden=p["discriminator_dims"], pac=p["pac"])
        return g, d

    def _condition_tables(self, tr: TableTransformer, device: torch.device) -> tuple[Tensor, ...]:
        """Per flat condition: its column's span start and width, its index in the span."""
        start, span, offset = [], [], []
        for d in tr.discrete:
            k = len(d.categories)
            start += [d.start] * k
            span += [k] * k
            offset += list(range(k))
        return tuple(
            torch.tensor(v, dtype=torch.long, device=device) for v in (start, span, offset)
        )

    def fit(self, frame: pd.DataFrame, *, resume: bool = False) -> TabularGAN:
        """Train on ``frame`` (one row per record). ``resume=True`` continues the newest
        checkpoint of ``run_dir`` to the same weights as an uninterrupted fit."""
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"expected a pandas DataFrame, got {type(frame).__name__}")
        run = self.run_dir
        if run is not None and not resume and latest_checkpoint(run / "checkpoints"):
            raise DataError(
                f"{run} already holds the checkpoints of a run: pass resume=True to continue "
                "it, or choose a new run_dir"
            )
        meta = self._infer_metadata(frame)
        meta.validate(frame)
        p = self.params
        if len(frame) < p["batch_size"]:
            raise DataError(
                f"batch_size={p['batch_size']} is larger than the table ({len(frame)} rows): "
                f"lower batch_size (a multiple of pac={p['pac']})"
            )
        tr = TableTransformer(
            max_modes=p["max_modes"], seed=p["seed"], log_long_tails=p["log_long_tails"]
        ).fit(frame, meta)
        data = tr.transform(frame)
        codes = (
            np.stack(
                [data[:, d.start : d.start + len(d.categories)].argmax(1) for d in tr.discrete], 1
            )
            if tr.discrete
            else np.zeros((len(frame), 0), dtype=np.int64)
        )
        fingerprint = hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest()[:16]
        self.metadata, self.transformer = meta, tr
        self.data_info = {
            "rows": len(frame),
            "columns": tr.columns,
            "left_out": [c.name for c in meta.columns if c.name not in tr.columns],
            "fingerprint": fingerprint,
        }
        tc = self.train_config
        steps = int(self.train_options.get("steps") or 0) or p["epochs"] * (
            len(frame) // p["batch_size"]
        )
        tc = self.train_config = TrainConfig.from_dict({**tc.to_dict(), "steps": steps})
        seed_everything(tc.seed)
        g, d = self.build_nets(tr)
        self.generator, self.discriminator = g, d
        batches = ConditionalBatches(
            data,
            codes,
            [d_.counts for d_ in tr.discrete],
            batch_size=p["batch_size"],
            seed=tc.seed,
            log_frequency=p["log_frequency"],
            device=select_device(tc.device),
        )
        tables = self._condition_tables(tr, batches.device)

        def cond_reg(fake: Tensor, y: Tensor | None) -> Tensor:
            logits = g.last_logits
            if y is None or logits is None:
                return fake.new_zeros(())
            return condition_loss(logits, y, *tables)

        model_config = {**self.get_params(), "data_fingerprint": fingerprint}
        self.trainer = trainer = Trainer(
            g,
            d,
            batches,
            tc,
            run,
            model_config=model_config,
            on_sample=self._write_samples if run is not None else None,
            sample_every=self.sample_every,
            progress=self.progress,
            g_regularizer=cond_reg,
        )
        shadow = trainer.ema.shadow
        assert isinstance(shadow, TabularGenerator)
        self.ema_generator = shadow
        if run is not None:
            if resume:
                check_resumable(run, model_config, tc.to_dict(), config_name=CONFIG_FILE)
                trainer.resume()
            from socialgan.tabular.gan_io import run_config

            atomic_write_json(run / CONFIG_FILE, run_config(self, resume))
        trainer.fit(cpu_seconds=self.cpu_seconds)
        self.history = trainer.history
        if run is not None:
            self._write_samples(trainer, trainer.step)
            if trainer.history:
                plot_losses(trainer.history, run / "losses.png", title="TabularGAN")
        return self

    def get_params(self) -> dict[str, Any]:
        """The model settings ``config.json`` saves (the game's are in ``train``)."""
        return dict(self.params)

    # ---------------------------------------------------------------- sample
    def _fitted(self) -> tuple[TableTransformer, TabularGenerator]:
        if self.transformer is None or self.generator is None:
            raise RuntimeError("this TabularGAN is not fitted: call fit() or from_pretrained()")
        return self.transformer, self.ema_generator or self.generator

    def _condition(self, conditions: Mapping[str, Any] | None) -> tuple[int, int, int] | None:
        """``(flat condition, span start, category)`` of a one-column condition."""
        if not conditions:
            return None
        tr, _ = self._fitted()
        if not isinstance(conditions, Mapping):
            raise DataError(f"conditions: expected a mapping column -> value, got {conditions!r}")
        if len(conditions) > 1:
            raise DataError(
                f"conditions on {len(conditions)} columns ({', '.join(map(str, conditions))}): "
                "this model conditions on one discrete column at a time"
            )
        ((column, value),) = conditions.items()
        names = [d.name for d in tr.discrete]
        if column not in names:
            kind = "not a modeled column" if column not in tr.columns else "not discrete"
            raise DataError(
                f"conditions: {column!r} is {kind}; conditions work on the discrete columns: "
                + (", ".join(map(repr, names)) or "(none)")
            )
        k = tr.category_index(column, value)
        j = names.index(column)
        flat = sum(len(d.categories) for d in tr.discrete[:j]) + k
        return flat, tr.discrete[j].start, k

    @torch.no_grad()
    def sample(
        self,
        n: int,
        seed: int | None = 0,
        *,
        conditions: Mapping[str, Any] | None = None,
        batch_size: int = 5000,
    ) -> pd.DataFrame:
        """``n`` synthetic rows (the modeled columns, with their dtypes).

        Args:
            n: rows (> 0).
            seed: same seed, same rows; None draws from the global RNG.
            conditions: ``{column: value}`` on one discrete column: every row has it.
            batch_size: rows per generator call.
        """
        n = check_int("n", n, minimum=1)
        tr, g = self._fitted()
        cond = self._condition(conditions)
        device = next(g.parameters()).device
        empirical = condition_probabilities([d.counts for d in tr.discrete], log_frequency=False)
        was_training = g.training
        g.eval()
        parts = []
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            for i in range(0, n, batch_size):
                m = min(batch_size, n - i)
                z = torch.randn(m, g.z_dim)
                y = None
                if g.num_classes:
                    y = (
                        torch.full((m,), cond[0], dtype=torch.long)
                        if cond is not None
                        else torch.multinomial(torch.as_tensor(empirical), m, replacement=True)
                    )
                    y = y.to(device)
                rows = g(z.to(device), y).cpu().numpy()
                if cond is not None:  # the condition holds on every row, exactly
                    _, start, k = cond
                    width = len(next(d for d in tr.discrete if d.start == start).categories)
                    rows[:, start : start + width] = 0.0
                    rows[:, start + k] = 1.0
                parts.append(rows)
        g.train(was_training)
        return tr.inverse_transform(np.concatenate(parts))

    def _write_samples(self, trainer: Trainer, step: int) -> None:
        assert self.run_dir is not None
        path = self.run_dir / "samples" / f"step-{step:07d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = self.sample(SAMPLE_ROWS, seed=1234)
        tmp = path.with_suffix(".csv.tmp")
        frame.to_csv(tmp, index=False)
        tmp.replace(path)

    # ---------------------------------------------------------------- persistence
    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json`` (settings, metadata, transformer state), ``model.safetensors``
        (the EMA generator, the live one and the critic; the transformer's arrays) and a
        ``README.md`` model card."""
        from socialgan.tabular.gan_io import save_tabular_gan

        return save_tabular_gan(self, Path(directory))

    @classmethod
    def from_pretrained(cls, directory: str | Path, *, device: str = "cpu") -> TabularGAN:
        """Open a folder written by :meth:`save_pretrained` (JSON and safetensors only)."""
        from socialgan.tabular.gan_io import load_tabular_gan

        return load_tabular_gan(cls, Path(directory), device=device)

    def __repr__(self) -> str:
        p = self.params
        return (
            f"TabularGAN(epochs={p['epochs']}, batch_size={p['batch_size']}, pac={p['pac']}, "
            f"loss={self.train_config.loss!r})"
        )
