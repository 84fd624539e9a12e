"""MiniLMDetector: the packaged all-MiniLM-L6-v2, fine-tuned for a few steps on tiny data."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import socialgan
from socialgan.errors import DataError
from socialgan.text import MiniLMDetector, moderate
from socialgan.text.detect.finetuned import TokenFeatures
from socialgan.text.minilm import load_tokenizer

from ..conftest import make_texts

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {"max_tokens": 16, "batch_size": 8, "max_epochs": 2, "min_steps": 6, "head_lr": 5e-3}


@pytest.fixture(scope="module")
def fitted() -> MiniLMDetector:
    texts, y = make_texts(48, seed=0)
    return MiniLMDetector(**TINY).fit(texts, y, label_names=["ham", "spam"])


def test_token_features_pad_and_mask():
    tok = load_tokenizer()
    feats = TokenFeatures.encode(tok, ["hi", "a much longer text than the first"], 6)
    assert feats.lengths().tolist()[1] == 6  # truncated, [CLS] and [SEP] included
    ids, mask = feats.batch([0, 1])
    assert ids.shape == mask.shape == (2, 6)
    assert mask[0].tolist() == [1, 1, 1, 0, 0, 0]
    assert ids[0, 0].item() == tok.cls_token_id and ids[0, 3].item() == tok.pad_token_id


def test_learns_a_separable_task(fitted):
    test, y = make_texts(24, seed=5)
    proba = fitted.predict_proba(test)
    assert proba.shape == (24, 2) and np.allclose(proba.sum(1), 1)
    assert (fitted.predict(test) == y).mean() >= 0.9
    assert fitted.decision_function(test).shape == (24,)
    assert len(fitted.history_) >= 1 and "val_loss" in fitted.history_[0]
    # padding does not change a text's score: alone or batched with longer texts
    alone = fitted.predict_proba(test[:1])
    np.testing.assert_allclose(alone, proba[:1], atol=1e-5)


def test_fine_tuning_moves_the_encoder(fitted):
    from socialgan.text.minilm import load_encoder

    base = load_encoder(pooler=False).state_dict()
    tuned = fitted.model_.encoder.state_dict()
    key = "encoder.layer.5.attention.self.query.weight"
    assert not torch.equal(base[key], tuned[key])


def test_save_load_round_trip(fitted, tmp_path):
    texts, _ = make_texts(10, seed=9)
    fitted.threshold = 0.3
    fitted.save_pretrained(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["model_type"] == "socialgan.text.MiniLMDetector"
    assert "pooler" not in " ".join(config["state"]["bert_config"])
    again = socialgan.load(tmp_path / "m")
    assert isinstance(again, MiniLMDetector) and again.threshold == 0.3
    np.testing.assert_allclose(again.predict_proba(texts), fitted.predict_proba(texts), atol=1e-6)
    out = moderate(["free money click now"], {"machine_generated": again})[0]
    assert set(out["categories"]) == {"machine_generated"}
    fitted.threshold = 0.5


def test_same_seed_same_model():
    texts, y = make_texts(16, seed=1)
    kw = {**TINY, "max_epochs": 1, "min_steps": 2, "validation_fraction": 0.0}
    a = MiniLMDetector(**kw).fit(texts, y).predict_proba(texts)
    b = MiniLMDetector(**kw).fit(texts, y).predict_proba(texts)
    np.testing.assert_array_equal(a, b)


def test_bad_input():
    with pytest.raises(DataError, match="empty"):
        MiniLMDetector(**TINY).fit([], [])
    with pytest.raises(DataError, match="labels"):
        MiniLMDetector(**TINY).fit(["a", "b"], [0])
    with pytest.raises(ValueError, match="max_tokens"):
        MiniLMDetector(max_tokens=1000).fit(["a", "b"], [0, 1])
    with pytest.raises(ValueError, match="not fitted"):
        MiniLMDetector().predict_proba(["a"])


def test_word_piece_table_frozen_by_default(fitted):
    from socialgan.text.minilm import load_encoder

    base = load_encoder(pooler=False).state_dict()["embeddings.word_embeddings.weight"]
    tuned = fitted.model_.encoder.state_dict()["embeddings.word_embeddings.weight"]
    assert torch.equal(base, tuned)
