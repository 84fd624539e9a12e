"""Tiny synthetic text data for fast detector tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from socialgan.text.data import TextDataset

_SPAM = ["check out my channel", "free money click", "subscribe to me", "win a prize now"]
_HAM = ["love this song", "great video", "the chorus is amazing", "best music ever"]
_WORDS = ["so", "really", "today", "wow", "lol", "yes", "again", "here"]

#: A tiny byte CNN + hashed n-gram encoder (``CharCNNDetector``, ``SSGANDetector`` charcnn).
TINY_ENCODER = {
    "embed_dim": 8,
    "filters": 8,
    "kernel_sizes": (3, 5),
    "hash_buckets": 1024,
    "hash_dim": 16,
}


def make_texts(n: int = 60, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """``n`` short comments, half spam-like (label 1), with random filler words."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        base = (_SPAM if label else _HAM)[rng.integers(4)]
        filler = " ".join(rng.choice(_WORDS, size=3))
        url = f" http://x{rng.integers(9)}.co" if label and rng.random() < 0.5 else ""
        texts.append(f"{base} {filler}{url}")
        labels.append(label)
    return texts, np.array(labels, dtype=np.int64)


@pytest.fixture
def tiny() -> TextDataset:
    texts, labels = make_texts()
    groups = np.array([f"v{i % 3}" for i in range(len(texts))])
    return TextDataset(texts, labels, ["ham", "spam"], groups=groups, name="tiny")


@pytest.fixture
def tiny_multi() -> TextDataset:
    """3 classes with metadata columns (a category, a multi-valued tag, a count)."""
    rng = np.random.default_rng(1)
    topics = [["tax", "money", "budget"], ["war", "army", "troops"], ["school", "kids", "teachers"]]
    texts, labels, party, tags, count = [], [], [], [], []
    for i in range(90):
        k = i % 3
        texts.append(" ".join(rng.choice(topics[k], size=4)) + f" item{rng.integers(5)}")
        labels.append(k)
        party.append(["red", "blue", "green"][(k + (rng.random() < 0.2)) % 3])
        tags.append(",".join(rng.choice(["a", "b", "c", "d"], size=2, replace=False)))
        count.append(float(rng.integers(0, 50) * (k + 1)))
    meta = pd.DataFrame({"party": party, "tags": tags, "count": count})
    return TextDataset(texts, np.array(labels), ["low", "mid", "high"], meta=meta, name="multi")
