"""``CharCNNDetector``: a byte-level CNN plus a hashed word n-gram bag, trained from scratch.

No pretrained embeddings are needed (none can be downloaded here): the model reads UTF-8
bytes through parallel convolutions of widths 3/5/7 with a global max pool, beside a
fastText-style mean of hashed word uni+bigram embeddings, and a linear head for K classes.
scikit-learn style (hyperparameters in ``__init__``, learned state after ``fit``) and Hugging
Face style persistence (``config.json`` + ``model.safetensors`` + ``README.md``).
:class:`~socialgan.text.detect.ssgan.SSGANDetector` reuses the encoder settings
(:class:`CharCNNSettings`) and the early-stopping epoch loop (:func:`train_epochs`).

Example:
    >>> from socialgan.text import CharCNNDetector, load_youtube_spam
    >>> data = load_youtube_spam()
    >>> det = CharCNNDetector().fit(data.texts, data.labels, label_names=data.label_names)
    >>> det.predict_proba(["check out my channel http://x.co"])[:, 1]  # P(spam)
    >>> det.save_pretrained("models/spam-cnn")
    >>> CharCNNDetector.from_pretrained("models/spam-cnn").predict(["nice song"])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from socialgan.engine.utils import select_device
from socialgan.errors import TrainingError
from socialgan.reproducibility import reproducible
from socialgan.text.detect.nets import CharCNNEncoder, FeatureSource, TextFeatures, make_optimizers
from socialgan.text.detect.neural_base import (
    BestState,
    NeuralTextDetector,
    encode_in_batches,
    holdout_split,
    length_batches,
)
from socialgan.text.features import preprocess_texts

__all__ = [
    "CharCNNDetector",
    "CharCNNSettings",
    "class_weights",
    "encode_in_batches",
    "train_epochs",
    "validation_metrics",
]


def class_weights(y: np.ndarray, n_classes: int, mode: str | None) -> torch.Tensor | None:
    """``None``, or for ``"balanced"`` the weights ``n / (K * count_k)`` of scikit-learn
    (whose ``compute_class_weight`` refuses a class missing from ``y``, which a small
    training split can miss: such a class counts once here)."""
    if mode is None:
        return None
    if mode != "balanced":
        raise ValueError(f"class_weight must be None or 'balanced', not {mode!r}")
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    weights = len(y) / (n_classes * np.maximum(counts, 1.0))
    return torch.tensor(weights, dtype=torch.float32)


def validation_metrics(
    model: nn.Module,
    feats: FeatureSource,
    index: np.ndarray,
    labels: torch.Tensor,
    device: torch.device,
) -> dict[str, float]:
    """``{"val_loss", "val_accuracy"}`` of ``model``'s class logits on the rows ``index``."""
    logits = encode_in_batches(model, feats, index, 256, device)
    y = labels[torch.as_tensor(index)].cpu()
    return {
        "val_loss": float(F.cross_entropy(logits, y)),
        "val_accuracy": float((logits.argmax(1) == y).float().mean()),
    }


def train_epochs(
    det: NeuralTextDetector,
    model: nn.Module,
    run_epoch: Callable[[], dict[str, float]],
    feats: FeatureSource,
    val_index: np.ndarray,
    labels: torch.Tensor,
    device: torch.device,
    *,
    check_finite: bool = False,
    stop: Callable[[], bool] | None = None,
) -> None:
    """Up to ``det.max_epochs`` epochs of ``run_epoch`` (trains one epoch, returns its mean
    losses), each followed by :func:`validation_metrics` on the rows ``val_index`` when there
    are any: early stopping after ``det.patience`` epochs without a lower validation loss,
    the best epoch's weights restored into ``model``. Sets ``det.history_`` (one record per
    epoch) and ``det.best_epoch_``. ``check_finite``: a non-finite record raises
    :class:`~socialgan.errors.TrainingError`. ``stop``: called after each epoch; True ends
    training there (a time budget)."""
    best = BestState(det.patience)
    det.history_ = []
    bar = tqdm(range(det.max_epochs), desc="epochs", disable=not det.progress)
    for epoch in bar:
        record = {"epoch": float(epoch + 1), **run_epoch()}
        if len(val_index):
            record.update(validation_metrics(model, feats, val_index, labels, device))
            bar.set_postfix(val_loss=f"{record['val_loss']:.4f}")
        det.history_.append(record)
        if check_finite and not all(math.isfinite(v) for v in record.values()):
            raise TrainingError(f"training diverged at epoch {epoch + 1}: {record}")
        if len(val_index) and best.update(record["val_loss"], epoch + 1, {"m": model}):
            break
        if stop is not None and stop():
            break
    best.restore({"m": model})
    det.best_epoch_ = best.best_epoch if best.state is not None else len(det.history_)


