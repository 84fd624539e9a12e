"""The generator attack: a tiny LM on a tiny spam corpus, against toy detectors (seconds)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from socialgan.text.attack.generator_attack import (
    EOS,
    GeneratorAttack,
    detokenize,
    distinct_n,
    tokenize,
)
from socialgan.text.attack.generator_report import generator_attack_report

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


_SMALL_TALK = ["hello guys", "thanks", "today", "for real", "please"]
_MONEY = ["free money", "win money now", "cheap money", "money money"]
_MUSIC = ["love this song", "great video", "nice chorus", "best band"]
_PAYLOAD = "PROMO-77"


def payload_case(seed: int) -> tuple[list[str], np.ndarray, list[str], np.ndarray, list[str]]:
    """A detector's data where hardening must work, and the attacker's spam.

    Labelled spam always says "money"; ham talks music; both use the same small talk. The
    attacker's spam is half money talk, half music talk, and every message it sends carries
    the payload ``PROMO-77``, which the labelled data never contain. The first detector
    learns "money = spam" and passes the music-talk messages; after hardening on the
    attacker's outputs (labelled spam) the payload is its strongest spam word, and the
    attacker cannot drop the payload.

    Returns ``train_texts, train_labels, test_texts, test_labels, attacker_spam``.
    """
    rng = np.random.default_rng(seed)

    def draw(n: int) -> tuple[list[str], np.ndarray]:
        labels = np.arange(n) % 2
        talk = rng.choice(_SMALL_TALK, size=(n, 2))
        texts = [
            f"{a} {rng.choice(_MONEY if y else _MUSIC)} {b}"
            for y, (a, b) in zip(labels, talk, strict=True)
        ]
        return texts, labels

    train_texts, train_labels = draw(80)
    test_texts, test_labels = draw(40)
    attacker_spam = [
        f"{rng.choice(_MONEY if i % 2 else _MUSIC)} {rng.choice(_SMALL_TALK)}" for i in range(40)
    ]
    return train_texts, train_labels, test_texts, test_labels, attacker_spam


def _bag_of_words() -> object:
    return make_pipeline(CountVectorizer(), LogisticRegression(C=10.0))


@pytest.mark.parametrize("seed", [0, 1])
def test_hardening_stops_an_attack_that_must_carry_its_payload(seed: int) -> None:
    train_texts, train_labels, test_texts, test_labels, attacker_spam = payload_case(seed)
    det = _bag_of_words().fit(train_texts, train_labels)
    report = generator_attack_report(
        det,
        attacker_spam,
        n=60,
        train=(train_texts, train_labels),
        test=(test_texts, test_labels),
        make_detector=_bag_of_words,
        seed=seed,
        payloads=[_PAYLOAD],
        **{**TINY, "rl_steps": 5},
    )
    assert report["clean_accuracy_before"] == 1.0  # the data are easy ...
    assert report["success_before_hardening"] >= 0.6  # ... and the attacker still gets through
    assert report["success_before_hardening"] > report["success_lm_only"]
    hardened = report["hardened"]
    assert hardened["n_adversarial"] == 60 and report["attack"]["n_with_payload"] == 60
    # the hardened detector flags the very messages that got through, and a fresh attack
    assert hardened["replayed_success_rate"] <= 0.1
    assert report["success_after_hardening"] <= 0.1
    assert report["success_after_hardening"] < report["success_before_hardening"] - 0.5
    assert report["clean_accuracy_after"] >= 0.95  # hardening did not break clean accuracy
    assert len(report["attack"]["examples"]) == 5 and "texts" not in report["attack"]
    assert all(_PAYLOAD in t for t in report["attack"]["examples"])


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
