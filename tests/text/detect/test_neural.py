import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from socialgan.errors import DataError
from socialgan.text.detect.nets import TextFeatures, byte_ids, hashed_ngrams
from socialgan.text.detect.neural import CharCNNDetector, class_weights

from ..conftest import TINY_ENCODER, make_texts

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {
    **TINY_ENCODER,
    "batch_size": 16,
    "max_epochs": 8,
    "min_steps": 6,
    "lr": 1e-2,
}


@pytest.fixture(scope="module")
def fitted():
    texts, y = make_texts(80, seed=0)
    return CharCNNDetector(**TINY).fit(texts, y, label_names=["ham", "spam"])


def test_byte_and_hash_features():
    assert byte_ids("ab", 10).tolist() == [98, 99]
    assert byte_ids("é" * 10, 3).tolist() == [196, 170, 196]  # bytes, truncated
    ids = hashed_ngrams("Free money, free!", 2, 100)
    assert len(ids) == 5 + 4  # free money , free ! + 4 bigrams
    assert ids[0] == ids[3]  # case-folded, stable hash
    np.testing.assert_array_equal(ids, hashed_ngrams("free money, FREE!", 2, 100))
    feats = TextFeatures.encode(["", "abc"], max_len=8, hash_ngrams=1, hash_buckets=16, min_len=5)
    ids_t, lengths, grams, offsets = feats.batch([0, 1])
    assert ids_t.shape == (2, 5) and lengths.tolist() == [0, 3]
    assert offsets.tolist() == [0, 0] and len(grams) == 1


def test_class_weights():
    assert class_weights(np.array([0, 0, 0, 1]), 2, None) is None
    w = class_weights(np.array([0, 0, 0, 1]), 2, "balanced")
    np.testing.assert_allclose(w.numpy(), [4 / 6, 2.0], rtol=1e-6)
    with pytest.raises(ValueError, match="class_weight"):
        class_weights(np.array([0, 1]), 2, "auto")


def test_binary_fit_predict(fitted):
    test, y = make_texts(30, seed=5)
    proba = fitted.predict_proba(test)
    assert proba.shape == (30, 2) and np.allclose(proba.sum(1), 1)
    assert (fitted.predict(test) == y).mean() >= 0.9
    assert fitted.classes_.tolist() == [0, 1] and fitted.label_names_ == ["ham", "spam"]
    assert (fitted.predict(test, threshold=0.0) == 1).all()
    np.testing.assert_allclose(fitted.category_score(test), proba[:, 1])
    log_odds = fitted.decision_function(test)  # binary: (N,), like scikit-learn
    assert log_odds.shape == (30,)
    np.testing.assert_allclose(1 / (1 + np.exp(-log_odds)), proba[:, 1])
    assert fitted.history_ and fitted.best_epoch_ >= 1
    assert fitted.predict_proba([]).shape == (0, 2)


def test_any_length_and_batch_independence(fitted):
    texts = ["", "x" * 5000, "ü" * 3000, "free money click", "love this song"]
    proba = fitted.predict_proba(texts)
    assert proba.shape == (5, 2) and np.isfinite(proba).all()
    alone = np.vstack([fitted.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(proba, alone, atol=1e-6)


def test_multiclass_and_moderation_labels(tiny_multi):
    det = CharCNNDetector(**TINY).fit(tiny_multi)
    proba = det.predict_proba(tiny_multi)
    assert proba.shape == (90, 3)
    assert det.label_names_ == ["low", "mid", "high"]
    assert det.score(tiny_multi.texts, tiny_multi.labels) >= 0.9
    with pytest.raises(ValueError, match="binary"):
        det.predict(tiny_multi.texts, threshold=0.3)
    with pytest.raises(ValueError, match="positive_labels"):
        det.category_score(tiny_multi.texts)
    det.positive_labels = ["high", "mid"]
    np.testing.assert_allclose(det.category_score(tiny_multi.texts), proba[:, 1:].sum(1))


def test_string_labels_dataframe_and_cnn_only():
    texts, y = make_texts(60, seed=2)
    names = np.array(["ham", "spam"])[y]
    frame = pd.DataFrame({"body": texts})
    params = {**TINY, "hash_ngrams": 0, "class_weight": "balanced"}
    det = CharCNNDetector(**params, text_column="body").fit(frame, names)
    assert det.model_.encoder.grams is None
    assert det.classes_.tolist() == ["ham", "spam"]
    assert (det.predict(frame) == names).mean() >= 0.8


def test_deterministic_with_seed():
    texts, y = make_texts(40, seed=3)
    test, _ = make_texts(10, seed=4)
    short = {**TINY, "max_epochs": 3}
    a = CharCNNDetector(**short).fit(texts, y).predict_proba(test)
    b = CharCNNDetector(**short).fit(texts, y).predict_proba(test)
    c = CharCNNDetector(**short, random_state=1).fit(texts, y).predict_proba(test)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert clone(CharCNNDetector(**TINY)).get_params()["kernel_sizes"] == (3, 5)


def test_save_load_round_trip(fitted, tmp_path):
    out = fitted.save_pretrained(tmp_path / "m", metrics={"accuracy": 0.9}, category="spam")
    files = sorted(p.name for p in out.iterdir())
    assert files == ["README.md", "config.json", "model.safetensors"]
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "socialgan.text.CharCNNDetector"
    assert config["threshold"] == 0.5
    assert config["params"]["kernel_sizes"] == [3, 5]
    assert "Byte CNN" in (out / "README.md").read_text()
    loaded = CharCNNDetector.from_pretrained(out)
    test, _ = make_texts(25, seed=9)
    np.testing.assert_array_equal(loaded.predict_proba(test), fitted.predict_proba(test))
    assert loaded.label_names_ == ["ham", "spam"] and loaded.name_ == "socialgan-charcnn-spam"
    assert loaded.get_params() == fitted.get_params()


def test_load_errors(fitted, tmp_path):
    with pytest.raises(DataError, match="missing"):
        CharCNNDetector.from_pretrained(tmp_path)
    out = fitted.save_pretrained(tmp_path / "m")
    config = json.loads((out / "config.json").read_text())
    other = {**config, "model_type": "socialgan.text.SSGANDetector"}
    (out / "config.json").write_text(json.dumps(other))
    with pytest.raises(DataError, match="holds a socialgan.text.SSGANDetector, not a socialgan"):
        CharCNNDetector.from_pretrained(out)
    (out / "config.json").write_text(json.dumps({**config, "state": {"n_classes": 5}}))
    with pytest.raises(DataError, match="model.safetensors: the weights do not fit config.json"):
        CharCNNDetector.from_pretrained(out)


def test_bad_inputs(fitted):
    det = CharCNNDetector(**TINY)
    with pytest.raises(DataError, match="empty"):
        det.fit([], [])
    with pytest.raises(DataError, match="3 labels for 2 texts"):
        det.fit(["a", "b"], [0, 1, 1])
    with pytest.raises(DataError, match="text 1: expected a string"):
        det.fit(["a", 5], [0, 1])
    with pytest.raises(DataError, match="single string"):
        fitted.predict_proba("free money")
    with pytest.raises(DataError, match="at least 2 classes"):
        det.fit(["a", "b"], [1, 1])
    with pytest.raises(DataError, match="-1"):
        det.fit(["a", "b", "c"], [0, 1, -1])
    with pytest.raises(DataError, match="text 0"):
        fitted.predict([None])
    with pytest.raises(ValueError, match="not fitted"):
        det.predict(["a"])
