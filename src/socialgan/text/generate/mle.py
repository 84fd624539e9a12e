"""``MLETextGenerator``: a GRU or Transformer language model trained by maximum likelihood.

The baseline every text GAN must beat, and the generator a SeqGAN pretrains. CTGAN-style
``fit(texts) -> self`` / ``sample(n, seed=...)``; ``nll``/``perplexity`` score held-out
texts; Hugging Face-style ``save_pretrained``/``from_pretrained`` (``config.json`` +
``model.safetensors`` + ``tokenizer.json`` + ``README.md``, opened by ``socialgan.load``).

With ``run_dir`` a fit leaves a self-describing run folder: ``config.json`` (resolved
settings), ``tokenizer.json``, ``stats.jsonl`` and TensorBoard events, one
``samples/step-NNNNNN.txt`` per epoch and ``checkpoints/``; ``fit(..., resume=True)``
continues an interrupted run to the same weights as an uninterrupted one
(:mod:`~socialgan.text.generate.mle_train`).

Example:
    >>> from socialgan.text import load_airline
    >>> from socialgan.text.generate import MLETextGenerator
    >>> data = load_airline()  # doctest: +SKIP
    >>> gen = MLETextGenerator("gru", run_dir="runs/airline-lm").fit(  # doctest: +SKIP
    ...     data.texts, data.labels, label_names=data.label_names)
    >>> gen.sample(3, seed=0, label="negative")  # doctest: +SKIP
    >>> gen.save_pretrained("models/airline-lm")  # doctest: +SKIP
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from socialgan.checks import check_int, check_number
from socialgan.engine.checkpoint import atomic_write_bytes, atomic_write_json, latest_checkpoint
from socialgan.engine.utils import select_device
from socialgan.errors import DataError
from socialgan.loading import CONFIG_FILE
from socialgan.reproducibility import reproducible
from socialgan.text.generate.corpus import (
    check_texts,
    corpus_fingerprint,
    lm_sequences,
    nll_sum,
    prepare_corpus,
    resolve_labels,
    validation_split,
)
from socialgan.text.generate.lm import LanguageModel
from socialgan.text.generate.mle_io import (
    MODEL_TYPE,
    TOKENIZER_FILE,
    generator_config,
    load_generator,
    save_generator,
)
from socialgan.text.generate.mle_train import MLETrainer, resumable_checkpoint
from socialgan.text.generate.sampling import check_sampling, sample
from socialgan.text.generate.settings import build_net, check_settings
from socialgan.text.generate.tokenizer import (
    BOS,
    PAD,
    SPECIALS,
    UNK,
    TextTokenizer,
)

__all__ = ["MODEL_TYPE", "TOKENIZER_FILE", "MLETextGenerator"]

_SAMPLE_SEED = 1234  # the run folder's per-epoch samples
#: The constructor arguments saved as ``params`` (the others only shape a run).
_SETTINGS = frozenset(
    "model vocab_size tokenizer_kind lowercase min_frequency embed_dim hidden_dim layers heads "
    "dropout lr batch_size max_epochs patience validation_fraction max_tokens seed device".split()
)


class MLETextGenerator:
    """A language model of short texts, optionally conditioned on a class label.

    Args:
        model: ``"gru"`` or ``"transformer"`` (causal, tied embeddings).
        vocab_size: most tokenizer ids, specials and class tokens included (4000).
        tokenizer_kind: ``"bpe"`` (subwords) or ``"word"`` (whole words, rarer ones
            ``<unk>``); see :class:`~socialgan.text.generate.tokenizer.TextTokenizer`.
        lowercase: fold case before tokenizing (False).
        min_frequency: pieces seen fewer times are left out of the vocabulary (2).
        embed_dim: token embedding size; the Transformer's ``d_model`` (128).
        hidden_dim: the GRU state size; the Transformer's feed-forward width (256).
        layers: GRU or Transformer layers (None: 1 for the GRU, 2 for the Transformer).
        heads: attention heads of the Transformer (4).
        dropout: dropout probability (0.1).
        lr: Adam learning rate (2e-3).
        batch_size: texts per step (64).
        max_epochs: most passes over the training texts (20).
        patience: stop after this many epochs without a better validation NLL (3).
        validation_fraction: share of texts held out for early stopping (0.1; 0: none,
            then the last epoch's weights are kept).
        max_tokens: texts are cut to this many tokens; samples are at most this long (64).
        seed: seeds the initial weights, validation split, batch order and dropout (0).
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        run_dir: run folder (see the module docstring) or None to train in memory.
        progress: show a progress bar (True).
        cpu_seconds: stop (and checkpoint) once the fit has used this much CPU time.

    Every argument is checked here: a wrong value raises
    :class:`~socialgan.checks.OptionError` (a ``DataError``) naming it.
    """

    model_type = MODEL_TYPE

    def __init__(
        self,
        model: str = "gru",
        *,
        vocab_size: int = 4000,
        tokenizer_kind: str = "bpe",
        lowercase: bool = False,
        min_frequency: int = 2,
        embed_dim: int = 128,
        hidden_dim: int = 256,
        layers: int | None = None,
        heads: int = 4,
        dropout: float = 0.1,
        lr: float = 2e-3,
        batch_size: int = 64,
        max_epochs: int = 20,
        patience: int = 3,
        validation_fraction: float = 0.1,
        max_tokens: int = 64,
        seed: int = 0,
        device: str = "cpu",
        run_dir: str | Path | None = None,
        progress: bool = True,
        cpu_seconds: float | None = None,
    ) -> None:
        arguments = dict(locals())
        self.params: dict[str, Any] = check_settings({k: arguments[k] for k in _SETTINGS})
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.progress = bool(progress)
        self.cpu_seconds = check_number("cpu_seconds", cpu_seconds, minimum=0, optional=True)
        self.tokenizer: TextTokenizer | None = None
        self.net: LanguageModel | None = None
        self.label_names: list[str] = []
        self.label_counts: list[int] = []
        self.data_info: dict[str, Any] = {}
        self.metrics: dict[str, Any] = {}
        self.history: list[dict[str, float]] = []

    # ---------------------------------------------------------------- build
    def get_params(self) -> dict[str, Any]:
        """The model settings (no run-folder options), as ``config.json`` saves them."""
        return dict(self.params)

    def _build(self, vocab: int) -> LanguageModel:
        return build_net(self.params, vocab)

    @property
    def conditional(self) -> bool:
        return bool(self.label_names)

    @property
    def _prefix_len(self) -> int:
        return 2 if self.conditional else 1

    def _fitted(self) -> tuple[TextTokenizer, LanguageModel]:
        if self.tokenizer is None or self.net is None:
            raise RuntimeError(
                "this MLETextGenerator is not fitted: call fit() or from_pretrained()"
            )
        return self.tokenizer, self.net

    def _device(self) -> torch.device:
        return next(self._fitted()[1].parameters()).device

    # ---------------------------------------------------------------- fit
    def fit(
        self, texts: Any, labels: Any = None, *, label_names: Any = None, resume: bool = False
    ) -> MLETextGenerator:
        """Train the tokenizer, then the language model, on ``texts`` (blank ones skipped).

        ``labels`` (class names, or ids into ``label_names``) make the model conditional:
        ``sample(label=...)`` then writes texts of that class. ``resume=True`` continues
        the newest checkpoint of ``run_dir`` (same data and model settings).
        """
        rows, row_labels, names, n_skipped = prepare_corpus(texts, labels, label_names)
        p, device = self.params, select_device(self.params["device"])
        digest = corpus_fingerprint(rows, row_labels, names)
        run = self.run_dir
        ckpt = resumable_checkpoint(run, digest) if resume and run is not None else None
        if run is not None and not resume and latest_checkpoint(run / "checkpoints"):
            raise DataError(
                f"{run} already holds the checkpoints of a run: pass resume=True to continue "
                "it, or choose a new run_dir"
            )
        with reproducible(p["seed"], device):
            if ckpt is not None and run is not None:
                tok = TextTokenizer.from_json(
                    (run / TOKENIZER_FILE).read_text(encoding="utf-8"),
                    where=str(run / TOKENIZER_FILE),
                )
            else:
                tok = TextTokenizer(p["tokenizer_kind"], lowercase=p["lowercase"]).train(
                    rows, p["vocab_size"], p["min_frequency"], label_names=names
                )
            self.tokenizer, self.label_names = tok, names
            self.label_counts = [row_labels.count(n) for n in names] if row_labels else []
            seqs = lm_sequences(tok, rows, row_labels, p["max_tokens"])
            train_idx, val_idx = validation_split(len(seqs), p["validation_fraction"], p["seed"])
            self.net = self._build(tok.vocab_size).to(device)
            self.data_info = {
                "n_texts": len(rows),
                "n_blank_skipped": n_skipped,
                "n_train": len(train_idx),
                "n_val": len(val_idx),
                "train_tokens": sum(len(seqs[i]) - self._prefix_len for i in train_idx),
            }
            trainer = MLETrainer(
                self.net,
                [seqs[i] for i in train_idx],
                [seqs[i] for i in val_idx],
                prefix_len=self._prefix_len,
                config=dict(self.params),  # the MLE settings (a SeqGAN adds its own)
                fingerprint=digest,
                device=device,
                run_dir=run,
                progress=self.progress,
                cpu_seconds=self.cpu_seconds,
                on_epoch=self._write_samples if run is not None else None,
            )
            if ckpt is not None:
                trainer.resume()  # checks the settings before the folder is touched
            if run is not None:
                run.mkdir(parents=True, exist_ok=True)
                run_opts = {"run_dir": str(run), "cpu_seconds": self.cpu_seconds, "resume": resume}
                atomic_write_json(run / CONFIG_FILE, {**generator_config(self), "run": run_opts})
                atomic_write_bytes(run / TOKENIZER_FILE, tok.to_json().encode())
            state = trainer.fit()
        self.history, self.metrics = state.history, state.summary()
        return self

    def _write_samples(self, step: int) -> None:
        assert self.run_dir is not None
        n = 2 * max(len(self.label_names), 3)
        lines = []
        for i in range(n):
            label = self.label_names[i % len(self.label_names)] if self.conditional else None
            text = self.sample(1, seed=_SAMPLE_SEED + i, label=label)[0]
            lines.append(f"[{label}] {text}" if label is not None else text)
        atomic_write_bytes(
            self.run_dir / "samples" / f"step-{step:06d}.txt", ("\n".join(lines) + "\n").encode()
        )

    # ---------------------------------------------------------------- use
    def _label_id(self, tok: TextTokenizer, label: str | int) -> int:
        """The class token of ``label`` (a name, or an id into ``label_names``)."""
        if not self.conditional:
            raise DataError(
                f"label={label!r} given, but this model is unconditional (trained without "
                "labels): sample without a label, or fit with labels"
            )
        names = self.label_names
        if isinstance(label, int | np.integer) and not isinstance(label, bool):
            label = names[int(label)] if 0 <= int(label) < len(names) else int(label)
        if not isinstance(label, str) or label not in names:
            known = ", ".join(f"{k}={name!r}" for k, name in enumerate(names))
            raise DataError(f"unknown label {label!r}; this model knows {known}")
        return tok.label_id(label)

    def _prefixes(
        self, n: int, generator: torch.Generator, label: str | int | None = None
    ) -> Tensor:
        """``(n, prefix_len)`` sampling prefixes: ``<bos>``, then the class token of
        ``label``, or (no label, conditional model) classes drawn from the training class
        frequencies with ``generator``."""
        tok = self._fitted()[0]
        prefix = torch.full((n, self._prefix_len), BOS, dtype=torch.long)
        if label is not None:
            prefix[:, 1] = self._label_id(tok, label)
        elif self.conditional:
            prior = torch.tensor(self.label_counts, dtype=torch.float)
            drawn = (
                torch.multinomial(prior, n, replacement=True, generator=generator)
                if n
                else prior[:0]
            )
            prefix[:, 1] = drawn.long() + len(SPECIALS)
        return prefix

    def _banned(self) -> list[int]:
        """Ids never sampled: padding, ``<bos>``, ``<unk>`` and the class tokens."""
        return [PAD, BOS, UNK, *range(len(SPECIALS), self._fitted()[0].num_special)]

    def sample(
        self,
        n: int,
        *,
        seed: int = 0,
        label: str | int | None = None,
        temperature: float = 1.0,
        top_p: float = 1.0,
    ) -> list[str]:
        """``n`` generated texts (same seed, same texts).

        ``label`` (a class name or id) asks a conditional model for that class; without it a
        conditional model draws each text's class from the training class frequencies.
        ``temperature`` (> 0) and ``top_p`` (nucleus mass in (0, 1]) shape the draws.
        """
        tok, net = self._fitted()
        check_sampling(temperature, top_p)
        n = check_int("n", n, minimum=0)
        gen = torch.Generator().manual_seed(int(seed))
        prefix, banned = self._prefixes(n, gen, label), self._banned()
        out: list[str] = []
        for start in range(0, n, 512):
            rows = sample(
                net,
                prefix[start : start + 512].to(self._device()),
                max_len=self.params["max_tokens"],
                generator=gen,
                temperature=temperature,
                top_p=top_p,
                banned=banned,
            )
            out += [tok.decode(r) for r in rows]
        return out

    def nll(self, texts: Any, labels: Any = None) -> float:
        """Mean negative log-likelihood per token, in nats, of ``texts`` (under their
        ``labels`` for a conditional model). Every predicted token counts, the closing
        ``<eos>`` included (so an empty text still costs its ``<eos>``); ``<bos>`` and the
        class token are given, not predicted. Texts are cut to ``max_tokens`` as in training.
        """
        tok, net = self._fitted()
        rows = check_texts(texts)
        row_labels = None
        if labels is not None:
            if not self.conditional:
                raise DataError("labels given, but this model is unconditional: pass labels=None")
            row_labels, _ = resolve_labels(labels, len(rows), self.label_names)
        elif self.conditional:
            raise DataError(
                f"this model is conditional on {self.label_names}: pass one label per text"
            )
        seqs = lm_sequences(tok, rows, row_labels, self.params["max_tokens"])
        total, count = nll_sum(net, seqs, self._prefix_len, 256, self._device())
        return total / max(count, 1)

    def perplexity(self, texts: Any, labels: Any = None) -> float:
        """``exp(nll(texts, labels))``: per-token perplexity under this model's tokenizer."""
        return math.exp(self.nll(texts, labels))

    # ---------------------------------------------------------------- persistence
    def save_pretrained(self, directory: str | Path) -> Path:
        """Write ``config.json``, ``model.safetensors``, ``tokenizer.json`` and ``README.md``."""
        return save_generator(self, directory)

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str = "cpu") -> MLETextGenerator:
        """Open a folder written by :meth:`save_pretrained` (JSON and safetensors only); a
        missing, corrupt or mismatched file raises ``DataError`` naming it."""
        return load_generator(cls, directory, device)
