"""The generator attack: a tiny LM on a tiny spam corpus, against toy detectors (seconds)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from socialgan.text.generator_attack import (
    EOS,
    GeneratorAttack,
    detokenize,
    distinct_n,
    tokenize,
)
from socialgan.text.generator_report import generator_attack_report

from .conftest import make_texts

torch.set_num_threads(1)

_OPENERS = ["free money", "check my channel", "win money now", "subscribe to me", "hello guys"]
_CLOSERS = ["please", "thanks", "today", "money money", "for real", "check it"]


def spam_corpus(n: int = 80, seed: int = 0) -> list[str]:
    """Short spam: about half of the texts say "money"; about half carry a link."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        text = f"{_OPENERS[rng.integers(5)]} {_CLOSERS[rng.integers(6)]}"
        if i % 2:
            text += f" http://spam{i % 4}.example.com"
        out.append(text)
    return out


class MoneyDetector:
    """Flags any text that says "money" (the black box the attacker must learn to dodge)."""

    threshold = 0.5

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        p = np.array([0.95 if "money" in t.lower() else 0.05 for t in texts])
        return np.stack([1 - p, p], 1)


TINY = dict(
    max_len=8,
    min_count=1,
    embed_dim=16,
    hidden_dim=32,
    pretrain_epochs=25,
    batch_size=16,
    lr=1e-2,
    rl_steps=30,
    rl_batch=32,
    rl_lr=1e-2,
    kl_coef=0.02,
)


@pytest.fixture(scope="module")
def fitted() -> GeneratorAttack:
    return GeneratorAttack(MoneyDetector(), seed=0, **TINY).fit(spam_corpus())


def test_tokenize_links_and_detokenize() -> None:
    toks = tokenize("Check my channel!!!!! http://a.example.com/x &amp; thanks")
    assert toks == ["check", "my", "channel", "!", "!", "!", "<link>", "&", "thanks"]
    assert detokenize(["hi", ",", "see", "<link>", "<link>", "!"], "u.co") == "hi, see u.co!"
    assert detokenize(["hi"], "u.co") == "hi u.co"
    assert distinct_n([["a", "b", "a", "b"]], 2) == pytest.approx(2 / 3)


def test_shapes_and_payload_always_present(fitted: GeneratorAttack) -> None:
    assert fitted.vocab_[:5] == ["<pad>", "<bos>", "<eos>", "<unk>", "<link>"]
    assert sorted(fitted.payloads_) == [f"http://spam{k}.example.com" for k in (1, 3)]
    tokens = fitted._sample(fitted.policy_, 50, torch.Generator().manual_seed(0))
    assert tokens.shape[0] == 50 and tokens.shape[1] <= fitted.max_len + 1
    assert ((tokens == EOS).sum(1) == 1).all()  # one end token per message
    for pretrained in (True, False):
        texts = fitted.generate(40, seed=3, pretrained=pretrained)
        assert len(texts) == 40
        assert all(sum(p in t for p in fitted.payloads_) >= 1 for t in texts)
        metrics = fitted.evaluate(40, seed=3, pretrained=pretrained)
        assert metrics["n_with_payload"] == 40
        assert 0.0 <= metrics["success_rate"] <= 1.0
        assert 0.0 < metrics["distinct_2"] <= 1.0
        assert metrics["lm_logprob_per_token"] < 0


def test_explicit_payloads() -> None:
    spam = [t.split(" http")[0] for t in spam_corpus(40)]  # no links at all
    attack = GeneratorAttack(MoneyDetector(), payloads=["PAYLOAD-42"], **{**TINY, "rl_steps": 0})
    texts = attack.fit(spam).generate(20, seed=1)
    assert all("PAYLOAD-42" in t for t in texts)


def test_seeded_reproducibility(fitted: GeneratorAttack) -> None:
    again = GeneratorAttack(MoneyDetector(), seed=0, **TINY).fit(spam_corpus())
    assert again.generate(20, seed=5) == fitted.generate(20, seed=5)
    assert [h["reward"] for h in again.history_] == [h["reward"] for h in fitted.history_]
    assert fitted.generate(20, seed=5) != fitted.generate(20, seed=6)
    other = GeneratorAttack(MoneyDetector(), seed=1, **{**TINY, "rl_steps": 0})
    other.fit(spam_corpus())
    assert other.generate(20, seed=5) != fitted.generate(20, seed=5)


