"""A fixed sentence representation for small data: TF-IDF n-grams -> truncated SVD (LSA).

Fitted without labels, so every available text (labeled or not) shapes it; that is one
way unlabeled comments help a semi-supervised detector. Stored as JSON vocabularies plus
arrays (idf, SVD basis, centering), never pickled; a reloaded encoder
gives bit-identical outputs.

Example:
    >>> from socialgan.text.detect.lsa import LSAEncoder
    >>> enc = LSAEncoder(n_components=2).fit(["free money now", "nice song", "free song"])
    >>> enc.transform(["free money"]).shape
    (1, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD

from socialgan.errors import DataError
from socialgan.text.features import make_vectorizer, restore_vectorizer, vectorizer_state

__all__ = ["LSAEncoder"]


class LSAEncoder:
    """Word + char_wb TF-IDF, truncated SVD, then centering and one global scaling.

    Args:
        n_components: size of the representation (capped by the data). Default 128.
        word_ngrams: word n-gram range, or ``None``. Default ``(1, 2)``.
        char_ngrams: ``char_wb`` n-gram range, or ``None``. Default ``(2, 5)``.
        min_df: drop terms seen in fewer texts (keeps the stored vocabulary small). Default 2.
        random_state: seed of the randomized SVD. Default 0.
    """

    def __init__(
        self,
        n_components: int = 128,
        word_ngrams: Sequence[int] | None = (1, 2),
        char_ngrams: Sequence[int] | None = (2, 5),
        min_df: int = 2,
        random_state: int = 0,
    ) -> None:
        self.n_components = n_components
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.random_state = random_state
        self.vectorizers: dict[str, Any] = {}
        self.components = np.zeros((0, 0))
        self.mean = np.zeros(0)
        self.std = np.ones(0)

    def _settings(self, ngrams: Sequence[int], analyzer: str, min_df: int) -> dict[str, Any]:
        return {
            "analyzer": analyzer,
            "ngram_range": [int(ngrams[0]), int(ngrams[1])],
            "sublinear_tf": True,
            "min_df": min_df,
            "max_df": 1.0,
            "lowercase": True,
            "max_features": None,
        }

    def _blocks(self) -> list[tuple[str, Sequence[int], str]]:
        blocks = [
            (name, ngrams, analyzer)
            for name, ngrams, analyzer in (
                ("word", self.word_ngrams, "word"),
                ("char", self.char_ngrams, "char_wb"),
            )
            if ngrams is not None
        ]
        if not blocks:
            raise ValueError("LSAEncoder needs word_ngrams or char_ngrams")
        return blocks

    @property
    def dim(self) -> int:
        """Size of the output representation."""
        return int(self.components.shape[0])

    def _tfidf(self, texts: Sequence[str]) -> sp.csr_matrix:
        return sp.hstack([vec.transform(texts) for vec in self.vectorizers.values()], format="csr")

    def fit(self, texts: Sequence[str]) -> LSAEncoder:
        """Learn vocabularies, idf and the SVD basis from ``texts`` (no labels)."""
        if len(texts) < 3:
            raise DataError(f"LSAEncoder needs at least 3 texts, got {len(texts)}")
        self.vectorizers = {}
        blocks = []
        for name, ngrams, analyzer in self._blocks():
            min_df = self.min_df if len(texts) >= 10 * self.min_df else 1
            vec = make_vectorizer(**self._settings(ngrams, analyzer, min_df))
            try:
                blocks.append(vec.fit_transform(texts))
            except ValueError:  # empty vocabulary (e.g. no words at all)
                continue
            self.vectorizers[name] = vec
        if not blocks:
            raise DataError("no n-grams found in the texts (are they all empty?)")
        x = sp.hstack(blocks, format="csr")
        k = max(1, min(int(self.n_components), x.shape[1] - 1, len(texts) - 1))
        svd = TruncatedSVD(k, random_state=self.random_state).fit(x)
        # Rounded to float32 (half the file) before anything uses it, so a reloaded
        # encoder computes exactly what this one does.
        self.components = np.asarray(svd.components_, dtype=np.float32).astype(np.float64)
        z = np.asarray(x @ self.components.T)
        self.mean = z.mean(axis=0)
        # One scale for all components (unit mean variance): per-component scaling would
        # blow the weak, noisy components up to the size of the main topics.
        scale = float(np.sqrt(np.mean((z - self.mean) ** 2)))
        self.std = np.full(k, scale if scale > 1e-12 else 1.0)
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """``(N, dim)`` float32 centered LSA coordinates, scaled to unit mean variance."""
        if not self.vectorizers:
            raise ValueError("LSAEncoder is not fitted")
        z = np.asarray(self._tfidf(texts) @ self.components.T)
        return ((z - self.mean) / self.std).astype(np.float32)

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(json_config, arrays)`` for persistence (float32 basis, float64 the rest)."""
        config: dict[str, Any] = {"vectorizers": {}, "vocabularies": {}}
        arrays: dict[str, np.ndarray] = {
            "lsa.components": self.components.astype(np.float32),
            "lsa.mean": self.mean,
            "lsa.std": self.std,
        }
        for name, vec in self.vectorizers.items():
            vocab, idf = vectorizer_state(vec)
            config["vocabularies"][name] = vocab
            config["vectorizers"][name] = self._settings(
                vec.ngram_range, vec.analyzer, int(vec.min_df)
            )
            arrays[f"lsa.idf.{name}"] = idf
        return config, arrays

    @classmethod
    def from_state(cls, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> LSAEncoder:
        """Rebuild an encoder saved with :meth:`state`."""
        enc = cls(n_components=int(arrays["lsa.components"].shape[0]))
        enc.vectorizers = {
            name: restore_vectorizer(
                settings, config["vocabularies"][name], arrays[f"lsa.idf.{name}"]
            )
            for name, settings in config["vectorizers"].items()
        }
        enc.components = np.asarray(arrays["lsa.components"], dtype=np.float64)
        enc.mean = np.asarray(arrays["lsa.mean"], dtype=np.float64)
        enc.std = np.asarray(arrays["lsa.std"], dtype=np.float64)
        n_terms = sum(len(v.vocabulary_) for v in enc.vectorizers.values())
        if enc.components.shape[1] != n_terms:
            raise DataError(f"SVD basis has {enc.components.shape[1]} terms, vocabulary {n_terms}")
        return enc
