import json

import numpy as np
import pytest

from socialgan.errors import DataError
from socialgan.text.detect.classic import TfidfDetector
from socialgan.text.detect.evaluation import cross_validate, evaluate_split, format_table

from ..conftest import make_texts

SMALL = {"char_ngrams": (2, 4), "calibration_cv": 3}


def _sklearn_proba(det, X):
    texts, meta = det._split_input(X)
    return det.estimator_.predict_proba(det._features(texts, meta))


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"model": "logreg"},
        {"model": "logreg", "calibration": "none"},
        {"calibration_ensemble": True, "class_weight": "balanced"},
        {"model": "nbsvm", "C": [0.1, 1.0]},
    ],
)
def test_binary_fit_predict_matches_sklearn(tiny, params):
    det = TfidfDetector(**SMALL, **params).fit(
        tiny.texts, tiny.labels, label_names=tiny.label_names
    )
    test, y = make_texts(20, seed=5)
    proba = det.predict_proba(test)
    assert proba.shape == (20, 2) and np.allclose(proba.sum(1), 1)
    np.testing.assert_allclose(proba, _sklearn_proba(det, test), atol=1e-12)
    assert (det.predict(test) == y).mean() >= 0.9
    assert det.label_names_ == ["ham", "spam"] and det.classes_.tolist() == [0, 1]
    assert (det.predict(test, threshold=1.0) == 0).all()


@pytest.mark.parametrize("model", ["svm", "nbsvm", "logreg"])
def test_multiclass_with_meta_matches_sklearn(tiny_multi, model):
    det = TfidfDetector(
        **SMALL, model=model, meta_columns=["party", "tags", "count"], meta_weight=0.5
    )
    det.fit(tiny_multi)
    assert det.meta_encoder_.kinds == {
        "party": "categorical",
        "tags": "categorical",
        "count": "numeric",
    }
    assert det.meta_encoder_.vocab["tags"] == {"a": 0, "b": 1, "c": 2, "d": 3}
    frame = tiny_multi.to_frame()
    proba = det.predict_proba(frame)
    assert proba.shape == (90, 3)
    np.testing.assert_allclose(proba, _sklearn_proba(det, frame), atol=1e-12)
    with pytest.raises(ValueError, match="binary"):
        det.predict(frame, threshold=0.3)
    with pytest.warns(UserWarning, match="missing from the input"):
        assert det.predict_proba(tiny_multi.texts[:2]).shape == (2, 3)


def test_string_labels(tiny):
    names = np.array(tiny.label_names)[tiny.labels]
    det = TfidfDetector(**SMALL).fit(tiny.texts, names)
    assert det.classes_.tolist() == ["ham", "spam"]
    assert set(det.predict(tiny.texts[:4])) <= {"ham", "spam"}


@pytest.mark.parametrize(
    "params",
    [{}, {"model": "logreg", "calibration": "none"}, {"model": "nbsvm", "C": [0.1, 1.0, 10.0]}],
)
def test_save_load_round_trip(tmp_path, tiny, params):
    det = TfidfDetector(**SMALL, **params).fit(tiny)
    det.save_pretrained(tmp_path / "m", metrics={"cv_accuracy": 0.95}, category="spam")
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == ["README.md", "config.json", "model.safetensors"]
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["label_names"] == ["ham", "spam"] and "word" in config["vocabularies"]
    card = (tmp_path / "m" / "README.md").read_text()
    assert "cv_accuracy" in card and "Intended use" in card and "Limits" in card
    loaded = TfidfDetector.from_pretrained(tmp_path / "m")
    test, _ = make_texts(30, seed=9)
    test.append("completely unseen words zzz qqq")
    np.testing.assert_allclose(loaded.predict_proba(test), det.predict_proba(test), atol=1e-6)
    assert loaded.vectorizers_["char"].vocabulary_ == det.vectorizers_["char"].vocabulary_
    np.testing.assert_array_equal(loaded.vectorizers_["word"].idf_, det.vectorizers_["word"].idf_)
    assert loaded.json_params() == det.json_params() and loaded.category_ == "spam"
    assert loaded.C_ == det.C_ and det.C_ in np.atleast_1d(det.C)
    assert loaded.style_weight_ == det.style_weight_
    assert loaded.selection_scores_ == det.selection_scores_


def test_round_trip_multiclass_meta(tmp_path, tiny_multi):
    det = TfidfDetector(**SMALL, meta_columns=["party", "tags", "count"], positive_labels=["high"])
    det.fit(tiny_multi)
    det.save_pretrained(tmp_path)
    loaded = TfidfDetector.from_pretrained(tmp_path)
    frame = tiny_multi.to_frame()
    np.testing.assert_allclose(loaded.predict_proba(frame), det.predict_proba(frame), atol=1e-6)
    np.testing.assert_allclose(loaded.category_score(frame), det.predict_proba(frame)[:, 2])


