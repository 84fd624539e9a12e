"""``RelGANTextGenerator``: a Gumbel-softmax text GAN in the RelGAN line (Nie et al., 2019).

Two phases, as in RelGAN:

1. **MLE pretraining**: an :class:`~socialgan.text.generate.mle.MLETextGenerator` (GRU)
   trains the tokenizer and the language model with its early stopping; the weights of its
   best validation epoch become the generator's LM.
2. **Adversarial training** through the engine's :class:`~socialgan.engine.Trainer`: the
   generator (:class:`~socialgan.text.generate.relgan_nets.RelGANGenerator`) writes soft
   one-hots ``softmax(beta * (o_t + g_t))`` while feeding back hard Gumbel-max tokens, the
   multi-representation CNN discriminator scores them against the one-hots of real texts,
   and the inverse temperature ``beta`` is annealed from 1 to ``beta_max`` by RelGAN's
   ``exp`` schedule (:func:`~socialgan.text.generate.relgan_nets.beta_at`), set from the
   step before each step (the Trainer's ``on_step``), so resume stays exact.

RelGAN trains with the relativistic standard loss (RSGAN), which the engine does not have;
the default here is the engine's ``non_saturating`` loss (``hinge``, ``minimax`` and
``wasserstein`` work too). Adam with lr 1e-4 for both nets and betas (0.9, 0.999) and a
gradient-norm clip of 5 follow RelGAN; ``beta_max`` defaults to 100 (the paper reports 100
and 1000). RelGAN's relational-memory generator is replaced by the MLE generator's GRU.

**Sampling** draws texts autoregressively from ``softmax(o_t / temperature)`` (restricted to
the ``top_p`` nucleus) with :func:`~socialgan.text.generate.sampling.sample`, from a seeded
latent ``z``: at ``temperature=1`` this is exactly the distribution of the hard tokens the
generator produced in training (Gumbel-max); ``beta`` only shapes what D saw.

With ``run_dir`` a fit leaves: ``config.json``, ``tokenizer.json``, ``mle/`` (the MLE run
folder), the Trainer's ``stats.jsonl``, TensorBoard events and ``checkpoints/``, and
``samples/step-NNNNNNN.txt``; ``fit(..., resume=True)`` continues both phases exactly.

Example:
    >>> from socialgan.text.generate.relgan import RelGANTextGenerator
    >>> gen = RelGANTextGenerator(steps=500, run_dir="runs/relgan").fit(texts)  # doctest: +SKIP
    >>> gen.sample(3, seed=0)  # doctest: +SKIP
    >>> gen.save_pretrained("models/relgan")  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import torch

from socialgan.checks import check_int, check_number
from socialgan.engine import Trainer
from socialgan.engine.checkpoint import (
    atomic_write_bytes,
    atomic_write_json,
    check_resumable,
    latest_checkpoint,
)
from socialgan.engine.utils import select_device
from socialgan.errors import DataError
from socialgan.loading import CONFIG_FILE
from socialgan.reproducibility import reproducible
from socialgan.text.generate.corpus import lm_sequences, prepare_corpus
from socialgan.text.generate.lm import GRULanguageModel
from socialgan.text.generate.mle import MLETextGenerator
from socialgan.text.generate.mle_io import TOKENIZER_FILE
from socialgan.text.generate.relgan_io import (
    MODEL_TYPE,
    load_relgan,
    relgan_config,
    save_relgan,
    write_samples,
)
from socialgan.text.generate.relgan_nets import (
    NoisyStartLM,
    OneHotBatches,
    RelGANDiscriminator,
    RelGANGenerator,
    beta_at,
    real_token_ids,
)
from socialgan.text.generate.relgan_settings import (
    build_relgan_nets,
    check_relgan_settings,
    pretrain_settings,
)
from socialgan.text.generate.sampling import check_sampling, sample
from socialgan.text.generate.tokenizer import BOS, PAD, SPECIALS, UNK, TextTokenizer

__all__ = ["MODEL_TYPE", "RelGANTextGenerator"]


class RelGANTextGenerator:
    """A text GAN with a Gumbel-softmax generator, optionally class-conditional.

    Args:
        vocab_size, tokenizer_kind, lowercase, min_frequency, embed_dim, hidden_dim, layers,
            dropout, patience, validation_fraction, max_tokens: the MLE generator's settings
            (see :class:`~socialgan.text.generate.mle.MLETextGenerator`; the net is a GRU).
        batch_size: texts per MLE step and per adversarial step (64, as RelGAN).
        mle_lr: Adam learning rate of the pretraining (2e-3).
        mle_epochs: most pretraining epochs (20); early stopping on validation NLL.
        z_dim: latent size; ``z`` sets the generator's initial GRU state (32).
        num_rep, rep_dim: D's embedded representations and the size of each (32 and 1;
            RelGAN used 64 and 1: 64 dimensions split into 64 representations).
        filter_sizes: D's convolution widths over time ((2, 3, 4, 5), as RelGAN).
        num_filters: filters per width (64; RelGAN used 300). The defaults of D are smaller
            than RelGAN's so that a step takes about a second on a CPU core; D's cost grows
            with ``num_rep * num_filters * max_tokens``.
        d_dropout: D's dropout (0.25).
        beta_max: the final inverse temperature (100; RelGAN reports 100 and 1000); >= 1.
        seed: seeds the tokenizer data split, both phases' weights, batches and noise (0).
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        run_dir: run folder (see the module docstring) or None to train in memory.
        sample_every: adversarial steps between sample files in ``run_dir/samples`` (200).
        progress: show progress (True).
        cpu_seconds: stop (and checkpoint) once the fit has used this much CPU time, both
            phases together; ``fit(..., resume=True)`` continues.
        pretrain_share: the share of ``cpu_seconds`` that MLE pretraining may use (0.5); the
            adversarial phase gets the rest, so a budget never ends before it starts.
        **train: any :class:`~socialgan.engine.TrainConfig` field of the adversarial phase
            (``loss``, ``steps`` (1000), ``lr_g``/``lr_d`` (1e-4), ``n_critic``,
            ``ema_decay`` (0), ``grad_clip`` (5), ``r1_gamma``, ``checkpoint_every``...).

    Every argument is checked here: a wrong value raises a ``DataError`` naming it.
    """

    model_type = MODEL_TYPE

    def __init__(
        self,
        *,
        vocab_size: int = 4000,
        tokenizer_kind: str = "bpe",
        lowercase: bool = False,
        min_frequency: int = 2,
        embed_dim: int = 128,
        hidden_dim: int = 256,
        layers: int = 1,
        dropout: float = 0.1,
        patience: int = 3,
        validation_fraction: float = 0.1,
        max_tokens: int = 64,
        batch_size: int = 64,
        mle_lr: float = 2e-3,
        mle_epochs: int = 20,
        z_dim: int = 32,
        num_rep: int = 32,
        rep_dim: int = 1,
        filter_sizes: tuple[int, ...] | list[int] = (2, 3, 4, 5),
        num_filters: int = 64,
        d_dropout: float = 0.25,
        beta_max: float = 100.0,
        seed: int = 0,
        device: str = "cpu",
        run_dir: str | Path | None = None,
        sample_every: int = 200,
        progress: bool = True,
        cpu_seconds: float | None = None,
        pretrain_share: float = 0.5,
        **train: Any,
    ) -> None:
        self.params, self.train_config = check_relgan_settings(dict(locals()), train)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.progress = bool(progress)
        self.cpu_seconds = check_number("cpu_seconds", cpu_seconds, minimum=0, optional=True)
        self.pretrain_share = check_number(
            "pretrain_share", pretrain_share, minimum=0, maximum=1, open_min=True
        )
        self.sample_every = check_int("sample_every", sample_every, minimum=0)
        self.pretrainer = MLETextGenerator(
            **pretrain_settings(self.params),
            run_dir=self.run_dir / "mle" if self.run_dir is not None else None,
            progress=self.progress,
            cpu_seconds=None if cpu_seconds is None else cpu_seconds * self.pretrain_share,
        )
        self.tokenizer: TextTokenizer | None = None
        self.generator: RelGANGenerator | None = None
        self.ema_generator: RelGANGenerator | None = None
        self.discriminator: RelGANDiscriminator | None = None
        self.trainer: Trainer | None = None
        self.label_names: list[str] = []
        self.label_counts: list[int] = []
        self.data_info: dict[str, Any] = {}
        self.metrics: dict[str, Any] = {}
        self.history: list[dict[str, float]] = []

    # ---------------------------------------------------------------- build
    def get_params(self) -> dict[str, Any]:
        """The model settings (no run-folder or adversarial-loop options)."""
        return dict(self.params)

    @property
    def conditional(self) -> bool:
        return bool(self.label_names)

    @property
    def seq_len(self) -> int:
        """``T``: ``max_tokens`` text tokens and the closing ``<eos>``."""
        return int(self.params["max_tokens"]) + 1

    def build_nets(
        self, vocab_size: int, lm: GRULanguageModel | None = None
    ) -> tuple[RelGANGenerator, RelGANDiscriminator]:
        """The generator around ``lm`` (a fresh GRU of these settings by default) and D."""
        return build_relgan_nets(self.params, vocab_size, len(self.label_names), lm)

    def _fitted(self) -> tuple[TextTokenizer, RelGANGenerator]:
        if self.tokenizer is None or self.ema_generator is None:
            raise RuntimeError(
                "this RelGANTextGenerator is not fitted: call fit() or from_pretrained()"
            )
        return self.tokenizer, self.ema_generator

    def _lm_view(self) -> MLETextGenerator:
        """An MLE generator sharing the tokenizer, labels and the generator's LM (for
        ``nll`` and label checks, exactly as the MLE model scores and names)."""
        tok, g = self._fitted()
        view = copy.copy(self.pretrainer)
        view.tokenizer, view.net = tok, g.lm
        view.label_names, view.label_counts = self.label_names, self.label_counts
        return view

    # ---------------------------------------------------------------- fit
    def fit(
        self, texts: Any, labels: Any = None, *, label_names: Any = None, resume: bool = False
    ) -> RelGANTextGenerator:
        """Pretrain by MLE, then train adversarially, on ``texts`` (blank ones skipped).

        ``labels`` (class names, or ids into ``label_names``) make the model conditional.
        ``resume=True`` continues the newest checkpoints of ``run_dir`` (both phases), to
        the same weights as an uninterrupted fit.
        """
        run, cpu_start = self.run_dir, time.process_time()
        if run is not None and not resume and latest_checkpoint(run / "checkpoints"):
            raise DataError(
                f"{run} already holds the checkpoints of a run: pass resume=True to continue "
                "it, or choose a new run_dir"
            )
        rows, row_labels, names, _ = prepare_corpus(texts, labels, label_names)
        tc, device = self.train_config, select_device(self.params["device"])
        if len(rows) < tc.batch_size:  # checked before the pretraining spends any time
            raise DataError(
                f"batch_size={tc.batch_size} is larger than the corpus ({len(rows)} texts): "
                "lower batch_size"
            )
        mle = self.pretrainer.fit(texts, labels, label_names=label_names, resume=resume)
        tok, lm = mle._fitted()
        assert isinstance(lm, GRULanguageModel)
        self.tokenizer, self.label_names = tok, list(mle.label_names)
        self.label_counts = list(mle.label_counts)
        seqs = lm_sequences(tok, rows, row_labels, self.seq_len - 1)
        ids = real_token_ids(seqs, 2 if row_labels is not None else 1, self.seq_len)
        y = torch.tensor([names.index(n) for n in row_labels]) if row_labels else None
        self.data_info = {**mle.data_info, "n_adversarial": len(rows)}
        self.metrics = {f"mle_{k}": v for k, v in mle.metrics.items()}
        with reproducible(tc.seed, device):
            g, d = self.build_nets(tok.vocab_size, copy.deepcopy(lm))
            self.generator, self.discriminator = g, d
            self.ema_generator = copy.deepcopy(g).eval()
            spent = time.process_time() - cpu_start
            left = None if self.cpu_seconds is None else self.cpu_seconds - spent
            if left is not None and left <= 0:  # the budget ended in (or with) pretraining
                self.metrics["adversarial_steps"] = 0
                return self
            batches = OneHotBatches(
                ids,
                y,
                vocab_size=tok.vocab_size,
                batch_size=tc.batch_size,
                seed=tc.seed,
                device=device,
            )
            self.trainer = trainer = Trainer(
                g,
                d,
                batches,
                tc,
                run,
                model_config=self.get_params(),
                on_sample=self._write_samples if run is not None else None,
                sample_every=self.sample_every,
                progress=None if self.progress else False,
                on_step=self._anneal,
            )
            shadow = trainer.ema.shadow
            assert isinstance(shadow, RelGANGenerator)
            self.ema_generator = shadow
            if resume and run is not None:
                check_resumable(run, self.get_params(), tc.to_dict(), config_name=CONFIG_FILE)
                trainer.resume()
            if run is not None:
                run_opts = {"run_dir": str(run), "cpu_seconds": self.cpu_seconds, "resume": resume}
                atomic_write_json(run / CONFIG_FILE, {**relgan_config(self), "run": run_opts})
                atomic_write_bytes(run / TOKENIZER_FILE, tok.to_json().encode())
            trainer.fit(cpu_seconds=left)
        self.history = trainer.history
        self.metrics |= {
            "adversarial_steps": trainer.step,
            "beta_final": beta_at(trainer.step, tc.steps, self.params["beta_max"]),
        }
        if run is not None:
            self._write_samples(trainer, trainer.step)
        return self

    def _anneal(self, trainer: Trainer) -> None:
        """Set G's inverse temperature for the step about to run (a function of the step)."""
        assert self.generator is not None
        self.generator.beta = beta_at(trainer.step, trainer.config.steps, self.params["beta_max"])

    def _write_samples(self, trainer: Trainer, step: int) -> None:
        assert self.run_dir is not None
        write_samples(self, self.run_dir / "samples" / f"step-{step:07d}.txt")

    # ---------------------------------------------------------------- use
    @torch.no_grad()
    def sample(
        self,
        n: int,
        *,
        seed: int = 0,
        label: str | int | None = None,
        temperature: float = 1.0,
        top_p: float = 1.0,
    ) -> list[str]:
        """``n`` generated texts (same seed, same texts), from a seeded latent each.

        ``label`` (a class name or id) asks a conditional model for that class; without it
        a conditional model draws each text's class from the training class frequencies.
        Tokens are drawn from ``softmax(o_t / temperature)`` within the ``top_p`` nucleus.
        """
        tok, g = self._fitted()
        check_sampling(temperature, top_p)
        n = check_int("n", n, minimum=0)
        gen = torch.Generator().manual_seed(int(seed))
        z = torch.randn(n, self.params["z_dim"], generator=gen)
        y = None
        if label is not None:
            y = torch.full((n,), self._lm_view()._label_id(tok, label) - len(SPECIALS))
        elif self.conditional:
            prior = torch.tensor(self.label_counts, dtype=torch.float)
            y = torch.multinomial(prior, n, replacement=True, generator=gen) if n else None
        device = next(g.parameters()).device
        prefix = g.prefix(n, y, device) if n else torch.zeros(0, 1, dtype=torch.long)
        banned = [PAD, BOS, UNK, *range(len(SPECIALS), tok.num_special)]
        out: list[str] = []
        for start in range(0, n, 512):
            rows = sample(
                NoisyStartLM(g, z[start : start + 512].to(device)),
                prefix[start : start + 512],
                max_len=self.params["max_tokens"],
                generator=gen,
                temperature=temperature,
                top_p=top_p,
                banned=banned,
            )
            out += [tok.decode(r) for r in rows]
        return out

    def nll(self, texts: Any, labels: Any = None) -> float:
        """Mean teacher-forced NLL per token, in nats, of ``texts`` under the generator's
        LM with the latent at its mean (``z = 0``, so no noise in the initial state),
        counted as :meth:`MLETextGenerator.nll` counts (``<eos>`` included). Before any
        adversarial step it equals the pretrained MLE model's NLL."""
        return self._lm_view().nll(texts, labels)

    # ---------------------------------------------------------------- persistence
    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json``, ``model.safetensors`` (G, its EMA, D), ``tokenizer.json``
        and a ``README.md`` model card."""
        return save_relgan(self, directory)

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str = "cpu") -> RelGANTextGenerator:
        """Open a folder written by :meth:`save_pretrained` (JSON and safetensors only); a
        missing, corrupt or mismatched file raises ``DataError`` naming it."""
        return load_relgan(cls, directory, device)
