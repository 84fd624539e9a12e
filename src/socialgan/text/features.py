"""Feature blocks of the classic detector: TF-IDF vectorizers and metadata encoding.

Each block can be rebuilt from plain JSON + float arrays (no pickles): a vectorizer from its
settings, vocabulary ``{term: column}`` and ``idf`` vector; the metadata encoder from its
category vocabularies and the mean/std of its numeric columns.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from socialgan.errors import DataError

__all__ = [
    "PREPROCESSORS",
    "STYLE_FEATURES",
    "MetaEncoder",
    "StyleEncoder",
    "make_vectorizer",
    "preprocess_texts",
    "restore_vectorizer",
    "style_matrix",
    "vectorizer_state",
]

_LINK = re.compile(r"<a\s[^>]*?href=[\"']([^\"']*)[\"'][^>]*>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
_SPACE = re.compile(r"[\s\u00a0\u200b\ufeff]+")


def web_text(text: str) -> str:
    """Undo web markup and look-alike characters: HTML entities (``&#39;``), tags
    (``<br />``; links keep their URL), Unicode compatibility forms (NFKC: full-width
    ``ｈｔｔｐ`` -> ``http``), odd spaces. Crawled comments are HTML-escaped while live
    text usually is not."""
    text = unicodedata.normalize("NFKC", html.unescape(text))
    text = _LINK.sub(r" \1 ", text)
    text = _TAG.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


#: Named text clean-ups applied before the vectorizers (stored by name in ``config.json``).
PREPROCESSORS = {"none": None, "web": web_text}


def preprocess_texts(texts: list[str], name: str) -> list[str]:
    """Apply the named preprocessor of :data:`PREPROCESSORS` to every text."""
    if name not in PREPROCESSORS:
        raise ValueError(f"preprocess must be one of {sorted(PREPROCESSORS)}, not {name!r}")
    fn = PREPROCESSORS[name]
    return texts if fn is None else [fn(t) for t in texts]


def make_vectorizer(
    analyzer: str,
    ngram_range: Sequence[int],
    *,
    sublinear_tf: bool,
    min_df: int | float,
    max_df: float,
    lowercase: bool,
    max_features: int | None,
    vocabulary: dict[str, int] | None = None,
) -> TfidfVectorizer:
    """A ``TfidfVectorizer`` for ``analyzer`` ``"word"``, ``"char_wb"`` or ``"char"``
    (float64, l2 norm)."""
    return TfidfVectorizer(
        analyzer=analyzer,
        ngram_range=(int(ngram_range[0]), int(ngram_range[1])),
        sublinear_tf=sublinear_tf,
        min_df=min_df,
        max_df=max_df,
        lowercase=lowercase,
        max_features=max_features,
        vocabulary=vocabulary,
        dtype=np.float64,
    )


def vectorizer_state(vec: TfidfVectorizer) -> tuple[dict[str, int], np.ndarray]:
    """``(vocabulary, idf)`` of a fitted vectorizer, JSON- and safetensors-ready."""
    vocab = {str(term): int(col) for term, col in vec.vocabulary_.items()}
    return vocab, np.ascontiguousarray(vec.idf_, dtype=np.float64)


def restore_vectorizer(
    settings: dict[str, Any], vocabulary: dict[str, int], idf: np.ndarray
) -> TfidfVectorizer:
    """Rebuild a fitted vectorizer: fixed ``vocabulary_`` plus the saved ``idf_`` vector."""
    if len(vocabulary) != len(idf):
        raise DataError(f"vocabulary has {len(vocabulary)} terms but idf has {len(idf)} values")
    vec = make_vectorizer(**settings, vocabulary=vocabulary)
    vec.idf_ = np.asarray(idf, dtype=np.float64)  # also validates and sets vocabulary_
    return vec


_URL = re.compile(r"https?://|www\.|\.(?:com|net|org|ly|pl|co)\b", re.IGNORECASE)
#: Names of the surface-style features of :class:`StyleEncoder`, in column order.
STYLE_FEATURES = (
    "log_chars",
    "log_words",
    "has_url",
    "log_urls",
    "digit_share",
    "upper_share",
    "log_exclamations",
    "log_questions",
    "non_ascii_share",
    "mean_word_length",
)


def style_matrix(texts: Sequence[str]) -> np.ndarray:
    """``(N, len(STYLE_FEATURES))`` raw surface statistics of each text.

    TF-IDF rows are length-normalized, so the length, links, digits and shouting that mark
    much spam are invisible to them; these few numbers put that back.
    """
    rows = np.zeros((len(texts), len(STYLE_FEATURES)), dtype=np.float64)
    for i, t in enumerate(texts):
        n = max(len(t), 1)
        words = t.split()
        urls = len(_URL.findall(t))
        rows[i] = (
            np.log1p(len(t)),
            np.log1p(len(words)),
            float(urls > 0),
            np.log1p(urls),
            sum(c.isdigit() for c in t) / n,
            sum(c.isupper() for c in t) / n,
            np.log1p(t.count("!")),
            np.log1p(t.count("?")),
            sum(not c.isascii() for c in t) / n,
            sum(len(w) for w in words) / len(words) if words else 0.0,
        )
    return rows


class StyleEncoder:
    """Standardized :func:`style_matrix` features (mean/std of the training texts)."""

    def __init__(self) -> None:
        self.mean = np.zeros(len(STYLE_FEATURES))
        self.std = np.ones(len(STYLE_FEATURES))

    def fit(self, texts: Sequence[str]) -> StyleEncoder:
        x = style_matrix(texts)
        self.mean = x.mean(axis=0)
        std = x.std(axis=0)
        self.std = np.where(std > 0, std, 1.0)
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        return sp.csr_matrix((style_matrix(texts) - self.mean) / self.std)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"style.mean": self.mean.copy(), "style.std": self.std.copy()}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> StyleEncoder:
        enc = cls()
        enc.mean = np.asarray(arrays["style.mean"], dtype=np.float64)
        enc.std = np.asarray(arrays["style.std"], dtype=np.float64)
        return enc


def _tokens(value: Any, sep: str) -> list[str]:
    """Categorical value -> normalized tokens (``"a, B"`` -> ``["a", "b"]``); missing -> []."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    parts = str(value).split(sep) if sep else [str(value)]
    return [p.strip().lower() for p in parts if p.strip()]


class MetaEncoder:
    """Encode metadata columns as one sparse block.

    Numeric columns become one standardized feature each (``log1p`` first when all training
    values are non-negative, as for counts). Other columns become multi-hot indicators of
    their ``sep``-separated, lower-cased values seen at least ``min_count`` times. Missing
    columns or values at prediction time encode as "unknown": zero indicators, mean numbers.
    """

    def __init__(self, columns: Sequence[str], min_count: int = 1, sep: str = ",") -> None:
        self.columns = list(columns)
        self.min_count = min_count
        self.sep = sep
        self.kinds: dict[str, str] = {}
        self.vocab: dict[str, dict[str, int]] = {}
        self.log: dict[str, bool] = {}
        self.mean = np.zeros(0)
        self.std = np.ones(0)

    @property
    def numeric_columns(self) -> list[str]:
        return [c for c in self.columns if self.kinds.get(c) == "numeric"]

    @property
    def n_features(self) -> int:
        return len(self.numeric_columns) + sum(len(v) for v in self.vocab.values())

    def fit(self, frame: pd.DataFrame | None) -> MetaEncoder:
        if frame is None:
            raise DataError(f"meta columns {self.columns} requested but the input has no metadata")
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise DataError(
                f"meta column(s) {missing} not in the input; found: {list(frame.columns)}"
            )
        means, stds = [], []
        for col in self.columns:
            series = frame[col]
            if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
                x = series.to_numpy(dtype=np.float64)
                ok = x[np.isfinite(x)]
                self.kinds[col] = "numeric"
                self.log[col] = bool(ok.size and ok.min() >= 0)
                z = np.log1p(ok) if self.log[col] else ok
                means.append(float(z.mean()) if z.size else 0.0)
                stds.append(float(z.std()) if z.size and z.std() > 0 else 1.0)
            else:
                counts = Counter(t for v in series for t in _tokens(v, self.sep))
                kept = sorted(t for t, n in counts.items() if n >= self.min_count)
                self.kinds[col] = "categorical"
                self.vocab[col] = {t: i for i, t in enumerate(kept)}
        self.mean, self.std = np.array(means, dtype=np.float64), np.array(stds, dtype=np.float64)
        return self

    def transform(self, frame: pd.DataFrame | None, n: int) -> sp.csr_matrix:
        """``(n, n_features)`` block; absent columns or values count as unknown."""
        blocks: list[sp.csr_matrix] = []
        num_cols = self.numeric_columns
        if num_cols:
            dense = np.zeros((n, len(num_cols)), dtype=np.float64)
            for j, col in enumerate(num_cols):
                if frame is None or col not in frame.columns:
                    continue
                x = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
                if self.log[col]:
                    x = np.log1p(np.clip(x, 0, None))
                z = (x - self.mean[j]) / self.std[j]
                dense[:, j] = np.where(np.isfinite(z), z, 0.0)
            blocks.append(sp.csr_matrix(dense))
        for col in self.columns:
            if self.kinds.get(col) != "categorical":
                continue
            vocab = self.vocab[col]
            rows, cols = [], []
            if frame is not None and col in frame.columns:
                for i, v in enumerate(frame[col]):
                    for t in _tokens(v, self.sep):
                        if t in vocab:
                            rows.append(i)
                            cols.append(vocab[t])
            data = np.ones(len(rows), dtype=np.float64)
            block = sp.csr_matrix((data, (rows, cols)), shape=(n, len(vocab)), dtype=np.float64)
            block.sum_duplicates()
            block.data[:] = 1.0
            blocks.append(block)
        if not blocks:
            return sp.csr_matrix((n, 0), dtype=np.float64)
        return sp.hstack(blocks, format="csr", dtype=np.float64)

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(json_config, arrays)`` for persistence."""
        config = {
            "columns": self.columns,
            "min_count": self.min_count,
            "sep": self.sep,
            "kinds": self.kinds,
            "log": self.log,
            "vocab": self.vocab,
        }
        return config, {"meta.mean": self.mean.copy(), "meta.std": self.std.copy()}

    @classmethod
    def from_state(cls, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> MetaEncoder:
        enc = cls(config["columns"], config["min_count"], config["sep"])
        enc.kinds = dict(config["kinds"])
        enc.log = {k: bool(v) for k, v in config["log"].items()}
        enc.vocab = {k: {t: int(i) for t, i in v.items()} for k, v in config["vocab"].items()}
        enc.mean = np.asarray(arrays["meta.mean"], dtype=np.float64)
        enc.std = np.asarray(arrays["meta.std"], dtype=np.float64)
        return enc
