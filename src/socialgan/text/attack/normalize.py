"""Undo the character-level disguises spammers use, before a detector sees the text.

:func:`normalize_text` maps the attacks of :mod:`socialgan.text.attack.attacks` (and their
common variants) back to plain text:

1. invisible characters (Unicode format characters, category ``Cf``: zero-width space and
   joiners, word joiner, BOM, soft hyphen, bidi controls; plus a few blank "letters" such
   as the Hangul filler) are removed;
2. Unicode NFKC folds compatibility forms: full-width ``ｆｒｅｅ``, mathematical
   ``𝐟𝐫𝐞𝐞``, circled and ligature letters;
3. Cyrillic, Greek and other look-alikes are mapped to the Latin letter they imitate, but
   only inside words that are mixed-script (they also hold Latin letters) or made only of
   look-alikes, so ordinary Russian or Greek words keep their script;
4. letters split by one repeated separator (``f r e e``, ``f.r.e.e``, ``f-r-e-e``) are
   joined when there are at least three of them, two of them letters;
5. leetspeak digits and symbols are decoded only inside words that contain letters
   (``fr33`` -> ``free``, ``cl!ck`` -> ``click``), so ``4 stars``, ``2015``, ``$100``,
   ``4th`` and ``10pm`` keep their meaning.

Links and e-mail addresses are left alone after steps 1 and 2. Case is kept (a vectorizer
lower-cases later). Synonym swaps are semantic and cannot be normalized away: adversarial
training (:func:`socialgan.text.attack.hardening.adversarial_augment`) is the defence for them.

Example:
    >>> from socialgan.text.attack.normalize import normalize_text
    >>> normalize_text("ｃһеск my c h a n n e l, it's fr33 m\\u200bo\\u00adney")
    "check my channel, it's free money"
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = [
    "CONFUSABLES",
    "INVISIBLE_EXTRA",
    "LEET_DECODE",
    "NORMALIZE_STEPS",
    "normalize_text",
    "normalize_texts",
    "split_protected",
]

#: The steps of :func:`normalize_text`, each a keyword flag (all on by default).
NORMALIZE_STEPS = ("invisible", "nfkc", "confusables", "spacing", "leet")

#: Blank or invisible characters that are not in category Cf (which is removed wholesale):
#: combining grapheme joiner, Hangul fillers, Khmer inherent vowels, Braille blank.
INVISIBLE_EXTRA = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")

_CONFUSABLE_GROUPS = {
    # Cyrillic
    "a": "\u0430",
    "c": "\u0441",
    "d": "\u0501",
    "e": "\u0435",
    "h": "\u04bb\u0570",
    "i": "\u0456\u0131\u03b9",
    "j": "\u0458\u0237",
    "k": "\u043a\u03ba",
    "l": "\u04cf",
    "n": "\u0578",
    "o": "\u043e\u03bf\u0585",
    "p": "\u0440\u03c1",
    "q": "\u051b",
    "s": "\u0455",
    "u": "\u03c5\u057d",
    "v": "\u03bd\u0475",
    "w": "\u051d\u0461",
    "x": "\u0445\u03c7",
    "y": "\u0443\u03b3\u04af",
    "g": "\u0261",
    "A": "\u0410\u0391",
    "B": "\u0412\u0392",
    "C": "\u0421",
    "E": "\u0415\u0395",
    "H": "\u041d\u0397",
    "I": "\u0406\u0399\u04c0",
    "J": "\u0408",
    "K": "\u041a\u039a",
    "M": "\u041c\u039c",
    "N": "\u039d",
    "O": "\u041e\u039f\u0555",
    "P": "\u0420\u03a1",
    "Q": "\u051a",
    "S": "\u0405",
    "T": "\u0422\u03a4",
    "W": "\u051c",
    "X": "\u0425\u03a7",
    "Y": "\u0423\u03a5\u04ae",
    "Z": "\u0396",
}
#: Look-alike character -> the Latin letter it imitates (Cyrillic, Greek, Armenian, IPA).
CONFUSABLES: dict[str, str] = {
    fake: latin for latin, fakes in _CONFUSABLE_GROUPS.items() for fake in fakes
}
_CONFUSABLE_TABLE = str.maketrans(CONFUSABLES)
_FAKE = "[" + "".join(sorted(CONFUSABLES)) + "]"
#: A run of letters holding at least one look-alike.
_FAKE_WORD = re.compile(rf"(?<![^\W\d_])[^\W\d_]*{_FAKE}[^\W\d_]*")

#: Leetspeak digit or symbol -> letter, applied only inside words (see :func:`normalize_text`).
LEET_DECODE: dict[str, str] = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "@": "a",
    "$": "s",
    "!": "i",
}
#: A leading digit before these endings is a number (``4th``, ``7pm``, ``5kg``), not leet.
_NUMBER_SUFFIXES = frozenset(
    "s st nd rd th k m h x d p am pm min mins hr hrs yr yrs gb mb kb tb g kg km cm mm ml l lb "
    "lbs ft in pc pcs".split()
)
_TLDS = (
    "com|net|org|edu|gov|io|co|ly|me|tv|be|gl|info|biz|us|uk|de|ru|pl|fr|es|it|nl|ca|au|in|br|jp"
)
_PROTECTED = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    rf"|(?<![\w.-])[\w-]+(?:\.[\w-]+)*\.(?:{_TLDS})\b(?:/\S*)?",
    re.IGNORECASE,
)
_LETTERS = re.compile(r"[^\W\d_]+")
_SPACED = re.compile(
    r"(?<![\w'\u2019])[^\W_]([ .\-*_~+\u00b7\u2022])[^\W_](?:\1[^\W_])+(?![\w'\u2019])"
)
#: A run of word characters and leet symbols holding a digit or a symbol.
_LEET_TOKEN = re.compile(r"(?<![\w@$!])[\w@$!]*[\d@$!][\w@$!]*")
_SYMBOL_RUN = re.compile(r"[@$!]+")
_DIGITS = re.compile(r"\d+")
_LEET_CHAR = re.compile(r"[\d@$!]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def split_protected(text: str) -> list[tuple[str, bool]]:
    """``[(chunk, is_link), ...]`` covering ``text``: links, domains and e-mail addresses
    are marked so that neither attacks nor normalization rewrite them."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in _PROTECTED.finditer(text):
        if m.start() > pos:
            out.append((text[pos : m.start()], False))
        out.append((m.group(), True))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def _drop_invisible(m: re.Match[str]) -> str:
    c = m.group()
    return "" if c in INVISIBLE_EXTRA or unicodedata.category(c) == "Cf" else c


