"""Text attacks: the disguises spammers use to slip past n-gram detectors.

Each attack rewrites a ``strength`` fraction of the eligible words of a text so that a
human still reads it but the detector's features no longer match: leetspeak (``fr33``),
look-alike letters (Cyrillic ``сheck``, full-width ``ｆｒｅｅ``), invisible characters
inside words, spaced-out letters (``f.r.e.e``) and synonyms. An attack is a deterministic
function ``attack(text, rng, strength) -> str``; links and e-mail addresses are never
touched. :data:`ATTACKS` names the text attacks, :data:`WORD_ATTACKS` the word-level
moves they are built from (the moves of :func:`socialgan.text.attack.evasion.adaptive_attack`).

Example:
    >>> from socialgan.text.attack.attacks import ATTACKS
    >>> ATTACKS["spacing"]("free money, check my channel", rng=0, strength=0.5)
    'free money, c.h.e.c.k my c.h.a.n.n.e.l'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from socialgan.errors import DataError
from socialgan.text.attack.normalize import split_protected

__all__ = [
    "ATTACKS",
    "HOMOGLYPHS",
    "LEET",
    "SYNONYMS",
    "WORD_ATTACKS",
    "ZERO_WIDTH",
    "Attack",
    "RngLike",
    "WordAttack",
    "check_labels",
    "check_text_list",
    "get_attack",
    "homoglyph",
    "join_parts",
    "leet",
    "mixed",
    "spacing",
    "synonym",
    "word_segments",
    "zero_width",
]

#: A seed or a generator; ``None`` means seed 0 (attacks are always deterministic).
RngLike = np.random.Generator | int | None

#: Letter -> leetspeak substitutes. Symbols are only used inside a word, digits anywhere.
LEET: dict[str, str] = {"a": "4@", "e": "3", "i": "1!", "o": "0", "s": "5$", "t": "7"}
_LEET_SYMBOLS = "@$!"
_LEET_LEADING = "03157"  # digits that still read as a letter at the start of a word
#: Latin letter -> Cyrillic or Greek look-alikes.
HOMOGLYPHS: dict[str, str] = {
    "a": "\u0430",
    "c": "\u0441",
    "e": "\u0435",
    "i": "\u0456",
    "j": "\u0458",
    "o": "\u043e\u03bf",
    "p": "\u0440",
    "s": "\u0455",
    "x": "\u0445",
    "y": "\u0443",
    "h": "\u04bb",
    "v": "\u03bd",
    "A": "\u0410\u0391",
    "B": "\u0412\u0392",
    "C": "\u0421",
    "E": "\u0415\u0395",
    "H": "\u041d\u0397",
    "I": "\u0406\u0399",
    "K": "\u041a\u039a",
    "M": "\u041c\u039c",
    "O": "\u041e\u039f",
    "P": "\u0420\u03a1",
    "T": "\u0422\u03a4",
    "X": "\u0425\u03a7",
    "Y": "\u04ae\u03a5",
}
#: Invisible characters put inside words: zero-width space, non-joiner and joiner, word
#: joiner, zero-width no-break space (BOM) and soft hyphen.
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")
_SEPARATORS = (" ", ".", "-", "*", "_")
#: A small built-in thesaurus of spam and review vocabulary (lower case).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "check": ("scope", "try", "suss"),
    "visit": ("go to", "stop by", "drop by"),
    "subscribe": ("sub", "follow", "join"),
    "subscribers": ("subs", "followers", "fans"),
    "free": ("gratis", "complimentary", "no-cost"),
    "money": ("cash", "dollars", "bucks"),
    "win": ("get", "earn", "grab"),
    "channel": ("page", "profile", "vlog"),
    "video": ("vid", "clip", "upload"),
    "videos": ("vids", "clips", "uploads"),
    "click": ("tap", "press", "hit"),
    "link": ("url", "site", "page"),
    "website": ("site", "webpage", "homepage"),
    "please": ("pls", "plz", "kindly"),
    "great": ("awesome", "excellent", "superb"),
    "amazing": ("incredible", "fantastic", "wonderful"),
    "best": ("finest", "top", "greatest"),
    "new": ("fresh", "latest", "brand-new"),
    "share": ("spread", "repost", "pass on"),
    "make": ("earn", "generate", "bring in"),
    "earn": ("make", "gain", "pocket"),
    "now": ("today", "right away", "asap"),
    "prize": ("reward", "gift", "award"),
    "offer": ("deal", "promo", "bargain"),
    "cheap": ("affordable", "low-cost", "inexpensive"),
    "buy": ("purchase", "order", "get"),
    "hotel": ("inn", "resort", "lodge"),
    "room": ("suite", "quarters", "accommodation"),
    "rooms": ("suites", "quarters", "accommodations"),
    "staff": ("team", "employees", "personnel"),
    "stay": ("visit", "trip", "vacation"),
    "clean": ("spotless", "tidy", "immaculate"),
    "comfortable": ("cozy", "comfy", "pleasant"),
    "recommend": ("suggest", "endorse", "advise"),
    "music": ("songs", "tracks", "tunes"),
    "song": ("track", "tune", "single"),
    "help": ("support", "assist", "back"),
    "love": ("adore", "like", "enjoy"),
    "guys": ("folks", "people", "everyone"),
    "thanks": ("thx", "cheers", "ty"),
}


class Attack(Protocol):
    """A text attack: rewrites a ``strength`` fraction of the eligible words of ``text``,
    deterministically for a given ``rng`` seed."""

    def __call__(self, text: str, rng: RngLike = 0, strength: float = 0.3) -> str: ...


@dataclass(frozen=True)
class WordAttack:
    """One word-level disguise: ``fn(word, rng) -> disguised word``, used on words of at
    least ``min_len`` letters (and, for ``vocabulary`` attacks, only on listed words)."""

    name: str
    fn: Callable[[str, np.random.Generator], str]
    min_len: int = 2
    vocabulary: frozenset[str] | None = None

    def eligible(self, word: str) -> bool:
        if len(word) < self.min_len:
            return False
        return self.vocabulary is None or word.lower() in self.vocabulary


def check_text_list(texts: Any) -> list[str]:
    """``texts`` as a list of strings; a single string or a non-string item is a DataError."""
    if isinstance(texts, (str, bytes)):
        raise DataError("expected a list of texts, got a single string (wrap it in a list)")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise DataError(f"text {i}: expected a string, found {type(t).__name__}")
    return out


def check_labels(labels: Any, n: int) -> np.ndarray:
    """``labels`` as an ``(n,)`` array; any other shape is a DataError."""
    y = np.asarray(labels)
    if y.shape != (n,):
        raise DataError(f"{y.size} labels for {n} texts")
    return y


def _rng(rng: RngLike) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(0 if rng is None else rng)


def _some(rng: np.random.Generator, n: int, p: float = 0.5) -> np.ndarray:
    """Indices ``0..n-1`` kept with probability ``p``, at least one (``n >= 1``)."""
    keep = np.flatnonzero(rng.random(n) < p)
    return keep if len(keep) else rng.integers(n, size=1)


def _match_case(src: str, new: str) -> str:
    if src.isupper() and len(src) > 1:
        return new.upper()
    if src[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


def _leet_word(word: str, rng: np.random.Generator) -> str:
    """Leetspeak some letters so the word still reads as a word, not a number or a code:
    at most two digits in a row, one at the start, none at the end of a short word
    (``mp3``), symbols only inside."""
    last = len(word) - 1

    def options(i: int) -> str:
        subs = LEET.get(word[i].lower(), "")
        if i == 0:
            return "".join(o for o in subs if o in _LEET_LEADING)
        if i < last:
            return subs
        return "" if len(word) < 4 else "".join(o for o in subs if o not in _LEET_SYMBOLS)

    spots = [(i, s) for i in range(len(word)) if (s := options(i))]
    if not spots:
        return word
    chars = list(word)
    for k in sorted(_some(rng, len(spots))):
        i, subs = spots[int(k)]
        new = subs[int(rng.integers(len(subs)))]
        run = 0
        while run < i and chars[i - run - 1].isdigit():
            run += 1
        if new.isdigit() and (run >= 2 or run == i > 0):
            continue  # would make a number (a long run, or two leading digits)
        chars[i] = new
    return "".join(chars)  # the first change always applies: nothing before it is a digit


def _homoglyph_word(word: str, rng: np.random.Generator) -> str:
    spots = [i for i, c in enumerate(word) if c in HOMOGLYPHS]
    if not spots or rng.random() < 0.15:  # full-width forms, ｆｒｅｅ
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)
    chars = list(word)
    for k in _some(rng, len(spots)):
        options = HOMOGLYPHS[word[spots[int(k)]]]
        chars[spots[int(k)]] = options[int(rng.integers(len(options)))]
    return "".join(chars)


def _zero_width_word(word: str, rng: np.random.Generator) -> str:
    n = 1 + int(len(word) >= 6)
    cuts = sorted(rng.choice(np.arange(1, len(word)), size=min(n, len(word) - 1), replace=False))
    out, prev = [], 0
    for cut in cuts:
        out += [word[prev:cut], ZERO_WIDTH[int(rng.integers(len(ZERO_WIDTH)))]]
        prev = int(cut)
    return "".join(out) + word[prev:]


def _spacing_word(word: str, rng: np.random.Generator) -> str:
    sep = _SEPARATORS[int(rng.integers(len(_SEPARATORS)))]
    return sep.join(word)


def _synonym_word(word: str, rng: np.random.Generator) -> str:
    options = SYNONYMS.get(word.lower())
    if not options:
        return word
    return _match_case(word, options[int(rng.integers(len(options)))])


#: Word-level disguises by name (the moves of :func:`adaptive_attack`).
WORD_ATTACKS: dict[str, WordAttack] = {
    "leet": WordAttack("leet", _leet_word, min_len=3),
    "homoglyph": WordAttack("homoglyph", _homoglyph_word),
    "zero_width": WordAttack("zero_width", _zero_width_word),
    "spacing": WordAttack("spacing", _spacing_word, min_len=3),
    "synonym": WordAttack("synonym", _synonym_word, vocabulary=frozenset(SYNONYMS)),
}
_WORD = re.compile(r"([^\W\d_]+)")
_SPELLED = re.compile(r"\S(?: \S)+")


def word_segments(text: str) -> tuple[list[str], list[int]]:
    """``(parts, word_positions)``: ``"".join(parts) == text``; ``parts[i]`` for ``i`` in
    ``word_positions`` is a run of letters outside links and e-mail addresses."""
    parts: list[str] = []
    words: list[int] = []
    for chunk, is_link in split_protected(text):
        if is_link:
            parts.append(chunk)
            continue
        for j, piece in enumerate(_WORD.split(chunk)):
            if piece:
                if j % 2:
                    words.append(len(parts))
                parts.append(piece)
    return parts, words


def join_parts(parts: Sequence[str]) -> str:
    """Join the parts of :func:`word_segments` back into a text. A word spelled out with
    single spaces (``c h e c k``) gets a double space on each side where it meets a
    space, so that it stays apart from its neighbours (``c h e c k  o u t``)."""
    out = list(parts)
    for i, part in enumerate(parts):
        if _SPELLED.fullmatch(part):
            if i > 0 and out[i - 1][-1:].isspace():
                out[i - 1] += " "
            if i + 1 < len(out) and out[i + 1][:1].isspace():
                out[i + 1] = " " + out[i + 1]
    return "".join(out)


def _check_strength(strength: float) -> float:
    if not 0.0 <= strength <= 1.0:
        raise DataError(f"attack strength must be a fraction of words in [0, 1], got {strength}")
    return float(strength)


def _attack_words(text: str, rng: RngLike, strength: float, moves: Sequence[WordAttack]) -> str:
    """Disguise ``round(strength * eligible words)`` words (at least one when
    ``strength > 0``), each with one of the eligible ``moves`` chosen at random."""
    if not isinstance(text, str):
        raise DataError(f"an attack takes one string, got {type(text).__name__}")
    strength = _check_strength(strength)
    gen = _rng(rng)
    parts, words = word_segments(text)
    options = {i: [m for m in moves if m.eligible(parts[i])] for i in words}
    candidates = [i for i in words if options[i]]
    if not candidates or strength == 0.0:
        return text
    k = max(1, int(round(strength * len(candidates))))
    for i in sorted(int(j) for j in gen.choice(candidates, size=k, replace=False)):
        move = options[i][int(gen.integers(len(options[i])))]
        parts[i] = move.fn(parts[i], gen)
    return join_parts(parts)


def leet(text: str, rng: RngLike = 0, strength: float = 0.3) -> str:
    """Leetspeak: ``a e i o s t`` -> ``4/@ 3 1/! 0 5/$ 7`` in some letters of the chosen
    words (``free money`` -> ``fr3e m0n3y``)."""
    return _attack_words(text, rng, strength, [WORD_ATTACKS["leet"]])


def homoglyph(text: str, rng: RngLike = 0, strength: float = 0.3) -> str:
    """Look-alike letters: Cyrillic/Greek for some Latin letters of the chosen words, or the
    whole word in full-width forms (``check`` -> ``сhеck`` or ``ｃｈｅｃｋ``)."""
    return _attack_words(text, rng, strength, [WORD_ATTACKS["homoglyph"]])


def zero_width(text: str, rng: RngLike = 0, strength: float = 0.3) -> str:
    """Invisible characters (:data:`ZERO_WIDTH`) inside the chosen words: the text looks
    unchanged but the words no longer match."""
    return _attack_words(text, rng, strength, [WORD_ATTACKS["zero_width"]])


def spacing(text: str, rng: RngLike = 0, strength: float = 0.3) -> str:
    """Letters split by spaces or punctuation (``c h e c k``, ``f.r.e.e``, ``w-i-n``)."""
    return _attack_words(text, rng, strength, [WORD_ATTACKS["spacing"]])


def synonym(text: str, rng: RngLike = 0, strength: float = 0.3) -> str:
    """Swap words of :data:`SYNONYMS` for a synonym (``subscribe`` -> ``follow``); texts
    without such words are returned unchanged."""
    return _attack_words(text, rng, strength, [WORD_ATTACKS["synonym"]])


def mixed(text: str, rng: RngLike = 0, strength: float = 0.3) -> str:
    """Each chosen word gets one disguise drawn from all of :data:`WORD_ATTACKS`."""
    return _attack_words(text, rng, strength, list(WORD_ATTACKS.values()))


#: Text attacks by name.
ATTACKS: dict[str, Attack] = {
    "leet": leet,
    "homoglyph": homoglyph,
    "zero_width": zero_width,
    "spacing": spacing,
    "synonym": synonym,
    "mixed": mixed,
}


def get_attack(attack: str | Attack) -> tuple[str, Attack]:
    """``(name, function)`` of an attack given by name (see :data:`ATTACKS`) or as a function."""
    if isinstance(attack, str):
        if attack not in ATTACKS:
            raise DataError(f"unknown attack {attack!r}; known: {', '.join(ATTACKS)}")
        return attack, ATTACKS[attack]
    if not callable(attack):
        raise DataError(f"an attack must be a name or a function, got {type(attack).__name__}")
    return getattr(attack, "__name__", type(attack).__name__), attack
