"""Evasion attacks, input normalization and hardened detectors: real behaviour, tiny data."""

import json
import unicodedata

import numpy as np
import pandas as pd
import pytest

from socialgan.errors import DataError
from socialgan.text import NormalizingDetector, adversarial_augment, load_text_detector
from socialgan.text.attack.attacks import ATTACKS, HOMOGLYPHS, ZERO_WIDTH, get_attack
from socialgan.text.attack.evasion import (
    adaptive_attack,
    attack_report,
    attack_success_rate,
    evaluate_robustness,
)
from socialgan.text.attack.normalize import CONFUSABLES, normalize_text
from socialgan.text.data import TextDataset, load_youtube_spam
from socialgan.text.detect.classic import TfidfDetector
from socialgan.text.detect.moderation import moderate

from ..conftest import make_texts

FAST = {"char_ngrams": (2, 4), "calibration_cv": 3, "style_weight": 0.0}
#: Word n-grams only: the most brittle detector, so the effect of an attack is plain.
WORDS_ONLY = {"char_ngrams": None, "calibration_cv": 3, "style_weight": 0.0}
SENTENCES = [
    "Hey guys check out my new channel and subscribe for free money http://bit.ly/abc",
    "Please visit my website www.example.com to win a great prize",
    "SUBSCRIBE TO MY CHANNEL NOW",
    "Click here, best offer: cheap rooms at our hotel!",
]
NORMAL = [
    "I paid $100 for 2 nights, 4 stars.",
    "The 4th of July at 10pm, 1st class seats, mp3 files from 2015.",
    "Read www.example.com/page?id=12 or mail me@example.org today",
    "Москва is lovely; Αθήνα too.",
    "Plan B is a good idea, e.g. for 25 people!!! Wow...",
    "It's 5 o'clock, $5 off, 3 x 4 = 12",
]


def _squash(text: str) -> str:
    return " ".join(text.split()).lower()


# --------------------------------------------------------------------------- attacks
@pytest.mark.parametrize("name", list(ATTACKS))
def test_attacks_change_text_deterministically(name):
    fn = ATTACKS[name]
    text = SENTENCES[0]
    out = fn(text, 0, 0.5)
    assert out != text
    assert fn(text, 0, 0.5) == out == fn(text, np.random.default_rng(0), 0.5)
    assert len({fn(text, seed, 0.5) for seed in range(6)}) > 1
    assert "http://bit.ly/abc" in fn(text, 3, 1.0)  # links are never rewritten
    assert fn(text, 0, 0.0) == text


@pytest.mark.parametrize("name", ["leet", "homoglyph", "zero_width", "spacing"])
def test_normalize_undoes_character_attacks(name):
    for text in SENTENCES:
        for seed in range(5):
            attacked = ATTACKS[name](text, seed, 1.0)
            assert attacked != text
            assert _squash(normalize_text(attacked)) == _squash(text), (name, attacked)


def test_attacks_keep_text_readable():
    text = "check out my channel"
    hidden = ATTACKS["zero_width"](text, 1, 1.0)
    assert any(c in hidden for c in ZERO_WIDTH)
    assert "".join(c for c in hidden if c not in ZERO_WIDTH) == text
    glyphs = ATTACKS["homoglyph"](text, 1, 1.0)
    for a, b in zip(glyphs.replace(" ", ""), text.replace(" ", ""), strict=True):
        assert a == b or a in HOMOGLYPHS.get(b, "") or unicodedata.normalize("NFKC", a) == b
    spaced = ATTACKS["spacing"](text, 1, 1.0)
    assert [c for c in spaced if c.isalpha()] == [c for c in text if c.isalpha()]
    swapped = ATTACKS["synonym"]("Subscribe to my channel for free", 0, 1.0)
    assert swapped.split()[0][0].isupper() and "channel" not in swapped


