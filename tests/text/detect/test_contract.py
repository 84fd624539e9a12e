"""The text detectors under the detector contract: keyword-only fit extras, the stored
threshold, decision_function's shape, and folders saved by socialgan 0.1.0 (format 1)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import socialgan
from socialgan.text import (
    CharCNNDetector,
    NormalizingDetector,
    SSGANDetector,
    StackedDetector,
    TfidfDetector,
    moderate,
)

from ..conftest import TINY_ENCODER, make_texts

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TFIDF = {"char_ngrams": (2, 3), "calibration_cv": 3, "style_weight": 0.0}
NEURAL = {**TINY_ENCODER, "max_epochs": 2, "min_steps": 4, "batch_size": 16, "lr": 1e-2}
MAKERS = {
    "tfidf": lambda: TfidfDetector(**TFIDF),
    "charcnn": lambda: CharCNNDetector(**NEURAL),
    "ssgan": lambda: SSGANDetector(**NEURAL, lsa_dim=8, noise_dim=4, hidden_dim=16),
    "hardened": lambda: NormalizingDetector(TfidfDetector(**TFIDF)),
}

#: The config.json fields socialgan 0.1.0 wrote (format 1), per detector.
FORMAT_1 = {
    "socialgan.text.TfidfDetector": (
        "format", "format_version", "name", "category", "params", "classes", "label_names",
        "head", "n_features", "selected", "selection_scores", "vectorizers", "vocabularies",
        "meta_encoder", "data", "metrics",
    ),
    "socialgan.text.StackedDetector": (
        "format", "format_version", "name", "category", "params", "classes", "label_names",
        "head", "selected", "selection_scores", "data", "metrics",
    ),
    "neural": (
        "format", "format_version", "name", "category", "params", "classes", "label_names",
        "state", "data", "metrics",
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def data() -> tuple[list[str], np.ndarray, list[str]]:
    texts, y = make_texts(60, seed=0)
    test, _ = make_texts(20, seed=7)
    return texts, y, test


@pytest.fixture(scope="module")
def fitted(data) -> dict[str, object]:
    texts, y, _ = data
    return {
        name: make().fit(texts, y, label_names=["ham", "spam"]) for name, make in MAKERS.items()
    }


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_fit_takes_nothing_positional_after_y(name, data):
    texts, y, _ = data
    with pytest.raises(TypeError, match="positional"):
        MAKERS[name]().fit(texts, y, ["ham", "spam"])


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_binary_detectors_predict_at_their_stored_threshold(name, fitted, data, tmp_path):
    det = fitted[name]
    test = data[2]
    proba = det.predict_proba(test)[:, 1]
    assert det.threshold == 0.5
    np.testing.assert_array_equal(det.predict(test), (proba >= 0.5).astype(np.int64))
    scores = det.decision_function(test)
    assert scores.shape == (len(test),)
    assert np.all(np.diff(proba[np.argsort(scores, kind="stable")]) >= -1e-9)  # same ranking
    try:
        det.threshold = float(np.median(proba))
        np.testing.assert_array_equal(det.predict(test), (proba >= det.threshold).astype(int))
        assert det.predict(test, threshold=0.0).all()  # a given threshold wins
        folder = det.save_pretrained(tmp_path / name)
        assert json.loads((folder / "config.json").read_text())["threshold"] == det.threshold
        loaded = socialgan.load(folder)
        assert loaded.threshold == det.threshold
        np.testing.assert_array_equal(loaded.predict(test), det.predict(test))
        assert moderate(test[:1], {"spam": loaded})[0]["thresholds"] == {"spam": det.threshold}
    finally:
        det.threshold = 0.5


def test_calibrated_threshold_bounds_the_false_positive_rate(fitted, data):
    det = fitted["tfidf"]
    texts, y, _ = data
    ham = [t for t, label in zip(texts, y, strict=True) if label == 0]
    try:
        det.calibrate_threshold(ham, target_fpr=0.1)
        assert det.predict(ham).mean() <= 0.1 and det.calibration_["n"] == len(ham)
    finally:
        det.threshold = 0.5


def test_multiclass_predicts_the_most_probable_class(tiny_multi):
    for det in (
        TfidfDetector(**TFIDF).fit(tiny_multi),
        StackedDetector(meta_columns=["party"], cv=3).fit(tiny_multi),
    ):
        proba = det.predict_proba(tiny_multi)
        det.threshold = 0.99  # moderation's threshold; predict ignores it
        np.testing.assert_array_equal(det.predict(tiny_multi), proba.argmax(1))
        assert det.decision_function(tiny_multi).shape == (len(tiny_multi), 3)
        with pytest.raises(ValueError, match="binary detectors only; this one has 3 classes"):
            det.predict(tiny_multi, threshold=0.3)


# ------------------------------------------------------------------ format 1 still loads
def _as_format_1(folder: Path) -> None:
    """Rewrite a folder saved now into the layout socialgan 0.1.0 wrote: ``format`` instead
    of ``model_type``, ``format_version`` 1, no ``threshold``; nested models too."""
    for sub in ("text", "meta"):
        if (folder / sub).is_dir():
            _as_format_1(folder / sub)
    path = folder / "config.json"
    config = json.loads(path.read_text())
    model_type = config.pop("model_type")
    fields = FORMAT_1.get(model_type, FORMAT_1["neural"])
    old = {**config, "format": model_type, "format_version": 1}
    assert set(old) - {"threshold"} == set(fields)
    path.write_text(json.dumps({k: old[k] for k in fields}))
    normalization = folder / "normalization.json"
    if normalization.is_file():
        steps = json.loads(normalization.read_text())["steps"]
        record = {"format": "socialgan.text.NormalizingDetector", "format_version": 1}
        normalization.write_text(json.dumps({**record, "detector": model_type, "steps": steps}))


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_format_1_folders_load(name, fitted, data, tmp_path):
    det = fitted[name]
    folder = det.save_pretrained(tmp_path / name, category="spam")
    _as_format_1(folder)
    assert "model_type" not in json.loads((folder / "config.json").read_text())
    for loaded in (socialgan.load(folder), type(det).from_pretrained(folder)):
        assert type(loaded) is type(det) and loaded.threshold == 0.5
        np.testing.assert_array_equal(loaded.predict_proba(data[2]), det.predict_proba(data[2]))


def test_format_1_stacked_folder_loads(tiny_multi, tmp_path):
    det = StackedDetector(meta_columns=["party"], cv=3).fit(tiny_multi)
    folder = det.save_pretrained(tmp_path / "stacked")
    _as_format_1(folder)
    loaded = socialgan.load(folder)
    assert isinstance(loaded, StackedDetector)
    np.testing.assert_array_equal(loaded.predict_proba(tiny_multi), det.predict_proba(tiny_multi))
