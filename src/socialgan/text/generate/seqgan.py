"""``SeqGANTextGenerator``: a language model pretrained by maximum likelihood, then trained
as the generator of a GAN by policy gradient (SeqGAN, Yu et al. 2017).

It is an :class:`~socialgan.text.generate.mle.MLETextGenerator` (same tokenizer, nets,
MLE pretraining with early stopping, ``sample``/``nll``/``perplexity``, folder format) whose
``fit`` goes on with an adversarial phase (:mod:`~socialgan.text.generate.seqgan_train`):
a CNN discriminator (:mod:`~socialgan.text.generate.seqgan_nets`) is pretrained on real
versus generated texts, then each round the generator's samples get per-token rewards by
Monte-Carlo rollouts and a REINFORCE step
(:func:`~socialgan.text.generate.policy_gradient.reinforce_loss`), with teacher-forcing steps
interleaved, and the discriminator is updated on fresh samples. A conditional model's
discriminator reads the class token first, so it rewards texts that fit their class.

The run folder: ``pretrain/`` is the MLE phase's own run folder (config, stats, samples,
checkpoints); ``config.json``, ``stats.jsonl`` and TensorBoard events, ``samples/`` and
``checkpoints/`` at the top are the adversarial phase's. ``fit(..., resume=True)`` continues
whichever phase was interrupted, to the same weights as an uninterrupted run.
``save_pretrained`` writes the generator only (the discriminator is a training device; it
stays in the run's checkpoints).

Cost on 2 CPU cores: a round costs about ``adv_batch_size * rollouts * L^2 / 2`` generator
steps for texts of ``L`` tokens (each rollout runs until its own ``<eos>``). Measured with
the default sizes (GRU 128/256, 4000 ids), texts of about 20 tokens and one torch thread on
a busy 2-core machine: about 5 s a round, so the 200 default rounds take about a quarter of
an hour after pretraining; halve ``rollouts`` or ``adversarial_steps`` for a quick run.

Example:
    >>> from socialgan.text import load_airline
    >>> from socialgan.text.generate import SeqGANTextGenerator
    >>> data = load_airline()  # doctest: +SKIP
    >>> gen = SeqGANTextGenerator(run_dir="runs/airline-seqgan").fit(  # doctest: +SKIP
    ...     data.texts, data.labels, label_names=data.label_names)
    >>> gen.sample(3, seed=0, label="negative")  # doctest: +SKIP
    >>> gen.save_pretrained("models/airline-seqgan")  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from socialgan.checks import check_int, check_number
from socialgan.engine.checkpoint import atomic_write_json, latest_checkpoint
from socialgan.errors import DataError
from socialgan.loading import CONFIG_FILE
from socialgan.reproducibility import reproducible
from socialgan.text.generate.corpus import (
    corpus_fingerprint,
    lm_sequences,
    nll_sum,
    prepare_corpus,
    validation_split,
)
from socialgan.text.generate.mle import MLETextGenerator
from socialgan.text.generate.mle_io import generator_config, save_generator
from socialgan.text.generate.seqgan_nets import CNNDiscriminator
from socialgan.text.generate.seqgan_train import SeqGANTrainer, gan_checkpoint

__all__ = ["SEQGAN_MODEL_TYPE", "SeqGANTextGenerator"]

SEQGAN_MODEL_TYPE = "socialgan.textgen.SeqGANTextGenerator"
PRETRAIN_DIR = "pretrain"


def _gan_settings(raw: dict[str, Any]) -> dict[str, Any]:
    """The checked adversarial settings (an ``OptionError`` names a bad one)."""
    widths = raw["d_widths"]
    if isinstance(widths, str | bytes) or not isinstance(widths, Sequence) or not widths:
        raise DataError(f"d_widths: expected a list of filter widths, got {widths!r}")
    return {
        "adversarial_steps": check_int("adversarial_steps", raw["adversarial_steps"], minimum=0),
        "rollouts": check_int("rollouts", raw["rollouts"], minimum=1),
        "rollout_update": check_number(
            "rollout_update", raw["rollout_update"], minimum=0, maximum=1, open_max=True
        ),
        "adv_batch_size": check_int("adv_batch_size", raw["adv_batch_size"], minimum=2),
        "adv_lr": check_number("adv_lr", raw["adv_lr"], minimum=0, open_min=True),
        "mle_every": check_int("mle_every", raw["mle_every"], minimum=0),
        "d_steps": check_int("d_steps", raw["d_steps"], minimum=0),
        "d_pretrain_epochs": check_int("d_pretrain_epochs", raw["d_pretrain_epochs"], minimum=0),
        "d_lr": check_number("d_lr", raw["d_lr"], minimum=0, open_min=True),
        "d_embed_dim": check_int("d_embed_dim", raw["d_embed_dim"], minimum=1),
        "d_filters": check_int("d_filters", raw["d_filters"], minimum=1),
        "d_widths": [check_int("d_widths", w, minimum=1) for w in widths],
        "d_dropout": check_number(
            "d_dropout", raw["d_dropout"], minimum=0, maximum=1, open_max=True
        ),
    }


class SeqGANTextGenerator(MLETextGenerator):
    """A SeqGAN text generator, optionally conditioned on a class label.

    Args:
        model: the generator net, ``"gru"`` (as in SeqGAN; default) or ``"transformer"``.
        adversarial_steps: adversarial rounds after pretraining (200).
        rollouts: Monte-Carlo completions per prefix for the per-token rewards (4).
        rollout_update: the rollout policy keeps this share of its weights at each round and
            takes the rest from the generator (0.8, SeqGAN's ``update_rate``; 0 = a copy).
        adv_batch_size: texts sampled per policy-gradient step (16; SeqGAN used 64, the
            rollouts make each one cost ``rollouts * L^2 / 2`` generator steps).
        adv_lr: Adam learning rate of the generator in the adversarial phase (2e-4).
        mle_every: one teacher-forcing step on real texts every this many rounds (2; 0 = pure
            policy gradient, which tends to collapse onto few texts).
        d_steps: discriminator updates per round (3).
        d_pretrain_epochs: passes over the real texts pretraining the discriminator (3).
        d_lr: Adam learning rate of the discriminator (1e-4, as in SeqGAN).
        d_embed_dim: the discriminator's token embedding size (64).
        d_filters: convolution filters per width (32).
        d_widths: convolution widths, in tokens ((2, 3, 4, 5)).
        d_dropout: dropout before the discriminator's output layer (0.25).
        checkpoint_every: adversarial-phase steps between checkpoints and sample files (50).
        pretrain_share: the share of ``cpu_seconds`` that MLE pretraining may use (0.5); the
            adversarial phase gets the rest, so a budget never ends before it starts.
        **settings: every other argument of
            :class:`~socialgan.text.generate.mle.MLETextGenerator` (tokenizer, generator
            sizes, MLE pretraining, ``seed``, ``device``, ``run_dir``, ``progress``,
            ``cpu_seconds``: one budget for both phases, split by ``pretrain_share``).

    After ``fit``: ``history`` (MLE epochs), ``gan_history`` (one dict per adversarial-phase
    step), ``metrics`` (both phases, and ``gan_val_nll``: the validation NLL after the
    adversarial phase, which a GAN usually raises a little), ``discriminator``.
    """

    model_type = SEQGAN_MODEL_TYPE

    def __init__(
        self,
        model: str = "gru",
        *,
        adversarial_steps: int = 200,
        rollouts: int = 4,
        rollout_update: float = 0.8,
        adv_batch_size: int = 16,
        adv_lr: float = 2e-4,
        mle_every: int = 2,
        d_steps: int = 3,
        d_pretrain_epochs: int = 3,
        d_lr: float = 1e-4,
        d_embed_dim: int = 64,
        d_filters: int = 32,
        d_widths: Sequence[int] = (2, 3, 4, 5),
        d_dropout: float = 0.25,
        checkpoint_every: int = 50,
        pretrain_share: float = 0.5,
        **settings: Any,
    ) -> None:
        gan = dict(locals())
        super().__init__(model, **settings)
        self.gan_params = _gan_settings(gan)
        self.checkpoint_every = check_int("checkpoint_every", checkpoint_every, minimum=1)
        self.pretrain_share = check_number(
            "pretrain_share", pretrain_share, minimum=0, maximum=1, open_min=True
        )
        self.discriminator: CNNDiscriminator | None = None
        self.gan_history: list[dict[str, float]] = []

    def get_params(self) -> dict[str, Any]:
        """Every model setting, MLE and adversarial, as ``config.json`` saves them."""
        return {**self.params, **self.gan_params}

    # ---------------------------------------------------------------- fit
    def fit(
        self, texts: Any, labels: Any = None, *, label_names: Any = None, resume: bool = False
    ) -> SeqGANTextGenerator:
        """MLE pretraining (:meth:`MLETextGenerator.fit`), then the adversarial phase.

        ``labels`` (class names, or ids into ``label_names``) make the model conditional.
        ``resume=True`` continues the newest checkpoint of ``run_dir`` (same data and
        settings; ``adversarial_steps`` may grow), whichever phase it belongs to.
        """
        rows, row_labels, names, _ = prepare_corpus(texts, labels, label_names)
        digest, run = corpus_fingerprint(rows, row_labels, names), self.run_dir
        found = None
        if run is not None and resume:  # refuse other data or settings before any work
            found = gan_checkpoint(run, digest, self.get_params())
        elif run is not None and any(
            latest_checkpoint(d / "checkpoints") for d in (run, run / PRETRAIN_DIR)
        ):
            raise DataError(
                f"{run} already holds the checkpoints of a run: pass resume=True to continue "
                "it, or choose a new run_dir"
            )
        cpu_start, total = time.process_time(), self.cpu_seconds
        self.run_dir = run / PRETRAIN_DIR if run is not None else None
        self.cpu_seconds = None if total is None else total * self.pretrain_share
        try:
            super().fit(texts, labels, label_names=label_names, resume=resume)
        finally:
            self.run_dir, self.cpu_seconds = run, total
        spent = time.process_time() - cpu_start
        if self.cpu_seconds is not None and spent > self.cpu_seconds:
            return self  # pretraining may be unfinished: resume=True goes on
        self._adversarial(rows, row_labels, digest, found, spent)
        return self

    def _adversarial(
        self,
        rows: list[str],
        row_labels: list[str] | None,
        digest: str,
        found: Path | None,
        spent: float,
    ) -> None:
        tok, net = self._fitted()
        p, g, device = self.params, self.gan_params, self._device()
        seqs = lm_sequences(tok, rows, row_labels, p["max_tokens"])
        train_idx, val_idx = validation_split(len(seqs), p["validation_fraction"], p["seed"])
        run = self.run_dir
        with reproducible(p["seed"], device):
            self.discriminator = CNNDiscriminator(
                tok.vocab_size,
                embed_dim=g["d_embed_dim"],
                filters=g["d_filters"],
                widths=g["d_widths"],
                dropout=g["d_dropout"],
            ).to(device)
            budget = None if self.cpu_seconds is None else self.cpu_seconds - spent
            trainer = SeqGANTrainer(
                net,
                self.discriminator,
                [seqs[i] for i in train_idx],
                prefix_len=self._prefix_len,
                draw_prefix=lambda n, gen: self._prefixes(n, gen),
                banned=self._banned(),
                config=self.get_params(),
                fingerprint=digest,
                device=device,
                run_dir=run,
                checkpoint_every=self.checkpoint_every,
                progress=self.progress,
                cpu_seconds=budget,
                on_checkpoint=self._write_samples,
            )
            if found is not None:
                trainer.resume(found)
            if run is not None:
                opts = {
                    "run_dir": str(run),
                    "cpu_seconds": self.cpu_seconds,
                    "resume": found is not None,
                }
                atomic_write_json(run / CONFIG_FILE, {**generator_config(self), "run": opts})
            state = trainer.fit()
        self.gan_history = state.history
        self.metrics = {**self.metrics, **state.summary(trainer.d_total)}
        if val_idx.size:
            total, count = nll_sum(net, [seqs[i] for i in val_idx], self._prefix_len, 256, device)
            self.metrics["gan_val_nll"] = total / max(count, 1)

    # ---------------------------------------------------------------- persistence
    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json``, ``model.safetensors`` (the generator), ``tokenizer.json``
        and ``README.md``."""
        g = self.gan_params
        line = (
            f"- Then SeqGAN: {g['adversarial_steps']} adversarial rounds, {g['rollouts']} "
            f"rollouts per prefix (rollout update {g['rollout_update']}), Adam lr "
            f"{g['adv_lr']}, a teacher-forcing step every {g['mle_every']} rounds (0: none), "
            f"CNN discriminator widths {g['d_widths']} x {g['d_filters']} filters"
        )
        title = f"socialgan SeqGAN text generator ({self.params['model']})"
        return save_generator(self, directory, title=title, card_lines=[line])

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str = "cpu") -> SeqGANTextGenerator:
        """Open a folder written by :meth:`save_pretrained` (JSON and safetensors only)."""
        gen = super().from_pretrained(directory, device)
        assert isinstance(gen, SeqGANTextGenerator)
        return gen
