"""TextTokenizer: BPE and word vocabularies, specials, class tokens, round trips."""

from __future__ import annotations

import json

import pytest
from tokenizers import Tokenizer

from socialgan.errors import DataError
from socialgan.text.generate import TextTokenizer
from socialgan.text.generate.tokenizer import BOS, EOS, PAD, SPECIALS, UNK, UNK_TEXT

from .tweets import LABELS, TWEETS


@pytest.fixture(scope="module")
def bpe() -> TextTokenizer:
    return TextTokenizer().train(TWEETS, vocab_size=150, min_frequency=1)


def test_specials_come_first() -> None:
    tok = TextTokenizer("word").train(TWEETS, 100, 1, label_names=["negative", "positive"])
    assert (PAD, BOS, EOS, UNK) == (0, 1, 2, 3)
    assert [tok.tokenizer.id_to_token(i) for i in range(6)] == [
        *SPECIALS,
        "<label:negative>",
        "<label:positive>",
    ]
    assert tok.label_id("positive") == 5 and tok.num_special == 6
    assert tok.vocab_size <= 100


@pytest.mark.parametrize("kind", ["bpe", "word"])
def test_decode_of_encode_reads_like_the_text(kind: str) -> None:
    tok = TextTokenizer(kind).train(TWEETS, vocab_size=400, min_frequency=1)
    for text in ["@united thanks for the upgrade, great flight!", "@delta so angry :)"]:
        ids = tok.encode(text)
        assert all(i >= tok.num_special for i in ids)
        assert tok.decode(ids) == text
    # runs of whitespace (newlines too) read as one space
    assert tok.decode(tok.encode("@united  great\n flight")) == "@united great flight"


def test_bpe_splits_unseen_words_into_subwords(bpe: TextTokenizer) -> None:
    ids = bpe.encode("greatest")  # never in the corpus, but its letters are
    assert UNK not in ids and len(ids) > 1
    assert bpe.decode(ids) == "greatest"


def test_unseen_characters_and_written_specials_become_unk() -> None:
    word = TextTokenizer("word").train(TWEETS, 200, 1)
    assert word.encode("zebra") == [UNK]
    assert word.decode(word.encode("great zebra")) == f"great{UNK_TEXT}"
    bpe = TextTokenizer().train(TWEETS, 200, 1)
    assert UNK in bpe.encode("ZQ")  # letters never seen
    # a special token typed in the text is not obeyed
    assert EOS not in bpe.encode("great <eos> flight") and UNK in bpe.encode("<eos>")


def test_lowercase_is_optional() -> None:
    cased = TextTokenizer("word").train(TWEETS, 300, 1)
    folded = TextTokenizer("word", lowercase=True).train(TWEETS, 300, 1)
    assert cased.encode("GREAT") == [UNK]
    assert folded.decode(folded.encode("GREAT flight")) == "great flight"


def test_training_is_deterministic() -> None:
    """tokenizers' BPE trainer numbers ``##`` continuation pieces in hash order; this
    tokenizer avoids them, so the same corpus gives the same file every time."""
    first = TextTokenizer().train(TWEETS, 150, 1).to_json()
    assert all(TextTokenizer().train(TWEETS, 150, 1).to_json() == first for _ in range(3))


def test_json_round_trip_keeps_kind_case_and_labels() -> None:
    names = sorted(set(LABELS))
    tok = TextTokenizer("word", lowercase=True).train(TWEETS, 120, 1, label_names=names)
    back = TextTokenizer.from_json(tok.to_json())
    assert (back.kind, back.lowercase, back.label_names) == ("word", True, names)
    assert back.encode(TWEETS[3]) == tok.encode(TWEETS[3])
    # a plain tokenizers file
    assert Tokenizer.from_str(tok.to_json()).get_vocab_size() == tok.vocab_size


def test_bad_input_is_a_data_error(bpe: TextTokenizer) -> None:
    with pytest.raises(DataError, match="kind must be one of"):
        TextTokenizer("char")
    with pytest.raises(DataError, match="no room"):
        TextTokenizer().train(TWEETS, vocab_size=4)
    with pytest.raises(DataError, match="unknown label 'spam'; known labels: none"):
        bpe.label_id("spam")
    with pytest.raises(DataError, match="not a tokenizers JSON"):
        TextTokenizer.from_json("{not json", where="x/tokenizer.json")
    broken = json.loads(bpe.to_json())
    broken["model"]["type"] = "Unigram"
    with pytest.raises(DataError, match="x.json: model type 'Unigram'"):
        TextTokenizer.from_json(json.dumps(broken), where="x.json")
    with pytest.raises(RuntimeError, match="not trained"):
        TextTokenizer().encode("hi")
