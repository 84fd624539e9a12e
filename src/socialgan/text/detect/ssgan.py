"""``SSGANDetector``: a semi-supervised GAN text classifier in the style of GAN-BERT.

The game of Salimans et al. (2016), used for text by FakeGAN (Aghakhani et al., 2018) and
GAN-BERT (Croce et al., ACL 2020): an encoder maps texts to sentence vectors, a generator
maps noise to fake vectors, and a discriminator with ``K + 1`` outputs tells the K real
classes apart and real from fake. Unlabeled texts only enter the real-vs-fake term, which
pushes the class boundaries away from where real texts are dense.

Losses (written on logits with ``logsumexp``; class ``K`` is "fake"):

* D: ``-log p(y | x, real)`` on labeled texts (softmax over the K real logits)
  ``- log(1 - p_fake(x))`` on all real texts ``- log p_fake(G(z))`` on generated ones;
* G: ``-log(1 - p_fake(G(z)))`` plus feature matching
  ``|| mean f(x_real) - mean f(G(z)) ||^2`` on the discriminator's last hidden layer.

Two encoders: ``"lsa"`` (TF-IDF -> truncated SVD fitted on every text, labeled or not; then
only the MLPs train) and ``"charcnn"`` (the byte CNN + hashed n-gram bag of
:mod:`socialgan.text.detect.nets`, trained jointly with the discriminator, as BERT is in GAN-BERT).

Example:
    >>> from socialgan.text import SSGANDetector
    >>> texts = ["free money now", "nice song", "win a prize", "love this"] * 10
    >>> y = [1, 0, -1, -1] * 10  # -1: unlabeled
    >>> det = SSGANDetector(max_epochs=3).fit(texts, y, unlabeled_texts=["free prize"])
    >>> det.predict_proba(["free money"]).shape
    (1, 2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from socialgan.engine.utils import select_device
from socialgan.reproducibility import reproducible
from socialgan.text.detect.lsa import LSAEncoder
from socialgan.text.detect.nets import TextFeatures, make_optimizers
from socialgan.text.detect.neural import CharCNNSettings, class_weights, train_epochs
from socialgan.text.detect.neural_base import NeuralTextDetector, holdout_split, length_batches
from socialgan.text.detect.ssgan_game import (
    Discriminator,
    Generator,
    ssgan_discriminator_loss,
    ssgan_generator_loss,
)
from socialgan.text.features import preprocess_texts

__all__ = [
    "ENCODERS",
    "SSGANDetector",
    "ssgan_discriminator_loss",
    "ssgan_generator_loss",
]

ENCODERS = ("lsa", "charcnn")


class _Dense(nn.Module):
    """The identity encoder for precomputed (LSA) vectors."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.out_dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return x


class _RealLogits(nn.Module):
    """Encoder + discriminator, keeping the K real-class logits (for scoring)."""

    def __init__(self, encoder: nn.Module, discriminator: Discriminator) -> None:
        super().__init__()
        self.encoder = encoder
        self.discriminator = discriminator

    def forward(self, *batch: Tensor) -> Tensor:
        return self.discriminator(self.encoder(*batch))[0][:, :-1]


