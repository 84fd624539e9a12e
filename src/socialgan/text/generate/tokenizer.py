"""``TextTokenizer``: the subword (BPE) or word vocabulary of the text generators.

Trained offline on the user's corpus with the Hugging Face ``tokenizers`` library (no
download, no byte-level alphabet: a character never seen in training becomes ``<unk>``).

* **Normalisation**: NFKC, every run of whitespace becomes one space (optionally lower
  case).
* **Pre-tokenizer**: a ``▁`` marks each space (SentencePiece's Metaspace), then every word
  is cut into links (``http://...``), mentions and hashtags (``@united``, ``#fail``), words
  (with inner ``'`` ``.`` ``:`` ``,`` ``-``: ``don't``, ``5:30``) and single punctuation
  marks or emoji, each keeping the ``▁`` of a space before it. Posts keep their handles and
  links whole, which is why this is not the stock ``Whitespace`` pre-tokenizer.
* **Model**: ``kind="bpe"``: BPE merges inside those pieces; ``kind="word"``: one id per
  piece, for short posts where whole words read better than subwords.
* **Special ids**: ``<pad>`` = 0, ``<bos>`` = 1, ``<eos>`` = 2, ``<unk>`` = 3, then one
  ``<label:NAME>`` class token per label of a conditional model.
* **Decoding** glues the pieces and turns each ``▁`` back into a space, so
  ``decode(encode(x)) == x`` up to whitespace runs whenever every character of ``x`` was
  seen in training (``"really!!!"`` stays ``"really!!!"``, ``"a , b"`` stays ``"a , b"``).

Why the ``▁`` marker and not a ``##`` continuation prefix: ``tokenizers``' BPE trainer
numbers ``##`` pieces in hash-map order, so the same corpus gave a different vocabulary in
each process; with plain characters training is deterministic, and so is a whole fit.

The saved form (:meth:`TextTokenizer.to_json`) is a plain ``tokenizers`` JSON file (it opens
with ``tokenizers.Tokenizer.from_file`` too); kind, case folding and labels are read back
from it.

Example:
    >>> from socialgan.text.generate import TextTokenizer
    >>> tok = TextTokenizer(kind="word").train(["hello world!", "hello there"], min_frequency=1)
    >>> tok.decode(tok.encode("hello world!"))
    'hello world!'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from socialgan.errors import DataError

__all__ = [
    "BOS",
    "EOS",
    "LABEL_PREFIX",
    "PAD",
    "SPECIALS",
    "TOKENIZER_KINDS",
    "UNK",
    "TextTokenizer",
    "label_token",
]

PAD, BOS, EOS, UNK = 0, 1, 2, 3
#: The tokens of ids ``PAD, BOS, EOS, UNK``, first in every vocabulary.
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")
LABEL_PREFIX = "<label:"
TOKENIZER_KINDS = ("bpe", "word")
SPACE = "\u2581"  # "▁", the Metaspace marker of a space
_NOT_SPACE = rf"[^\s{SPACE}]"
#: A piece: an optional space marker, then a link, a mention/hashtag or word, or one other
#: character.
PIECE_PATTERN = (
    rf"{SPACE}?(?:https?://{_NOT_SPACE}+|www\.{_NOT_SPACE}+"
    rf"|[@#]?\w+(?:['’.:,\-]\w+)*|[^\w\s{SPACE}])"
)
#: How a ``<unk>`` reads in decoded text.
UNK_TEXT = "\ufffd"


def _tk() -> Any:
    """The ``tokenizers`` package, with an install hint when it is missing."""
    try:
        import tokenizers
    except ImportError as e:  # pragma: no cover - installed with the `text` extra
        raise ImportError(
            "the text generators need the `tokenizers` package: pip install 'socialgan[text]'"
        ) from e
    return tokenizers


def label_token(name: str) -> str:
    """The class token of label ``name``: ``<label:NAME>``."""
    return f"{LABEL_PREFIX}{name}>"


class TextTokenizer:
    """A BPE or word-level tokenizer trained on a corpus, with class tokens.

    Args:
        kind: ``"bpe"`` (subwords, the default) or ``"word"`` (whole words).
        lowercase: fold case before tokenizing (default off: case carries tone in posts).
    """

    def __init__(self, kind: str = "bpe", *, lowercase: bool = False) -> None:
        if kind not in TOKENIZER_KINDS:
            raise DataError(f"tokenizer kind must be one of {TOKENIZER_KINDS}, got {kind!r}")
        self.kind = kind
        self.lowercase = bool(lowercase)
        self.label_names: list[str] = []
        self._tok: Any = None

    # ---------------------------------------------------------------- training
    def _empty(self) -> Any:
        tk = _tk()
        model_cls = tk.models.BPE if self.kind == "bpe" else tk.models.WordLevel
        tok = tk.Tokenizer(model_cls(unk_token=SPECIALS[UNK]))
        norms = [
            tk.normalizers.NFKC(),
            tk.normalizers.Replace(SPACE, " "),
            tk.normalizers.Replace(tk.Regex(r"\s+"), " "),
            tk.normalizers.Strip(),
        ]
        tok.normalizer = tk.normalizers.Sequence(
            norms + ([tk.normalizers.Lowercase()] if self.lowercase else [])
        )
        meta = {"replacement": SPACE, "prepend_scheme": "always", "split": True}
        tok.pre_tokenizer = tk.pre_tokenizers.Sequence(
            [
                tk.pre_tokenizers.Metaspace(**meta),
                tk.pre_tokenizers.Split(tk.Regex(PIECE_PATTERN), behavior="isolated"),
            ]
        )
        tok.decoder = tk.decoders.Metaspace(**meta)
        return tok

    def train(
        self,
        texts: Iterable[str],
        vocab_size: int = 4000,
        min_frequency: int = 2,
        *,
        label_names: Sequence[str] = (),
    ) -> TextTokenizer:
        """Learn the vocabulary of ``texts`` (at most ``vocab_size`` ids, specials and class
        tokens included; pieces seen fewer than ``min_frequency`` times are left out) and
        add one ``<label:NAME>`` token per entry of ``label_names``."""
        names = [str(n) for n in label_names]
        if len(set(names)) != len(names):
            raise DataError(f"label names must be distinct, got {names}")
        specials = [*SPECIALS, *(label_token(n) for n in names)]
        if vocab_size <= len(specials):
            raise DataError(
                f"vocab_size={vocab_size} leaves no room beside the {len(specials)} special "
                "and class tokens; raise it"
            )
        if min_frequency < 1:
            raise DataError(f"min_frequency must be >= 1, got {min_frequency}")
        tk = _tk()
        trainer_cls = tk.trainers.BpeTrainer if self.kind == "bpe" else tk.trainers.WordLevelTrainer
        trainer = trainer_cls(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            special_tokens=specials,
            show_progress=False,
        )
        tok = self._empty()
        tok.train_from_iterator(list(texts), trainer)
        self._tok, self.label_names = tok, names
        self._check_layout()
        return self

    def _check_layout(self) -> None:
        """Specials at ids 0..3 and class tokens right after them, as the models assume."""
        for i, token in enumerate([*SPECIALS, *map(label_token, self.label_names)]):
            if self._tok.token_to_id(token) != i:
                raise DataError(f"tokenizer: {token!r} must have id {i}")

    # ---------------------------------------------------------------- use
    @property
    def tokenizer(self) -> Any:
        """The underlying ``tokenizers.Tokenizer`` (raises before :meth:`train`)."""
        if self._tok is None:
            raise RuntimeError("this TextTokenizer is not trained: call train() or from_json()")
        return self._tok

    @property
    def vocab_size(self) -> int:
        """Number of ids, specials and class tokens included."""
        return int(self.tokenizer.get_vocab_size())

    @property
    def num_special(self) -> int:
        """Ids below this are specials or class tokens, never text."""
        return len(SPECIALS) + len(self.label_names)

    def label_id(self, name: str) -> int:
        """The id of ``<label:NAME>``; ``DataError`` listing the known labels otherwise."""
        if name not in self.label_names:
            known = ", ".join(map(repr, self.label_names)) or "none (unconditional tokenizer)"
            raise DataError(f"unknown label {name!r}; known labels: {known}")
        return len(SPECIALS) + self.label_names.index(name)

    def encode(self, text: str) -> list[int]:
        """The ids of ``text``, without ``<bos>``/``<eos>``. A special token written in the
        text (``"<eos>"``) is not obeyed: it becomes ``<unk>``."""
        ids = self.tokenizer.encode(text, add_special_tokens=False).ids
        return [UNK if i < self.num_special else int(i) for i in ids]

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """:meth:`encode` of each text (in parallel inside ``tokenizers``)."""
        out = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [[UNK if i < self.num_special else int(i) for i in e.ids] for e in out]

    def decode(self, ids: Iterable[int]) -> str:
        """Readable text: specials and class tokens dropped, ``<unk>`` shown as U+FFFD,
        pieces glued, each ``▁`` a space again."""
        tok, n_special, vocab = self.tokenizer, self.num_special, self.vocab_size
        pieces = [
            UNK_TEXT if i == UNK else str(tok.id_to_token(i))
            for i in map(int, ids)
            if i == UNK or n_special <= i < vocab
        ]
        return "".join(pieces).replace(SPACE, " ").strip()

    # ---------------------------------------------------------------- persistence
    def to_json(self) -> str:
        """The tokenizer as a ``tokenizers`` JSON string (``tokenizer.json``)."""
        return str(self.tokenizer.to_str())

    @classmethod
    def from_json(cls, data: str, *, where: str = "tokenizer.json") -> TextTokenizer:
        """Inverse of :meth:`to_json`; ``where`` names the source in error messages."""
        kinds = {"BPE": "bpe", "WordLevel": "word"}
        try:
            raw = json.loads(data)
            model_type = raw["model"]["type"]
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise DataError(f"{where}: not a tokenizers JSON file ({e})") from None
        if model_type not in kinds:
            raise DataError(f"{where}: model type {model_type!r} is not BPE or WordLevel")
        try:
            tok = _tk().Tokenizer.from_str(data)
        except Exception as e:  # tokenizers raises its own Exception subclass
            raise DataError(f"{where}: not a tokenizers JSON file ({e})") from None
        self = cls(kinds[model_type], lowercase="Lowercase" in json.dumps(raw.get("normalizer")))
        added = sorted((a["id"], a["content"]) for a in raw.get("added_tokens", []))
        self.label_names = [
            content[len(LABEL_PREFIX) : -1]
            for _, content in added
            if content.startswith(LABEL_PREFIX) and content.endswith(">")
        ]
        self._tok = tok
        try:
            self._check_layout()
        except DataError as e:
            raise DataError(f"{where}: {e}") from None
        return self
