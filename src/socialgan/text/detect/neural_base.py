"""What the PyTorch text detectors share: input checks, label encoding, logits and
probabilities, training helpers and persistence. Prediction at the stored (or a given)
threshold and the moderation hooks come from
:class:`~socialgan.text.detect.detector_api.TextDetectorMixin`; subclasses train inside
:func:`~socialgan.reproducibility.reproducible`, so a seed fixes the model.

Persistence is Hugging Face style and never pickles: ``config.json`` holds the
hyperparameters, labels and shapes; ``model.safetensors`` the tensors; ``README.md`` a short
model card. A reloaded detector scores exactly like the one that was saved.

Example:
    >>> from socialgan.text.detect.neural import CharCNNDetector
    >>> det = CharCNNDetector(max_epochs=2).fit(["free money", "nice song"] * 10, [1, 0] * 10)
    >>> det.save_pretrained("models/spam-cnn")
    >>> CharCNNDetector.from_pretrained("models/spam-cnn").predict(["free money now"])
    >>> # or socialgan.load("models/spam-cnn")
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from torch import nn

from socialgan.errors import DataError
from socialgan.loading import MODEL_FILE
from socialgan.text.data import TextDataset
from socialgan.text.detect.detector_api import TextDetectorMixin, encode_labels, split_text_input
from socialgan.text.detect.model_card import NEURAL_LIMITS, write_card
from socialgan.text.detect.nets import FeatureSource
from socialgan.text.detect.persistence import SavesPretrained, read_pretrained, restore_common
from socialgan.text.detect.self_training import UNLABELED

__all__ = [
    "BestState",
    "NeuralTextDetector",
    "encode_in_batches",
    "holdout_split",
    "length_batches",
]

_D = TypeVar("_D", bound="NeuralTextDetector")


def holdout_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified ``(train_index, validation_index)``; no validation rows when ``fraction``
    is 0 or the data is too small to hold out at least one text of every class."""
    n = len(y)
    everything = np.arange(n)
    n_val = int(round(fraction * n))
    classes, counts = np.unique(y, return_counts=True)
    if fraction <= 0 or n_val < len(classes) or n - n_val < len(classes) or counts.min() < 2:
        return everything, np.zeros(0, dtype=np.int64)
    train, val = train_test_split(everything, test_size=n_val, stratify=y, random_state=seed)
    return np.sort(train), np.sort(val)