def test_rl_learns_to_dodge_the_detector(fitted: GeneratorAttack) -> None:
    before = fitted.evaluate(200, seed=9, pretrained=True)
    after = fitted.evaluate(200, seed=9)
    assert before["success_rate"] < 0.7  # the pretrained LM says "money" often
    assert after["success_rate"] > before["success_rate"] + 0.2
    rewards = [h["reward"] for h in fitted.history_]
    assert np.mean(rewards[-5:]) > np.mean(rewards[:5]) + 0.15
    bodies = {t.split(" http")[0] for t in after["texts"]}
    assert len(bodies) >= 10  # not collapsed onto a few messages


def test_with_detector_restarts_from_pretrained_lm(fitted: GeneratorAttack) -> None:
    fresh = fitted.with_detector(MoneyDetector(), rl_steps=0)
    assert fresh.reference_ is fitted.reference_
    assert fresh.history_ == []
    assert fresh.generate(10, seed=2) == fitted.generate(10, seed=2, pretrained=True)


def test_report_with_hardening() -> None:
    train_texts, train_labels = make_texts(60, seed=0)
    test_texts, test_labels = make_texts(30, seed=1)

    def make() -> object:
        return make_pipeline(CountVectorizer(), LogisticRegression(C=10.0))

    det = make().fit(train_texts, train_labels)
    spam = [t for t, y in zip(train_texts, train_labels, strict=True) if y == 1]
    params = {**TINY, "rl_steps": 5}
    report = generator_attack_report(
        det,
        spam,
        n=30,
        train=(train_texts, train_labels),
        test=(test_texts, test_labels),
        make_detector=make,
        **params,
    )
    for key in (
        "success_lm_only",
        "success_before_hardening",
        "success_after_hardening",
        "clean_accuracy_before",
        "clean_accuracy_after",
    ):
        assert 0.0 <= report[key] <= 1.0, key
    assert report["hardened"]["n_adversarial"] == 30
    assert report["attack"]["n_with_payload"] == 30
    assert len(report["attack"]["examples"]) == 5 and "texts" not in report["attack"]


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="predict_proba"):
        GeneratorAttack(object())
    with pytest.raises(ValueError, match="max_len"):
        GeneratorAttack(MoneyDetector(), max_len=0)
    with pytest.raises(ValueError, match="kl_coef"):
        GeneratorAttack(MoneyDetector(), kl_coef=-1.0)
    with pytest.raises(ValueError, match="payloads"):
        GeneratorAttack(MoneyDetector(), payloads=[])
    attack = GeneratorAttack(MoneyDetector(), **TINY)
    with pytest.raises(ValueError, match="single string"):
        attack.fit("free money http://a.co")
    with pytest.raises(ValueError, match="no words"):
        attack.fit(["", "  "])
    with pytest.raises(ValueError, match="payload"):
        attack.fit(["free money now", "subscribe please"])
    with pytest.raises(NotFittedError, match="fit"):
        attack.generate(3)
    with pytest.raises(ValueError, match="n must be"):
        quick = {**TINY, "pretrain_epochs": 1, "rl_steps": 0}
        GeneratorAttack(MoneyDetector(), **quick).fit(spam_corpus()).generate(0)
    with pytest.raises(ValueError, match="make_detector"):
        generator_attack_report(MoneyDetector(), spam_corpus(), train=(["a"], [1]))


def test_bad_detector_output() -> None:
    class Broken:
        def predict_proba(self, texts: list[str]) -> np.ndarray:
            return np.zeros(len(texts))

    attack = GeneratorAttack(Broken(), **{**TINY, "pretrain_epochs": 1, "rl_steps": 1})
    with pytest.raises(ValueError, match="expected"):
        attack.fit(spam_corpus())