def test_input_errors(tmp_path, tiny):
    det = TfidfDetector(**SMALL)
    with pytest.raises(ValueError, match="not fitted"):
        det.predict_proba(["x"])
    with pytest.raises(DataError, match="single string"):
        det.fit("just one text", [0])
    with pytest.raises(DataError, match="2 classes"):
        det.fit(["a b", "c d"], [1, 1])
    with pytest.raises(ValueError, match="model must be"):
        TfidfDetector(model="forest").fit(tiny)
    with pytest.raises(DataError, match="config.json missing"):
        TfidfDetector.from_pretrained(tmp_path)
    TfidfDetector(**SMALL).fit(tiny).save_pretrained(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(DataError, match="cannot read safetensors"):
        TfidfDetector.from_pretrained(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text('{"model_type": "other"}')
    with pytest.raises(DataError, match="unknown model_type 'other'; known: .*TfidfDetector"):
        TfidfDetector.from_pretrained(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text('{"model_type": "socialgan.text.SSGANDetector"}')
    with pytest.raises(DataError, match="holds a socialgan.text.SSGANDetector, not a socialgan"):
        TfidfDetector.from_pretrained(tmp_path / "m")


def test_cross_validate_and_groups(tiny):
    make = lambda: TfidfDetector(**SMALL)  # noqa: E731
    res = cross_validate(tiny, make, cv=3, progress=False)
    assert len(res["folds"]) == 3 and res["accuracy"] > 0.8 and 0 <= res["auc"] <= 1
    res = cross_validate(tiny, make, groups=True, progress=False)
    assert [f["group"] for f in res["folds"]] == ["v0", "v1", "v2"]
    assert "held-out group" in format_table(res)
    res = evaluate_split(tiny.subset(range(40)), {"rest": tiny.subset(range(40, 60))}, make)
    assert set(res["splits"]["rest"]) == {"accuracy", "macro_f1", "auc"}
    with pytest.raises(DataError, match="--cv"):
        cross_validate(tiny, make, cv=1)


def test_real_youtube_holdout(shared_data):
    from socialgan.text.data import load_youtube_spam

    d = load_youtube_spam(shared_data)
    train = d.subset(np.flatnonzero(d.groups != "Shakira"))
    test = d.subset(np.flatnonzero(d.groups == "Shakira"))
    det = TfidfDetector().fit(train)
    assert det.score(test, test.labels) > 0.9


def test_char_analyzer_spans_words_and_round_trips(tmp_path, tiny):
    wb = TfidfDetector(**SMALL).fit(tiny)
    plain = TfidfDetector(**SMALL, char_analyzer="char").fit(tiny)
    # char_wb pads each word with spaces; plain char n-grams run across word boundaries
    assert all(" " not in t.strip() for t in wb.vectorizers_["char"].vocabulary_)
    assert any(" " in t.strip() for t in plain.vectorizers_["char"].vocabulary_)
    plain.save_pretrained(tmp_path / "m")
    loaded = TfidfDetector.from_pretrained(tmp_path / "m")
    assert loaded.char_analyzer == "char" and loaded.vectorizers_["char"].analyzer == "char"
    test, _ = make_texts(20, seed=3)
    np.testing.assert_allclose(loaded.predict_proba(test), plain.predict_proba(test), atol=1e-6)
    with pytest.raises(ValueError, match="char_analyzer"):
        TfidfDetector(char_analyzer="chars").fit(tiny)


def test_liar_preset_down_weights_metadata(tiny_multi):
    from socialgan.text.detect.presets import preset_for

    weight = preset_for("liar:test")["detector"]["meta_weight"]
    assert 0 < weight < 1
    cols = ["party", "tags", "count"]
    full = TfidfDetector(**SMALL, meta_columns=cols, C=1.0, style_weight=0.0).fit(tiny_multi)
    scaled = TfidfDetector(
        **SMALL, meta_columns=cols, meta_weight=weight, C=1.0, style_weight=0.0
    ).fit(tiny_multi)
    texts, meta = full._split_input(tiny_multi)
    n_meta = full.meta_encoder_.n_features
    a = full._features(texts, meta).toarray()
    b = scaled._features(texts, meta).toarray()
    np.testing.assert_allclose(b[:, :-n_meta], a[:, :-n_meta])  # text blocks unchanged
    np.testing.assert_allclose(b[:, -n_meta:], weight * a[:, -n_meta:])


def test_label_ids_must_fit_label_names():
    texts, y = make_texts(30)
    with pytest.raises(DataError, match="do not fit 2 label_names"):
        TfidfDetector(**SMALL).fit(texts, y + 1, label_names=["ham", "spam"])
    with pytest.raises(DataError, match="at least 2 classes"):
        TfidfDetector(**SMALL).fit(texts, np.zeros(len(texts), dtype=int))


def test_style_weight_search_works_with_few_labels():
    """The C / style_weight search calibrates inside 3 inner folds: with 7 texts per class
    the inner folds hold 4-5, fewer than calibration_cv=5, so the folds are capped."""
    texts, y = make_texts(14)
    det = TfidfDetector().fit(texts, y)
    assert det.style_weight_ in (0.0, 0.2)
    assert set(det.selection_scores_) == {"C=1,style_weight=0", "C=1,style_weight=0.2"}
    assert all(v > 0 for v in det.selection_scores_.values())  # log-losses