class CharCNNSettings:
    """The byte CNN + hashed n-gram encoder's hyperparameters (see :class:`CharCNNDetector`)
    and what is built from them; mixed into ``CharCNNDetector`` and ``SSGANDetector``
    (``encoder="charcnn"``), which take these as ``__init__`` arguments."""

    max_len: int
    embed_dim: int
    filters: int
    kernel_sizes: Sequence[int]
    hash_ngrams: int
    hash_buckets: int
    hash_dim: int

    def _hash_dim(self) -> int:
        """The n-gram embedding size, 0 when the word branch is off."""
        return int(self.hash_dim) if self.hash_ngrams > 0 else 0

    def _byte_features(self, clean: list[str]) -> TextFeatures:
        """The encoder's input for preprocessed texts ``clean``."""
        return TextFeatures.encode(
            clean,
            max_len=int(self.max_len),
            hash_ngrams=int(self.hash_ngrams) if self._hash_dim() else 0,
            hash_buckets=int(self.hash_buckets),
            min_len=max(int(k) for k in self.kernel_sizes),
        )

    def _byte_encoder(self) -> CharCNNEncoder:
        """A freshly initialized encoder (torch's global generator draws the weights, seeded
        by the :func:`~socialgan.reproducibility.reproducible` block of ``fit``)."""
        return CharCNNEncoder(
            embed_dim=int(self.embed_dim),
            filters=int(self.filters),
            kernel_sizes=tuple(int(k) for k in self.kernel_sizes),
            hash_buckets=int(self.hash_buckets),
            hash_dim=self._hash_dim(),
        )


class _Classifier(nn.Module):
    """Encoder -> dropout -> linear head."""

    def __init__(self, encoder: CharCNNEncoder, n_classes: int, dropout: float) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.out_dim, n_classes)

    def forward(self, *batch: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.encoder(*batch)))