def length_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """Shuffled batches of similar-length texts (less padding): shuffle, sort by length
    within windows of 50 batches, cut, shuffle the batches."""
    order = rng.permutation(len(lengths))
    window = 50 * batch_size
    batches: list[np.ndarray] = []
    for start in range(0, len(order), window):
        chunk = order[start : start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


class BestState:
    """Early stopping on a validation loss: keeps a copy of the best modules' weights."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best = float("inf")
        self.best_epoch = -1
        self.bad_epochs = 0
        self.state: dict[str, dict[str, torch.Tensor]] | None = None

    def update(self, loss: float, epoch: int, modules: dict[str, nn.Module]) -> bool:
        """Record ``loss``; returns True when training should stop."""
        if loss < self.best - 1e-6:
            self.best, self.best_epoch, self.bad_epochs = loss, epoch, 0
            self.state = {
                k: {n: t.detach().clone() for n, t in m.state_dict().items()}
                for k, m in modules.items()
            }
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def restore(self, modules: dict[str, nn.Module]) -> None:
        if self.state is not None:
            for k, m in modules.items():
                m.load_state_dict(self.state[k])


@torch.no_grad()
def encode_in_batches(
    model: nn.Module,
    feats: FeatureSource,
    index: np.ndarray,
    batch_size: int,
    device: torch.device,
) -> torch.Tensor:
    """``model(*feats.batch(...))`` for the rows ``index``, in eval mode, in batches of
    similar length; rows come back in the order of ``index``."""
    was_training = model.training
    model.eval()
    order = np.argsort(feats.lengths()[index], kind="stable")
    outs = [
        model(*feats.batch(index[order[i : i + batch_size]], device)).float().cpu()
        for i in range(0, len(order), batch_size)
    ]
    model.train(was_training)
    out = torch.cat(outs) if outs else torch.zeros(0)
    result = torch.empty_like(out)
    result[torch.from_numpy(order)] = out
    return result


class NeuralTextDetector(TextDetectorMixin, SavesPretrained, ClassifierMixin, BaseEstimator):
    """Base class: subclasses implement ``fit`` (which sets the torch module ``model_``),
    ``_featurize``, ``_state_config`` and ``_restore`` (``_tensors`` when ``model_``'s
    state dict is not all they learned), and take at least the
    hyperparameters annotated below as ``__init__`` arguments (stored by
    :meth:`_set_params`)."""

    dropout: float
    lr: float
    weight_decay: float
    batch_size: int
    max_epochs: int
    min_steps: int
    patience: int
    validation_fraction: float
    class_weight: str | None
    preprocess: str
    positive_labels: Sequence[str] | None
    text_column: str
    random_state: int
    device: str
    progress: bool
    model_: nn.Module
    classes_: np.ndarray
    label_names_: list[str]

    def _set_params(self, values: dict[str, Any]) -> None:
        """Store every ``__init__`` argument, unchanged, as the attribute of the same name
        (scikit-learn's convention). ``values`` is ``locals()`` taken first thing in
        ``__init__``."""
        for name, value in values.items():
            if name != "self":
                setattr(self, name, value)

    # ----------------------------------------------------------------- input handling
    def _input_texts(self, X: Any) -> list[str]:
        """Texts from a list, a ``DataFrame`` (``text_column``) or a :class:`TextDataset`."""
        return split_text_input(X, self.text_column)[0]

    def _fit_inputs(
        self, X: Any, y: Any, label_names: Sequence[str] | None, *, allow_unlabeled: bool
    ) -> tuple[list[str], np.ndarray]:
        """Check the training input; set ``classes_`` and ``label_names_``. Returns the texts
        and label ids ``0..K-1`` (``-1`` for unlabeled rows when ``allow_unlabeled``)."""
        if isinstance(X, TextDataset):
            y = X.labels if y is None else y
            label_names = X.label_names if label_names is None else label_names
        if y is None:
            raise DataError("fit needs labels y")
        texts = self._input_texts(X)
        if not texts:
            raise DataError("no texts to train on (empty input)")
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(texts):
            raise DataError(f"{len(y)} labels for {len(texts)} texts")
        labeled = np.ones(len(y), dtype=bool)
        if allow_unlabeled and y.dtype.kind in "iu":
            labeled = y != UNLABELED
        elif y.dtype.kind in "iu" and (y == UNLABELED).any():
            raise DataError(f"{type(self).__name__} needs every text labeled; found -1 labels")
        if y.dtype.kind == "f":
            raise DataError("labels must be integers or strings, not floats")
        self.classes_, enc, self.label_names_ = encode_labels(y[labeled], label_names)
        y_enc = np.full(len(y), UNLABELED, dtype=np.int64)
        y_enc[labeled] = enc
        return texts, y_enc

    # ----------------------------------------------------------------- prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ValueError(
                f"this {type(self).__name__} is not fitted: call fit() or from_pretrained()"
            )

    def _featurize(self, texts: list[str]) -> FeatureSource:
        """The input of ``model_`` for ``texts``; implemented by subclasses."""
        raise NotImplementedError

    def _logits(self, texts: list[str]) -> np.ndarray:
        """``(N, K)`` class logits: ``model_`` on :meth:`_featurize`'s batches."""
        feats = self._featurize(texts)
        device = next(self.model_.parameters()).device
        index = np.arange(len(texts))
        return encode_in_batches(self.model_, feats, index, 256, device).double().numpy()

    def _class_logits(self, X: Any) -> np.ndarray:
        """``(N, K)`` class logits of the texts ``X``."""
        self._check_fitted()
        texts = self._input_texts(X)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return self._logits(texts)

    def decision_function(self, X: Any) -> np.ndarray:
        """Binary: the log-odds ``(N,)`` of the positive class (its sigmoid is
        ``predict_proba(X)[:, 1]``); multi-class: the class logits ``(N, K)``."""
        logits = self._class_logits(X)
        return logits[:, 1] - logits[:, 0] if len(self.classes_) == 2 else logits

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(N, K)`` in the order of ``classes_``."""
        return softmax(self._class_logits(X), axis=1)

    # ----------------------------------------------------------------- persistence
    def json_params(self) -> dict[str, Any]:
        """Hyperparameters as JSON-ready values (what ``config.json`` stores)."""
        params = self.get_params()
        return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}

    def _tensors(self) -> dict[str, torch.Tensor]:
        """Learned tensors to save: ``model_``'s state dict (subclasses add their own)."""
        return dict(self.model_.state_dict())

    def _state_config(self) -> dict[str, Any]:
        """Learned JSON state (shapes, vocabularies, training history); subclasses."""
        raise NotImplementedError

    def _restore(self, state: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        """Rebuild the learned state from :meth:`_state_config` and :meth:`_tensors`."""
        raise NotImplementedError

    def _describe(self) -> str:
        """One line for the model card's Model section."""
        return type(self).__name__

    def _default_name(self) -> str:
        return "socialgan-" + type(self).__name__.lower().replace("detector", "")

    def _write_pretrained(self, directory: Path, config: dict[str, Any]) -> None:
        config["state"] = self._state_config()
        tensors = {k: v.detach().cpu().contiguous() for k, v in self._tensors().items()}
        save_file(tensors, str(directory / "model.safetensors"))
        (directory / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
        write_card(directory / "README.md", config, self._describe(), NEURAL_LIMITS)

    @classmethod
    def from_pretrained(cls: type[_D], directory: str | Path) -> _D:
        """Load a detector written by :meth:`save_pretrained` (JSON + safetensors only)."""
        directory = Path(directory)
        config, tensors = read_pretrained(directory, cls.model_type, load_file)
        try:
            params = {
                k: tuple(v) if isinstance(v, list) and k != "positive_labels" else v
                for k, v in config["params"].items()
            }
            det = cls(**params)
            restore_common(det, config)
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(
                f"{directory}: incomplete or inconsistent saved detector ({e})"
            ) from None
        try:
            det._restore(config["state"], tensors)
        except (KeyError, TypeError, ValueError, RuntimeError) as e:
            raise DataError(
                f"{directory / MODEL_FILE}: the weights do not fit config.json ({e}); "
                "were the two files saved together?"
            ) from None
        return det