class _DenseFeatures:
    """Precomputed vectors with the ``batch``/``lengths`` interface of ``TextFeatures``."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.x)

    def lengths(self) -> np.ndarray:
        return np.zeros(len(self.x), dtype=np.int64)

    def batch(self, index: Any, device: torch.device | str = "cpu") -> tuple[Tensor]:
        return (self.x[torch.as_tensor(np.asarray(index, dtype=np.int64))].to(device),)


class _Cycle:
    """Endless similar-length batches of ``index`` (reshuffled after each pass)."""

    def __init__(
        self, index: np.ndarray, lengths: np.ndarray, size: int, rng: np.random.Generator
    ) -> None:
        self.index, self.lengths, self.size, self.rng = index, lengths, size, rng
        self.queue: list[np.ndarray] = []

    def next(self) -> np.ndarray:
        if not self.queue:
            self.queue = [self.index[b] for b in length_batches(self.lengths, self.size, self.rng)]
        return self.queue.pop()


class SSGANDetector(CharCNNSettings, NeuralTextDetector):
    """Semi-supervised GAN (GAN-BERT style) text classifier; learns from unlabeled texts too.

    Args:
        encoder: ``"lsa"`` (fixed TF-IDF -> SVD fitted on all texts) or ``"charcnn"`` (byte
            CNN + hashed n-grams trained jointly). Default lsa.
        lsa_dim: LSA representation size. Default 128.
        lsa_word_ngrams / lsa_char_ngrams / lsa_min_df: the LSA TF-IDF blocks.
            Defaults ``(1, 2)``, ``(2, 5)``, 2.
        max_len, embed_dim, filters, kernel_sizes, hash_ngrams, hash_buckets, hash_dim: the
            ``charcnn`` encoder (see :class:`~socialgan.text.detect.neural.CharCNNDetector`).
        noise_dim: generator input size. Default 100.
        hidden_dim: hidden width of generator and discriminator. Default 256.
        dropout: discriminator (input and hidden) and generator dropout. Default 0.1.
        feature_matching: weight of the generator's feature-matching term. Default 1.0.
        lr: AdamW learning rate of all parts. Default 1e-3.
        weight_decay: AdamW weight decay. Default 1e-4.
        batch_size: real texts per step (as many fakes are generated). Default 64.
        labeled_share: share of each real batch drawn from the labeled texts when there are
            unlabeled ones (small labeled sets are repeated). Default 0.5.
        max_epochs: epochs (fewer with early stopping); an epoch is one pass over the
            unlabeled texts (or the labeled ones if there are none), at least ``min_steps``
            steps. Default 10.
        min_steps: fewest steps per epoch. Default 20.
        patience: stop after this many epochs without a lower validation loss. Default 4.
        validation_fraction: stratified share of the labeled texts held out for early
            stopping (best epoch kept). Default 0: train ``max_epochs`` on every label. With
            few labels a held-out split costs labels and its loss is too noisy to stop on
            (on YouTube spam, 5-10% of the labels: about 3 points of accuracy lost).
        class_weight: ``None`` or ``"balanced"`` for the supervised term.
        preprocess, positive_labels, text_column, random_state, device, progress: as for
            :class:`~socialgan.text.detect.neural.CharCNNDetector`.

    ``threshold`` (attribute, default 0.5) is where a binary detector's ``predict`` flags;
    it is saved with the model.
    """

    model_type = "socialgan.text.SSGANDetector"

    encoder: str
    lsa_dim: int
    lsa_word_ngrams: Sequence[int] | None
    lsa_char_ngrams: Sequence[int] | None
    lsa_min_df: int
    noise_dim: int
    hidden_dim: int
    feature_matching: float
    labeled_share: float
    model_: _RealLogits

    def __init__(
        self,
        encoder: str = "lsa",
        lsa_dim: int = 128,
        lsa_word_ngrams: Sequence[int] | None = (1, 2),
        lsa_char_ngrams: Sequence[int] | None = (2, 5),
        lsa_min_df: int = 2,
        max_len: int = 512,
        embed_dim: int = 16,
        filters: int = 48,
        kernel_sizes: Sequence[int] = (3, 5, 7),
        hash_ngrams: int = 2,
        hash_buckets: int = 2**16,
        hash_dim: int = 64,
        noise_dim: int = 100,
        hidden_dim: int = 256,
        dropout: float = 0.1,
        feature_matching: float = 1.0,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 64,
        labeled_share: float = 0.5,
        max_epochs: int = 10,
        min_steps: int = 20,
        patience: int = 4,
        validation_fraction: float = 0.0,
        class_weight: str | None = None,
        preprocess: str = "web",
        positive_labels: Sequence[str] | None = None,
        text_column: str = "text",
        random_state: int = 0,
        device: str = "cpu",
        progress: bool = False,
    ) -> None:
        self._set_params(locals())

    # ----------------------------------------------------------------- pieces
    def _check_params(self) -> None:
        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, not {self.encoder!r}")
        if not 0.0 < self.labeled_share <= 1.0:
            raise ValueError(f"labeled_share must be in (0, 1], got {self.labeled_share}")
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be at least 2, got {self.batch_size}")

    def _featurize(self, texts: list[str]) -> TextFeatures | _DenseFeatures:
        clean = preprocess_texts(texts, self.preprocess)
        if self.encoder == "lsa":
            return _DenseFeatures(self.lsa_.transform(clean))
        return self._byte_features(clean)

    def _build(self, n_classes: int, in_dim: int) -> None:
        encoder: nn.Module
        if self.encoder == "lsa":
            encoder = _Dense(in_dim)
        else:
            encoder = self._byte_encoder()
        out_dim = int(encoder.out_dim)
        disc = Discriminator(out_dim, int(self.hidden_dim), n_classes, float(self.dropout))
        self.model_ = _RealLogits(encoder, disc)
        self.generator_ = Generator(
            int(self.noise_dim), int(self.hidden_dim), out_dim, float(self.dropout)
        )

    # ----------------------------------------------------------------- training
    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        label_names: Sequence[str] | None = None,
        unlabeled_texts: Sequence[str] | None = None,
    ) -> SSGANDetector:
        """Train on texts ``X`` with labels ``y`` (``-1`` marks an unlabeled row) and,
        optionally, more ``unlabeled_texts``.

        ``X`` may be a list, a ``DataFrame`` or a :class:`TextDataset` (whose labels and
        names are then the defaults). ``label_names[k]`` names integer label ``k``.
        """
        self._check_params()
        texts, y_enc = self._fit_inputs(X, y, label_names, allow_unlabeled=True)
        if unlabeled_texts is not None:
            extra = self._input_texts(unlabeled_texts)
            texts = texts + extra
            y_enc = np.concatenate([y_enc, np.full(len(extra), -1, dtype=np.int64)])
        device = select_device(self.device)
        with reproducible(self.random_state, device):
            self._train(texts, y_enc, device)
        return self

    def _train(self, texts: list[str], y_enc: np.ndarray, device: torch.device) -> None:
        """Fit the encoder (LSA), build the nets and play the game with early stopping."""
        labeled = np.flatnonzero(y_enc >= 0)
        unlabeled = np.flatnonzero(y_enc < 0)
        split_train, split_val = holdout_split(
            y_enc[labeled], self.validation_fraction, self.random_state
        )
        train_lab, val_lab = labeled[split_train], labeled[split_val]
        if self.encoder == "lsa":
            self.lsa_ = LSAEncoder(
                int(self.lsa_dim),
                self.lsa_word_ngrams,
                self.lsa_char_ngrams,
                int(self.lsa_min_df),
                self.random_state,
            ).fit(preprocess_texts(texts, self.preprocess))
        feats = self._featurize(texts)
        n_classes = len(self.classes_)
        weight = class_weights(y_enc[train_lab], n_classes, self.class_weight)
        self._loss_weight = None if weight is None else weight.to(device)
        labels = torch.from_numpy(y_enc).to(device)
        rng = np.random.default_rng(self.random_state)
        lengths = feats.lengths()
        n_lab = self.batch_size
        if len(unlabeled):
            n_lab = max(1, min(self.batch_size - 1, round(self.batch_size * self.labeled_share)))
        lab_cycle = _Cycle(train_lab, lengths[train_lab], n_lab, rng)
        unl_cycle = _Cycle(unlabeled, lengths[unlabeled], self.batch_size - n_lab, rng)
        pool, per_step = (
            (unlabeled, self.batch_size - n_lab) if len(unlabeled) else (train_lab, n_lab)
        )
        steps = max(self.min_steps, math.ceil(len(pool) / per_step))
        in_dim = feats.x.shape[1] if isinstance(feats, _DenseFeatures) else 0
        self._build(n_classes, in_dim)
        model, gen = self.model_.to(device), self.generator_.to(device)
        opts = make_optimizers([model, gen], self.lr, self.weight_decay)

        def run_epoch() -> dict[str, float]:
            model.train()
            gen.train()
            sums = np.zeros(2)
            for _ in range(steps):
                parts = [lab_cycle.next()] + ([unl_cycle.next()] if len(unlabeled) else [])
                real = torch.cat([model.encoder(*feats.batch(p, device)) for p in parts])
                sums += self._game_step(model, gen, opts, real, labels[np.concatenate(parts)])
            return {"d_loss": sums[0] / steps, "g_loss": sums[1] / steps}

        train_epochs(self, model, run_epoch, feats, val_lab, labels, device, check_finite=True)
        self.n_labeled_, self.n_unlabeled_ = len(labeled), len(unlabeled)
        model.eval()

    def _game_step(
        self,
        model: _RealLogits,
        gen: Generator,
        opts: list[torch.optim.Optimizer],
        real: Tensor,
        real_labels: Tensor,
    ) -> np.ndarray:
        """One D step and one G step from the same discriminator weights; returns the two
        losses. G's loss sends gradients to G only (``backward(inputs=...)``)."""
        fake = gen(torch.randn(len(real), int(self.noise_dim), device=real.device))
        real_logits, real_f = model.discriminator(real)
        fake_logits, _ = model.discriminator(fake.detach())
        d_loss = ssgan_discriminator_loss(real_logits, fake_logits, real_labels, self._loss_weight)
        g_logits, fake_f = model.discriminator(fake)
        g_loss = ssgan_generator_loss(g_logits, real_f.detach(), fake_f, self.feature_matching)
        for opt in opts:
            opt.zero_grad(set_to_none=True)
        g_loss.backward(inputs=list(gen.parameters()))
        d_loss.backward()
        for opt in opts:
            opt.step()
        return np.array([float(d_loss.detach()), float(g_loss.detach())])

    # ----------------------------------------------------------------- persistence
    def _tensors(self) -> dict[str, torch.Tensor]:
        tensors = dict(self.model_.state_dict())
        if self.encoder == "lsa":
            _, arrays = self.lsa_.state()
            tensors.update({k: torch.from_numpy(np.array(v)) for k, v in arrays.items()})
        return tensors

    def _state_config(self) -> dict[str, Any]:
        lsa = self.lsa_.state()[0] if self.encoder == "lsa" else None
        return {
            "n_classes": len(self.classes_),
            "in_dim": self.lsa_.dim if self.encoder == "lsa" else 0,
            "lsa": lsa,
            "best_epoch": self.best_epoch_,
            "n_labeled": self.n_labeled_,
            "n_unlabeled": self.n_unlabeled_,
            "history": self.history_,
        }

    def _restore(self, state: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        self._check_params()
        if self.encoder == "lsa":
            arrays = {k: v.numpy() for k, v in tensors.items() if k.startswith("lsa.")}
            self.lsa_ = LSAEncoder.from_state(state["lsa"], arrays)
        self._build(int(state["n_classes"]), int(state["in_dim"]))
        self.model_.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("lsa.")})
        self.model_.to(select_device(self.device)).eval()
        self.best_epoch_ = int(state.get("best_epoch", 0))
        self.n_labeled_ = int(state.get("n_labeled", 0))
        self.n_unlabeled_ = int(state.get("n_unlabeled", 0))
        self.history_ = list(state.get("history", []))

    def _describe(self) -> str:
        if self.encoder == "lsa":
            enc = (
                f"LSA encoder (TF-IDF word {self.lsa_word_ngrams} + char_wb "
                f"{self.lsa_char_ngrams}-grams -> {self.lsa_dim}-d truncated SVD, fitted on "
                "labeled and unlabeled texts)"
            )
        else:
            enc = (
                f"byte CNN encoder ({self.filters} filters of widths {list(self.kernel_sizes)}"
                f", first {self.max_len} bytes) + hashed word n-grams, trained jointly"
            )
        return (
            f"Semi-supervised GAN (GAN-BERT style): {enc}; discriminator MLP "
            f"({self.hidden_dim} hidden, K+1 outputs), generator MLP from {self.noise_dim}-d "
            f"noise with feature matching; trained on {self.n_labeled_} labeled and "
            f"{self.n_unlabeled_} unlabeled texts. Probabilities are the K real classes "
            "renormalized."
        )