class CharCNNDetector(CharCNNSettings, NeuralTextDetector):
    """Byte CNN (+ hashed word n-gram bag) text classifier trained from scratch.

    Args:
        max_len: UTF-8 bytes read per text; longer texts are truncated. Default 512.
        embed_dim: byte embedding size. Default 16.
        filters: channels per convolution. Default 48.
        kernel_sizes: widths of the parallel convolutions. Default ``(3, 5, 7)``.
        hash_ngrams: word n-gram order of the hashed bag (2: uni+bigrams); 0 turns the word
            branch off. Default 2.
        hash_buckets: rows of the hashed n-gram table. Default ``2**16``.
        hash_dim: n-gram embedding size (0 turns the word branch off). Default 64.
        dropout: dropout before the head. Default 0.3.
        lr: AdamW learning rate. Default 3e-3.
        weight_decay: AdamW weight decay. Default 1e-4.
        batch_size: texts per step. Default 32.
        max_epochs: most passes over the training texts. Default 20.
        min_steps: fewest optimizer steps per epoch (small training sets repeat their texts
            so that an epoch is not a single step). Default 20.
        patience: stop after this many epochs without a lower validation loss. Default 3.
        validation_fraction: stratified share of the training texts held out for early
            stopping (the weights of the best epoch are kept); 0 trains ``max_epochs`` on
            everything. Default 0.1.
        class_weight: ``None`` or ``"balanced"``. Default None.
        preprocess: text clean-up (``"web"`` or ``"none"``, see ``features``). Default web.
        positive_labels: label names that count as "flagged" in moderation; ``None`` means
            the last class of a binary problem.
        text_column: the text column when X is a ``DataFrame``. Default ``"text"``.
        random_state: seed of initialization, dropout, batches and the validation split:
            the same seed, data and torch thread count give the same model.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``. Default cpu.
        progress: show a tqdm bar over epochs. Default False.

    ``threshold`` (attribute, default 0.5) is where a binary detector's ``predict`` flags;
    it is saved with the model.
    """

    model_type = "socialgan.text.CharCNNDetector"

    def __init__(
        self,
        max_len: int = 512,
        embed_dim: int = 16,
        filters: int = 48,
        kernel_sizes: Sequence[int] = (3, 5, 7),
        hash_ngrams: int = 2,
        hash_buckets: int = 2**16,
        hash_dim: int = 64,
        dropout: float = 0.3,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 32,
        max_epochs: int = 20,
        min_steps: int = 20,
        patience: int = 3,
        validation_fraction: float = 0.1,
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
    def _featurize(self, texts: list[str]) -> TextFeatures:
        if self.max_len < 1 or self.batch_size < 1:
            raise ValueError(
                f"max_len and batch_size must be at least 1, got {self.max_len}, {self.batch_size}"
            )
        return self._byte_features(preprocess_texts(texts, self.preprocess))

    def _build(self, n_classes: int) -> None:
        self.model_ = _Classifier(self._byte_encoder(), n_classes, float(self.dropout))

    # ----------------------------------------------------------------- training
    def fit(
        self, X: Any, y: Any = None, *, label_names: Sequence[str] | None = None
    ) -> CharCNNDetector:
        """Train on texts ``X`` (a list, a ``DataFrame`` or a :class:`TextDataset`, whose own
        labels and names are then the defaults) with labels ``y``.

        ``label_names[k]`` names integer label ``k``; string labels name themselves.
        """
        texts, y_enc = self._fit_inputs(X, y, label_names, allow_unlabeled=False)
        device = select_device(self.device)
        with reproducible(self.random_state, device):
            self._train(self._featurize(texts), y_enc, device)
        return self

    def _train(self, feats: TextFeatures, y_enc: np.ndarray, device: torch.device) -> None:
        """Build ``model_`` and train it with early stopping on a held-out split."""
        n_classes = len(self.classes_)
        train_idx, val_idx = holdout_split(y_enc, self.validation_fraction, self.random_state)
        rng = np.random.default_rng(self.random_state)
        weight = class_weights(y_enc[train_idx], n_classes, self.class_weight)
        if weight is not None:
            weight = weight.to(device)
        labels = torch.from_numpy(y_enc).to(device)
        lengths = feats.lengths()[train_idx]
        self._build(n_classes)
        model = self.model_.to(device)
        opts = make_optimizers([model], self.lr, self.weight_decay)

        def run_epoch() -> dict[str, float]:
            model.train()
            losses = []
            batches: list[np.ndarray] = []
            while len(batches) < self.min_steps or not batches:
                batches += length_batches(lengths, self.batch_size, rng)
            for b in batches:
                idx = train_idx[b]
                logits = model(*feats.batch(idx, device))
                loss = F.cross_entropy(logits, labels[idx], weight=weight)
                for opt in opts:
                    opt.zero_grad(set_to_none=True)
                loss.backward()
                for opt in opts:
                    opt.step()
                losses.append(float(loss.detach()))
            return {"train_loss": float(np.mean(losses))}

        train_epochs(self, model, run_epoch, feats, val_idx, labels, device)
        model.eval()

    # ----------------------------------------------------------------- persistence
    def _state_config(self) -> dict[str, Any]:
        return {
            "n_classes": len(self.classes_),
            "best_epoch": self.best_epoch_,
            "history": self.history_,
        }

    def _restore(self, state: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        self._build(int(state["n_classes"]))
        self.model_.load_state_dict(tensors)
        self.model_.to(select_device(self.device)).eval()
        self.best_epoch_ = int(state.get("best_epoch", 0))
        self.history_ = list(state.get("history", []))

    def _describe(self) -> str:
        words = (
            f" + mean of hashed word 1..{self.hash_ngrams}-grams ({self.hash_buckets} buckets, "
            f"dim {self.hash_dim})"
            if self._hash_dim()
            else ""
        )
        return (
            f"Byte CNN (first {self.max_len} UTF-8 bytes, embedding {self.embed_dim}, "
            f"{self.filters} filters of widths {list(self.kernel_sizes)}, global max pool)"
            f"{words}, dropout {self.dropout}, linear head; trained from scratch with AdamW "
            f"(lr {self.lr}), early stopping on a {self.validation_fraction:.0%} validation split."
        )
