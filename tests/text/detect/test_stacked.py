import json

import numpy as np
import pandas as pd
import pytest

from socialgan.errors import DataError
from socialgan.text import StackedDetector, TfidfDetector, load_text_detector
from socialgan.text.data import TextDataset

COLS = ["party", "tags", "count"]


def _meta_decides(n: int, seed: int) -> TextDataset:
    """The label is the speaker's party; the texts are shared filler, no signal."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n)
    words = ["tax", "war", "school", "jobs", "health", "vote", "plan", "bill"]
    texts = [" ".join(rng.choice(words, size=5)) for _ in range(n)]
    party = np.where(rng.random(n) < 0.9, labels, 1 - labels)
    meta = pd.DataFrame({"party": np.array(["red", "blue"])[party]})
    return TextDataset(texts, labels, ["false", "true"], meta=meta, name="meta-decides")


def test_multiclass_probabilities(tiny_multi):
    det = StackedDetector(meta_columns=COLS, cv=3).fit(tiny_multi)
    proba = det.predict_proba(tiny_multi)
    assert proba.shape == (len(tiny_multi), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert det.score(tiny_multi, tiny_multi.labels) > 0.8
    assert det.label_names_ == ["low", "mid", "high"]
    assert det.head_.n_features == 6  # log-probabilities of two base models, 3 classes each


def test_combiner_follows_the_informative_block():
    train, test = _meta_decides(300, seed=0), _meta_decides(200, seed=1)
    stacked = StackedDetector(meta_columns=["party"], cv=5).fit(train)
    text_only = TfidfDetector(model="logreg", char_ngrams=None, calibration="none").fit(train)
    assert text_only.score(test, test.labels) < 0.65  # the text carries nothing
    assert stacked.score(test, test.labels) > 0.8  # the party does (90% agreement)
    coef = stacked.head_.coef[0, 0]  # binary: one decision value over [text p0, p1, meta p0, p1]
    assert abs(coef[3] - coef[2]) > abs(coef[1] - coef[0])


def test_combiner_sees_out_of_fold_probabilities():
    # unique tokens and random labels: in-sample the text model memorizes, out of fold it
    # knows nothing; the combiner must be fitted on the latter.
    rng = np.random.default_rng(0)
    n = 120
    texts = [f"token{i} word{i} unique{i}" for i in range(n)]
    labels = rng.integers(0, 2, size=n)
    meta = pd.DataFrame({"party": rng.choice(["a", "b"], size=n)})
    data = TextDataset(texts, labels, ["x", "y"], meta=meta, name="memorize")
    det = StackedDetector(meta_columns=["party"], text_params={"C": 100.0}, cv=4).fit(data)
    assert det.text_model_.score(data, labels) > 0.95  # memorized in sample
    text, _ = det._base_params()
    folds = [(np.arange(n) % 4 != k, np.arange(n) % 4 == k) for k in range(4)]
    oof = det._oof_proba(
        data, labels, text, [(np.flatnonzero(a), np.flatnonzero(b)) for a, b in folds]
    )
    assert np.mean(oof.argmax(axis=1) == labels) < 0.65
    # the combiner learned that the text model's out-of-fold guesses carry nothing
    coef = det.head_.coef[0, 0]
    assert abs(coef[1] - coef[0]) < 0.5


def test_round_trip(tmp_path, tiny_multi):
    det = StackedDetector(
        meta_columns=COLS,
        cv=3,
        text_params={"C": [0.1, 1.0]},
        combiner_C=[0.1, 1.0],
        positive_labels=["high"],
    )
    det.fit(tiny_multi)
    scores = det.selection_scores_
    assert set(scores) == {"text_C=0.1", "text_C=1", "meta_C=0.1", "combiner_C=0.1", "combiner_C=1"}
    assert det.selected_["text_C"] == min((1.0, 0.1), key=lambda c: scores[f"text_C={c:g}"])
    assert det.text_model_.C_ == det.selected_["text_C"]
    out = det.save_pretrained(tmp_path / "m", category="fake_news", metrics={"acc": 0.5})
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "socialgan.text.StackedDetector"
    assert (out / "text" / "model.safetensors").is_file()
    assert "Stacking" in (out / "README.md").read_text()
    for loaded in (StackedDetector.from_pretrained(out), load_text_detector(out)):
        assert isinstance(loaded, StackedDetector)
        np.testing.assert_allclose(
            loaded.predict_proba(tiny_multi), det.predict_proba(tiny_multi), atol=1e-10
        )
        np.testing.assert_allclose(
            loaded.category_score(tiny_multi), det.predict_proba(tiny_multi)[:, 2]
        )


def test_bad_input(tmp_path, tiny_multi):
    with pytest.raises(ValueError, match="meta_columns"):
        StackedDetector().fit(tiny_multi)
    with pytest.raises(DataError, match="smallest class count"):
        StackedDetector(meta_columns=COLS, cv=1000).fit(tiny_multi)
    with pytest.raises(DataError, match="labels for"):
        StackedDetector(meta_columns=COLS).fit(tiny_multi.meta.assign(text="x"), [0, 1])
    with pytest.raises(DataError, match="config.json missing"):
        StackedDetector.from_pretrained(tmp_path)
    with pytest.raises(ValueError, match="not fitted"):
        StackedDetector(meta_columns=COLS).predict_proba(["x"])


def test_missing_metadata_warns_and_scores(tiny_multi):
    det = StackedDetector(meta_columns=COLS, cv=3).fit(tiny_multi)
    with pytest.warns(UserWarning, match="scored as unknown"):
        proba = det.predict_proba(["tax money budget item1"])
    assert proba.shape == (1, 3) and proba[0].argmax() == 0