def test_mixed_uses_several_disguises():
    out = ATTACKS["mixed"](" ".join(SENTENCES), 0, 1.0)
    kinds = {
        "zero_width": any(c in out for c in ZERO_WIDTH),
        "homoglyph": any(c in CONFUSABLES or ord(c) > 0xFF00 for c in out),
        "leet": any(c.isdigit() for c in out),
    }
    assert sum(kinds.values()) >= 2


def test_attack_errors():
    with pytest.raises(DataError, match="unknown attack"):
        get_attack("rot13")
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        ATTACKS["leet"]("free money", 0, 1.5)
    with pytest.raises(DataError, match="one string"):
        ATTACKS["leet"](["free money"], 0, 0.5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- normalization
def test_normalize_examples():
    cases = {
        "ｆｒｅｅ ｍｏｎｅｙ": "free money",
        "\u0441h\u0435ck my \u0421HANNEL": "check my CHANNEL",
        "fr\u200bee mo\u00adn\u2060ey\ufeff": "free money",
        "f.r.e.e, c h e c k  out, w-i-n": "free, check  out, win",
        "m0n3y fr33 5ub5cr1b3 cl!ck m@ss": "money free subscribe click mass",
        "FR33 V1S1T": "FREE VISIT",
        "\U0001d41f\U0001d42b\U0001d41e\U0001d41e": "free",
    }
    for attacked, expected in cases.items():
        assert normalize_text(attacked) == expected, attacked
    assert normalize_text("fr33", leet=False) == "fr33"
    assert normalize_text("f r e e", spacing=False) == "f r e e"
    assert normalize_text("\u0441heck", confusables=False) == "\u0441heck"


@pytest.mark.parametrize("text", NORMAL)
def test_normalize_leaves_normal_text(text):
    assert normalize_text(text) == text


def test_normalize_keeps_links_and_tables_agree():
    assert normalize_text("go to b1t.ly/fr33 or fr33.com") == "go to b1t.ly/fr33 or fr33.com"
    for fake, latin in CONFUSABLES.items():
        assert unicodedata.normalize("NFKC", fake) == fake, hex(ord(fake))
        assert latin.isascii() and latin.isalpha()
    for latin, fakes in HOMOGLYPHS.items():
        assert all(CONFUSABLES[f] == latin for f in fakes)
    with pytest.raises(TypeError):
        normalize_text(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- drivers
class KeywordDetector:
    """Flags texts containing any keyword; score = 0.2 + 0.4 per keyword, at most 1."""

    threshold = 0.5

    def __init__(self, keywords=("free", "money")):
        self.keywords = keywords
        self.calls = 0

    def predict_proba(self, texts):
        self.calls += 1
        p = np.array(
            [
                min(1.0, 0.2 + 0.4 * sum(k in t.lower().split() for k in self.keywords))
                for t in texts
            ]
        )
        return np.stack([1 - p, p], axis=1)


def test_attack_report_with_a_duck_typed_detector():
    texts = ["free stuff here", "free money now", "nice song", "money talks"]
    det = KeywordDetector()
    report = attack_report(det, texts, "homoglyph", labels=[1, 1, 0, 1], strength=1.0)
    assert report.n_targets == 3 and report.n_flagged == 3
    assert report.indices.tolist() == [0, 1, 3]
    assert report.success_rate == 1.0 and report.mean_queries == 1.0
    assert report.mean_score_before > report.mean_score_after
    assert report.mean_words_changed >= 1
    assert attack_success_rate(det, texts, "synonym", strength=1.0) == 1.0  # free, money swap
    assert json.dumps(report.summary())
    with pytest.raises(DataError, match="single string"):
        attack_report(det, "free", "leet")
    with pytest.raises(DataError, match="labels"):
        attack_report(det, texts, "leet", labels=[1, 0])

    class Bad:
        def predict_proba(self, texts):
            return np.zeros((len(texts), 3))

    with pytest.raises(DataError, match="shape"):
        attack_report(Bad(), texts, "leet")


def test_adaptive_attack_ranks_words_and_respects_budget():
    texts = ["so many free gifts and money for you today my friend"]
    det = KeywordDetector()
    report = adaptive_attack(det, texts, max_queries=40, moves=["zero_width"])
    assert report.success_rate == 1.0
    # 11 deletion queries rank "free" and "money" first; two disguises follow.
    assert report.mean_words_changed == 2 and report.mean_queries == 11 + 2
    assert det.calls <= 4  # scoring is batched
    assert det.predict_proba(report.adversarial)[0, 1] < 0.5
    tight = adaptive_attack(det, texts, max_queries=3)
    assert tight.mean_queries <= 3 and tight.success_rate == 0.0
    with pytest.raises(DataError, match="unknown word moves"):
        adaptive_attack(det, texts, moves=["mixed"])


def test_evaluate_robustness_covers_every_attack():
    texts = ["free money for you", "nice song", "get free stuff"]
    reports = evaluate_robustness(KeywordDetector(), texts, [1, 0, 1], strength=1.0)
    assert list(reports) == [*ATTACKS, "adaptive"]
    assert all(r.n_targets == 2 and r.n_flagged == 2 for r in reports.values())
    assert reports["adaptive"].success_rate == 1.0


_SPAM = [
    "check out my channel",
    "free money click here",
    "subscribe to my channel",
    "win a free prize now",
    "visit my website for money",
]
_HAM = [
    "love this song",
    "great video",
    "the chorus is amazing",
    "best music ever",
    "this song makes me happy",
    "her voice is beautiful",
]
_FILLER = ["so", "really", "today", "wow", "lol", "yes", "again", "guys"]


def _corpus(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """One comment in three is spam, so a text with no known word leans to ham."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 3 == 0).astype(np.int64)
    texts = []
    for y in labels:
        base = rng.choice(_SPAM if y else _HAM)
        texts.append(f"{base} {' '.join(rng.choice(_FILLER, size=2))}")
    return texts, labels


@pytest.fixture(scope="module")
def tiny_detectors():
    texts, labels = _corpus(150, seed=0)
    plain = TfidfDetector(**WORDS_ONLY).fit(texts, labels)
    hardened = NormalizingDetector(TfidfDetector(**WORDS_ONLY)).fit(texts, labels)
    test_texts, test_labels = _corpus(90, seed=7)
    return plain, hardened, test_texts, test_labels


@pytest.mark.parametrize("attack", ["homoglyph", "zero_width"])
def test_hardening_lowers_success_on_tiny_corpus(tiny_detectors, attack):
    plain, hardened, texts, labels = tiny_detectors
    before = attack_report(plain, texts, attack, labels=labels, strength=1.0)
    after = attack_report(hardened, texts, attack, labels=labels, strength=1.0)
    assert before.n_flagged >= 30 and after.n_flagged >= 30
    assert before.success_rate >= 0.3
    assert after.success_rate <= before.success_rate - 0.25


def test_adaptive_attack_on_tiny_corpus(tiny_detectors):
    plain, hardened, texts, labels = tiny_detectors
    before = adaptive_attack(plain, texts, labels=labels, max_queries=30)
    after = adaptive_attack(hardened, texts, labels=labels, max_queries=30)
    assert before.mean_queries <= 30 and after.mean_queries <= 30
    assert after.success_rate < before.success_rate
    rescored = plain.predict_proba(before.adversarial)[:, 1] < before.threshold
    np.testing.assert_array_equal(rescored, before.evaded)


# --------------------------------------------------------------------------- hardening
def test_adversarial_augment_lists_and_datasets():
    texts, labels = make_texts(20, seed=1)
    aug_texts, aug_labels = adversarial_augment(texts, labels, ["homoglyph", "leet"], rng=0)
    n_pos = int(labels.sum())
    assert aug_texts[:20] == texts and aug_labels[:20].tolist() == labels.tolist()
    assert 20 + n_pos <= len(aug_texts) <= 20 + 2 * n_pos
    assert (aug_labels[20:] == 1).all() and len(set(aug_texts[20:])) == len(aug_texts) - 20
    again, _ = adversarial_augment(texts, labels, ["homoglyph", "leet"], rng=0)
    assert again == aug_texts
    data = TextDataset(texts, labels, ["ham", "spam"], groups=np.arange(20) % 3)
    out = adversarial_augment(data, copies=2)
    assert isinstance(out, TextDataset) and len(out) == 20 + 2 * n_pos
    src = [i for i in range(20) if labels[i] == 1]
    assert out.groups.tolist()[20:] == [g % 3 for g in src] * 2
    with pytest.raises(DataError, match="labels"):
        adversarial_augment(texts, labels[:5])
    with pytest.raises(DataError, match="unknown attack"):
        adversarial_augment(texts, labels, ["nope"])
    with pytest.raises(DataError, match="non-empty"):
        adversarial_augment(texts, labels, "leet")


def test_normalizing_detector_round_trip(tmp_path, tiny_detectors):
    _, hardened, texts, _ = tiny_detectors
    attacked = [ATTACKS["mixed"](t, i, 0.5) for i, t in enumerate(texts)]
    folder = hardened.save_pretrained(tmp_path / "m", category="spam")
    assert (folder / "normalization.json").is_file()
    assert "Input normalization" in (folder / "README.md").read_text(encoding="utf-8")
    loaded = NormalizingDetector.from_pretrained(folder)
    np.testing.assert_allclose(
        loaded.predict_proba(texts + attacked), hardened.predict_proba(texts + attacked)
    )
    assert loaded.predict(attacked).tolist() == hardened.predict(attacked).tolist()
    frame = pd.DataFrame({"text": attacked, "author": "x"})
    np.testing.assert_allclose(loaded.predict_proba(frame), loaded.predict_proba(attacked))
    assert loaded.steps == hardened.steps and loaded.category_ == "spam"
    assert isinstance(load_text_detector(folder), NormalizingDetector)
    out = moderate(["ｆｒｅｅ m0ney click"], {"spam": loaded})[0]
    assert set(out) == {"flagged", "categories", "category_scores", "model", "thresholds"}

    partial = NormalizingDetector(TfidfDetector(**FAST), leet=False, spacing=False)
    partial.fit(texts, np.arange(len(texts)) % 2)
    partial.save_pretrained(tmp_path / "p")
    assert NormalizingDetector.from_pretrained(tmp_path / "p").steps["leet"] is False
    plain_dir = hardened.detector.save_pretrained(tmp_path / "plain")
    assert isinstance(load_text_detector(plain_dir), TfidfDetector)
    with pytest.raises(DataError, match="normalization.json missing"):
        NormalizingDetector.from_pretrained(plain_dir)
    (folder / "normalization.json").write_text('{"format": "x"}', encoding="utf-8")
    with pytest.raises(DataError, match="not a socialgan.text.NormalizingDetector"):
        NormalizingDetector.from_pretrained(folder)


# --------------------------------------------------------------------------- real data
def test_hardening_on_youtube_spam(shared_data):
    data = load_youtube_spam(shared_data)
    order = np.random.default_rng(0).permutation(len(data))
    cut = int(0.7 * len(data))
    train, test = data.subset(order[:cut]), data.subset(order[cut:])
    plain = TfidfDetector(**FAST).fit(train)
    hardened = NormalizingDetector(TfidfDetector(**FAST)).fit(train)
    clean = {d: float((d.predict(test.texts) == test.labels).mean()) for d in (plain, hardened)}
    assert clean[hardened] >= clean[plain] - 0.01
    for attack in ("homoglyph", "zero_width"):
        before = attack_success_rate(plain, test.texts, attack, labels=test.labels, strength=1.0)
        after = attack_success_rate(hardened, test.texts, attack, labels=test.labels, strength=1.0)
        assert before >= 0.08 and after <= 0.02, (attack, before, after)
