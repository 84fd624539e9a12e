"""Text-generation metrics on tiny hand-made inputs with known values (CPU, fast)."""

from __future__ import annotations

import numpy as np
import pytest
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from socialgan.text.generate.metrics import (
    bleu,
    bleu_scores,
    distinct_n,
    embed_texts,
    fbd,
    generation_report,
    mauve_score,
    self_bleu,
    self_bleu_scores,
    tokenize_for_bleu,
)
from socialgan.text.minilm import SentenceEncoder

REFS = ["the cat sat on the mat", "a dog ran in the park", "birds sing every morning"]


def test_tokenizer_keeps_handles_tags_links_and_splits_punctuation() -> None:
    assert tokenize_for_bleu("Don't miss the #GAN talk, @Bob!! http://x.co/t") == [
        "don't", "miss", "the", "#gan", "talk", ",", "@bob", "!", "!", "http://x.co/t"
    ]  # fmt: skip


def test_bleu_identical_hypothesis_is_one() -> None:
    for n in (2, 3, 4, 5):
        assert bleu(["the cat sat on the mat"], REFS, n) == pytest.approx(1.0)


def test_bleu_disjoint_vocabulary_is_near_zero() -> None:
    assert bleu(["zebra quantum xylophone jumps"], REFS, 2) < 0.05


def test_bleu_matches_nltk_directly() -> None:
    hyps = ["the cat ran in the park", "a dog sat on the mat"]
    refs_tok = [r.split() for r in REFS]
    smooth = SmoothingFunction().method1
    for n in (2, 4):
        w = tuple([1.0 / n] * n)
        expected = np.mean(
            [sentence_bleu(refs_tok, h.split(), w, smoothing_function=smooth) for h in hyps]
        )
        assert bleu(hyps, REFS, n) == pytest.approx(expected)
    # All orders in one nltk pass give the same numbers as one order at a time.
    scores = bleu_scores(hyps, REFS)
    assert list(scores) == ["bleu2", "bleu3", "bleu4", "bleu5"]
    for n in (2, 3, 4, 5):
        assert scores[f"bleu{n}"] == pytest.approx(bleu(hyps, REFS, n))


def test_bleu_subsample_is_deterministic_and_a_subset() -> None:
    hyps = [f"the cat sat {w}" for w in ["on", "in", "by", "at", "near", "under"]] + ["zebra"]
    a = bleu(hyps, REFS, 3, max_hypotheses=3, seed=1)
    assert a == bleu(hyps, REFS, 3, max_hypotheses=3, seed=1)
    assert bleu(hyps, REFS, 3, max_hypotheses=100) == bleu(hyps, REFS, 3)
    with pytest.raises(ValueError, match="no references"):
        bleu(hyps, [], 2)


def test_self_bleu_identical_samples_is_one() -> None:
    samples = ["the cat sat on the mat"] * 4
    assert self_bleu_scores(samples) == pytest.approx(
        {"self_bleu2": 1.0, "self_bleu3": 1.0, "self_bleu4": 1.0, "self_bleu5": 1.0}
    )


def test_self_bleu_never_uses_the_hypothesis_as_its_own_reference() -> None:
    # With itself among its references every sample would score 1.0.
    assert self_bleu(["the cat sat on the mat", "a dog ran in the park"], 2) < 0.5
    with pytest.raises(ValueError, match="at least 2"):
        self_bleu(["alone"], 2)


def test_distinct_n_hand_computed() -> None:
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    assert distinct_n(["a b a b"], 1) == pytest.approx(2 / 4)
    # Pooled over texts; n-grams do not cross text boundaries.
    assert distinct_n(["a b", "b a", "a b"], 2) == pytest.approx(2 / 3)
    assert distinct_n(["a", ""], 2) == 0.0


def test_fbd_known_values_and_symmetry() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 4))
    assert fbd(a, a) == pytest.approx(0.0, abs=1e-8)
    shift = np.array([1.0, 2.0, 0.0, 0.0])
    b = rng.standard_normal((4000, 4)) + shift
    # Identity covariances: the distance is the squared mean difference, 5.
    assert fbd(a, b) == pytest.approx(5.0, rel=0.05)
    assert fbd(a, b) == pytest.approx(fbd(b, a))


def test_mauve_identical_high_separated_low() -> None:
    rng = np.random.default_rng(0)
    p = rng.standard_normal((200, 8)).astype(np.float32)
    assert mauve_score(p, p.copy()) > 0.9
    q = rng.standard_normal((200, 8)).astype(np.float32) + 10.0
    assert mauve_score(p, q) < 0.2


def test_embed_texts_and_generation_report() -> None:
    texts = [
        "good morning everyone!",
        "just watched the new #GAN paper talk",
        "@alice thanks for the follow",
        "coffee first, then code",
        "it's raining again in london",
    ]
    encoder = SentenceEncoder(progress=False)
    emb = embed_texts(texts, encoder)
    assert emb.shape == (5, 384) and emb.dtype == np.float32
    report = generation_report(texts, texts, train_texts=texts[:2], encoder=encoder)
    expected = {f"bleu{n}" for n in (2, 3, 4, 5)} | {f"self_bleu{n}" for n in (2, 3, 4, 5)}
    expected |= {"distinct1", "distinct2", "fbd", "mauve", "n_samples", "n_references"}
    assert set(report) == expected | {"copy_rate"}
    assert report["fbd"] == pytest.approx(0.0, abs=1e-6)
    assert report["bleu4"] == pytest.approx(1.0)
    assert report["mauve"] > 0.9
    assert report["copy_rate"] == pytest.approx(2 / 5)
    assert report["n_samples"] == report["n_references"] == 5