def _remove_invisible(text: str) -> str:
    return text if text.isascii() else _NON_ASCII.sub(_drop_invisible, text)


def _fix_confusables(chunk: str) -> str:
    def fix(m: re.Match[str]) -> str:
        word = m.group()
        fakes = sum(c in CONFUSABLES for c in word)
        if not fakes:
            return word
        latin = any("a" <= c.lower() <= "z" for c in word)
        return word.translate(_CONFUSABLE_TABLE) if latin or fakes == len(word) else word

    return chunk if chunk.isascii() else _FAKE_WORD.sub(fix, chunk)


def _join_spaced(m: re.Match[str]) -> str:
    run = m.group()
    units = run[::2]
    return units if sum(c.isalpha() for c in units) >= 2 else run


def _decode_leet_token(m: re.Match[str]) -> str:
    """Decode runs of one or two leet symbols between two letters or digits, then digit
    runs that touch letters: inside a word (up to 3 digits), at the end of a word of 4 or
    more characters (up to 2), or a single leading digit other than ``4`` that is not a
    number's unit or ordinal (``4th``, ``7pm``)."""
    token = m.group()
    letters = [c for c in token if c.isalpha()]
    if not letters or token.isalpha():
        return token
    upper = len(letters) >= 2 and all(c.isupper() for c in letters)
    n = len(token)
    chars = list(token)
    for sym in _SYMBOL_RUN.finditer(token):
        start, end = sym.span()
        inside = 0 < start and end < n and token[start - 1].isalnum() and token[end].isalnum()
        if inside and end - start <= 2:
            chars[start:end] = [LEET_DECODE[c] for c in sym.group()]
    word = "".join(chars)
    for d in _DIGITS.finditer(word):
        start, end = d.span()
        run = d.group()
        if any(c not in LEET_DECODE for c in run):
            continue
        left = start > 0 and word[start - 1].isalpha()
        right = end < n and word[end].isalpha()
        if left and right:
            ok = len(run) <= 3
        elif left:  # "fr33" but not "mp3"
            ok = len(run) <= 2 and end >= 4
        elif right:
            tail = _LETTERS.match(word, end)
            suffix = tail.group().lower() if tail else ""
            ok = start == 0 and len(run) == 1 and run != "4" and suffix not in _NUMBER_SUFFIXES
        else:
            ok = False
        if ok:
            for i in range(start, end):
                chars[i] = LEET_DECODE[word[i]]
    for i, c in enumerate(chars):
        if c != token[i]:
            chars[i] = c.upper() if upper else c
    return "".join(chars)


def normalize_text(
    text: str,
    *,
    invisible: bool = True,
    nfkc: bool = True,
    confusables: bool = True,
    spacing: bool = True,
    leet: bool = True,
) -> str:
    """Undo invisible characters, compatibility forms, look-alikes, spaced-out letters and
    in-word leetspeak (see the module docstring); each step can be switched off.

    Example:
        >>> normalize_text("f.r.e.e m0n3y, I paid $100 for 2 nights, 4 stars")
        'free money, I paid $100 for 2 nights, 4 stars'
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize_text expects a string, got {type(text).__name__}")
    if invisible:
        text = _remove_invisible(text)
    if nfkc and not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    if not (confusables or spacing or leet):
        return text
    parts = []
    chunks = split_protected(text) if "." in text or "@" in text else [(text, False)]
    for chunk, is_link in chunks:
        if not is_link:
            if confusables:
                chunk = _fix_confusables(chunk)
            if spacing:
                chunk = _SPACED.sub(_join_spaced, chunk)
            if leet and _LEET_CHAR.search(chunk):
                chunk = _LEET_TOKEN.sub(_decode_leet_token, chunk)
        parts.append(chunk)
    return "".join(parts)


def normalize_texts(texts: Iterable[str], **steps: bool) -> list[str]:
    """:func:`normalize_text` of every text; ``steps`` are its keyword flags."""
    unknown = set(steps) - set(NORMALIZE_STEPS)
    if unknown:
        raise TypeError(f"unknown normalization steps {sorted(unknown)}; known: {NORMALIZE_STEPS}")
    return [normalize_text(t, **steps) for t in texts]
