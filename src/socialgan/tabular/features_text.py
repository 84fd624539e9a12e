"""The string features of account rows: names, free text, status dumps, hashed TF-IDF.

Helpers of :class:`~socialgan.tabular.features.AccountFeatures`, one list of strings (a
column) in, one float64 array per feature out. The hashed TF-IDF uses scikit-learn's
``HashingVectorizer`` (MurmurHash3: the same columns in every process, whatever
``PYTHONHASHSEED``), so its only learned state is the ``idf`` vector of each block.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

__all__ = [
    "hashed_idf",
    "hashed_tfidf",
    "is_missing",
    "name_patterns",
    "name_similarity",
    "status_parts",
    "strings",
    "text_stats",
]

_URL = re.compile(r"https?://|www\.", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<!\w)#\w+")
_MENTION = re.compile(r"(?<!\w)@\w+")
_TRAILING_DIGITS = re.compile(r"\d+$")
_DUMP = re.compile(r"^\s*(?:\{|Status\()")
_TEXT_FIELD = re.compile(
    r"""(?<![\w.])u?['"]?text['"]?\s*[:=]\s*u?(?P<q>['"])(?P<text>(?:\\.|(?!(?P=q)).)*)(?P=q)""",
    re.DOTALL,
)
_SOURCE_FIELD = re.compile(r"""(?<!\w)source['"]?\s*[:=]\s*u?['"](?:<a[^>]*>)?(?P<src>[^<'"]*)""")


def status_parts(value: Any) -> tuple[str, str | None]:
    """``(tweet text, client)`` of a status cell. A dump of Twitter's JSON or of tweepy's
    ``Status(...)`` gives its first ``text`` field (``\\n`` escapes as spaces) and the name
    of its ``source`` client (``twittbot.net``); any other string is its own text."""
    text = "" if is_missing(value) else str(value)
    if not _DUMP.match(text):
        return text, None
    found = _TEXT_FIELD.search(text)
    source = _SOURCE_FIELD.search(text)
    tweet = found.group("text").replace("\\n", " ") if found else ""
    client = source.group("src").strip().lower() if source else None
    return tweet, client or None


def strings(series: pd.Series) -> list[str]:
    """Every cell as a string, ``""`` where missing."""
    return ["" if is_missing(v) else str(v) for v in series.tolist()]


def is_missing(value: Any) -> bool:
    """``None``, NaN, NaT or ``pd.NA`` (a string never is)."""
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def name_patterns(names: list[str]) -> dict[str, np.ndarray]:
    """The screen-name / name features of each string."""
    n = np.array([len(s) for s in names], dtype=np.float64)
    digits = np.array([sum(c.isdigit() for c in s) for s in names], dtype=np.float64)
    upper = np.array([sum(c.isupper() for c in s) for s in names], dtype=np.float64)
    trailing = [_TRAILING_DIGITS.search(s) for s in names]
    return {
        "length": n,
        "digits": digits,
        "digit_share": digits / np.maximum(n, 1),
        "trailing_digits": np.array([len(m.group()) if m else 0 for m in trailing], float),
        "upper_share": upper / np.maximum(n, 1),
        "underscores": np.array([s.count("_") for s in names], dtype=np.float64),
        "has_bot": np.array(["bot" in s.lower() for s in names], dtype=np.float64),
    }


def name_similarity(a: str, b: str) -> float:
    """``difflib`` ratio of the lower-cased letters and digits of two names (0 if empty)."""
    a, b = (re.sub(r"[\W_]+", "", s.lower()) for s in (a, b))
    return difflib.SequenceMatcher(None, a, b).ratio() if a and b else 0.0


def text_stats(texts: list[str]) -> dict[str, np.ndarray]:
    """Length, empty, URL, hashtag and mention counts of each text."""
    return {
        "length": np.array([len(t) for t in texts], dtype=np.float64),
        "empty": np.array([not t.strip() for t in texts], dtype=np.float64),
        "urls": np.array([len(_URL.findall(t)) for t in texts], dtype=np.float64),
        "hashtags": np.array([len(_HASHTAG.findall(t)) for t in texts], dtype=np.float64),
        "mentions": np.array([len(_MENTION.findall(t)) for t in texts], dtype=np.float64),
    }


def _vectorizers(hash_features: int) -> dict[str, HashingVectorizer]:
    half = hash_features // 2
    common = {"alternate_sign": False, "norm": None, "lowercase": True}
    return {
        "word": HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=half, **common),
        "char": HashingVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), n_features=hash_features - half, **common
        ),
    }


def _counts(docs: list[str], hash_features: int) -> dict[str, sp.csr_matrix]:
    """Sublinear (``1 + log tf``) hashed term counts of each block."""
    out = {}
    for key, vec in _vectorizers(hash_features).items():
        m = sp.csr_matrix(vec.transform(docs), dtype=np.float64)
        m.data = 1.0 + np.log(m.data)
        out[key] = m
    return out


def hashed_idf(docs: list[str], hash_features: int) -> dict[str, list[float]]:
    """Smoothed idf per hashed column, ``log((1 + n) / (1 + df)) + 1``, as JSON lists."""
    if not hash_features:
        return {}
    n = len(docs)
    out = {}
    for key, m in _counts(docs, hash_features).items():
        df = np.bincount(m.indices, minlength=m.shape[1])
        out[key] = (np.log((1.0 + n) / (1.0 + df)) + 1.0).tolist()
    return out


def hashed_tfidf(
    docs: list[str], hash_features: int, idf: Mapping[str, list[float]], n: int
) -> np.ndarray:
    """Dense TF-IDF rows of ``n`` documents, each block l2-normalized (empty text: 0)."""
    if not hash_features:
        return np.zeros((n, 0))
    blocks = []
    for key, m in _counts(docs, hash_features).items():
        x = m.multiply(np.asarray(idf[key])[None, :]).toarray()
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        blocks.append(x / np.where(norms > 0, norms, 1.0))
    return np.hstack(blocks)
