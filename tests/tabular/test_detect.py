"""AccountDetector on synthetic account tables: it separates bots, saves and loads to the
same probabilities, reproduces, calibrates, moderates, and names what is wrong with bad
input; one 5-fold CV on the real twitter_bots table when the shared data is there."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import socialgan
from socialgan.detector import Detector
from socialgan.errors import DataError
from socialgan.tabular import AccountDetector, load_twitter_bots
from socialgan.tabular.detect import cross_validate

pytestmark = pytest.mark.usefixtures("one_torch_thread")
pytest.importorskip("lightgbm", reason="the `tabular` extra: pip install 'socialgan[tabular]'")

#: A small, fast MLP for the tests.
MLP: dict[str, Any] = {"hidden_sizes": (16,), "epochs": 60, "patience": 10}
WORDS = "sun moon river stone maple cedar blue quiet lucky happy north amber".split()


def synthetic_accounts(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Bot-like rows (few followers, many statuses per day, digits in screen names) and
    human-like rows, each signal noisy so that no single one separates them."""
    rng = np.random.default_rng(seed)
    bot = rng.random(n) < 0.4
    age = rng.integers(30, 3000, n)
    created = pd.Timestamp("2017-06-01") - pd.to_timedelta(age, unit="D")
    per_day = np.where(bot, rng.lognormal(3.0, 1.0, n), rng.lognormal(1.0, 1.0, n))
    names = []
    for is_bot in bot:
        base = "".join(rng.choice(WORDS, 2))
        digits = rng.random() < (0.8 if is_bot else 0.2)
        names.append(base + (str(rng.integers(10, 99999)) if digits else ""))
    return pd.DataFrame(
        {
            "screen_name": names,
            "name": [s.rstrip("0123456789").title() for s in names],
            "followers_count": rng.poisson(np.where(bot, 15, 300)),
            "friends_count": rng.poisson(np.where(bot, 600, 250)),
            "statuses_count": (per_day * age).astype(np.int64),
            "favourites_count": rng.poisson(np.where(bot, 5, 400)),
            "created_at": created,
            "verified": rng.random(n) < np.where(bot, 0.01, 0.15),
            "lang": rng.choice(["en", "es", "fr"], n, p=[0.7, 0.2, 0.1]),
            "description": [f"{rng.choice(WORDS)} {rng.choice(WORDS)}" for _ in range(n)],
            "bot": bot.astype(np.int64),
        }
    )


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return synthetic_accounts(500, seed=0)


@pytest.fixture(scope="module")
def detectors(table) -> dict[str, AccountDetector]:
    train = table.iloc[:300]
    return {
        "gbm": AccountDetector("gbm", n_estimators=100).fit(train),
        "mlp": AccountDetector("mlp", **MLP).fit(train),
    }


@pytest.mark.parametrize("model", ["gbm", "mlp"])
def test_separates_held_out_synthetic_bots(detectors, table, model):
    det, test = detectors[model], table.iloc[300:]
    assert isinstance(det, Detector)
    proba = det.predict_proba(test)
    auc = roc_auc_score(test["bot"], proba[:, 1])
    assert auc > 0.9, auc
    assert proba.shape == (200, 2) and np.allclose(proba.sum(axis=1), 1)
    scores = det.decision_function(test)
    assert scores.shape == (200,) and np.allclose(1 / (1 + np.exp(-scores)), proba[:, 1])
    assert set(det.predict(test)) <= {0, 1}
    assert (det.predict(test, threshold=0.0) == 1).all()
    assert "bot" not in det.features_.columns_


@pytest.mark.parametrize("model", ["gbm", "mlp"])
def test_save_load_gives_identical_probabilities(detectors, table, model, tmp_path):
    det = detectors[model]
    det.save_pretrained(tmp_path, metrics={"cv_accuracy": 0.5}, data="synthetic")
    files = {p.name for p in tmp_path.iterdir()}
    model_file = "lightgbm.txt" if model == "gbm" else "model.safetensors"
    assert files == {"config.json", "README.md", model_file}
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "socialgan.tabular.AccountDetector"
    assert config["metrics"] == {"cv_accuracy": 0.5}
    assert "cv_accuracy" in (tmp_path / "README.md").read_text()
    loaded = socialgan.load(tmp_path)
    assert type(loaded) is AccountDetector and loaded.model == model
    np.testing.assert_array_equal(loaded.predict_proba(table), det.predict_proba(table))
    assert loaded.classes_.tolist() == [0, 1] and loaded.threshold == det.threshold


@pytest.mark.parametrize("model", ["gbm", "mlp"])
def test_same_seed_same_model(table, model):
    kw = {"n_estimators": 30} if model == "gbm" else {**MLP, "epochs": 5}
    train = table.iloc[:200]
    a = AccountDetector(model, seed=3, **kw).fit(train).predict_proba(table)
    b = AccountDetector(model, seed=3, **kw).fit(train).predict_proba(table)
    np.testing.assert_array_equal(a, b)


def test_labels_from_y_and_string_labels(table):
    y = np.where(table["bot"] == 1, "bot", "human")
    det = AccountDetector(n_estimators=20, positive_label="bot").fit(table.drop(columns="bot"), y)
    assert det.classes_.tolist() == ["human", "bot"]
    assert set(det.predict(table)) <= {"human", "bot"}
    as_text = table.assign(bot=table["bot"].astype(str))  # "1" matches positive_label 1
    assert AccountDetector(n_estimators=5).fit(as_text).classes_.tolist() == ["0", "1"]


def test_calibrate_threshold_and_moderate(detectors, table, tmp_path):
    det = AccountDetector("gbm", n_estimators=50).fit(table.iloc[:300])
    humans = table.iloc[300:].query("bot == 0")
    det.calibrate_threshold(humans, target_fpr=0.1)
    p = det.category_score(humans)
    assert np.mean(p >= det.threshold) <= 0.1 and det.calibration_["target_fpr"] == 0.1
    records = det.moderate(table.iloc[300:305])
    assert len(records) == 5
    for record, score in zip(records, det.category_score(table.iloc[300:305]), strict=True):
        assert set(record) == {"flagged", "categories", "category_scores", "model", "thresholds"}
        assert record["category_scores"] == {"bot": pytest.approx(score)}
        assert record["categories"] == {"bot": bool(score >= det.threshold)}
        assert record["flagged"] == record["categories"]["bot"]
        assert record["thresholds"] == {"bot": det.threshold}
        assert record["model"] == "socialgan-accounts-gbm"
    assert all(r["flagged"] for r in det.moderate(table.iloc[:3], threshold=0.0))
    det.save_pretrained(tmp_path)
    assert AccountDetector.from_pretrained(tmp_path).threshold == det.threshold


def test_balanced_class_weight(table):
    train = table.iloc[:300]
    plain = AccountDetector(n_estimators=30).fit(train).predict_proba(table)
    balanced = AccountDetector(n_estimators=30, class_weight="balanced").fit(train)
    assert not np.array_equal(plain, balanced.predict_proba(table))
    assert AccountDetector("mlp", class_weight="balanced", **{**MLP, "epochs": 3}).fit(train)
    with pytest.raises(DataError, match="class_weight"):
        AccountDetector(class_weight="heavy").fit(train)


def test_bad_input_is_one_clear_data_error(detectors, table):
    det = AccountDetector(n_estimators=5)
    with pytest.raises(DataError, match="no label column 'bot'"):
        det.fit(table.drop(columns="bot"))
    with pytest.raises(DataError, match="one class only"):
        det.fit(table.assign(bot=1))
    garbage = table.astype({"statuses_count": object})
    garbage.loc[7, "statuses_count"] = "n/a"
    with pytest.raises(DataError, match=r"'statuses_count'.*row 8 holds 'n/a'"):
        det.fit(garbage)
    with pytest.raises(DataError, match=r"'statuses_count'.*row 8 holds 'n/a'"):
        detectors["gbm"].predict_proba(garbage)
    with pytest.raises(DataError, match="no rows"):
        det.fit(table.iloc[:0])
    with pytest.raises(DataError, match="no rows"):
        detectors["gbm"].predict(table.iloc[:0])
    with pytest.raises(DataError, match=r"missing column\(s\) \['followers_count'\]"):
        detectors["gbm"].predict(table.drop(columns="followers_count"))
    with pytest.raises(DataError, match="3 labels"):
        det.fit(table.assign(bot=np.arange(len(table)) % 3))
    with pytest.raises(DataError, match="positive_label 'yes' is not among"):
        AccountDetector(positive_label="yes").fit(table)
    with pytest.raises(DataError, match="row 3 has no label"):
        det.fit(table.assign(bot=table["bot"].where(table.index != 2)))
    with pytest.raises(DataError, match="DataFrame"):
        det.fit([[1, 2]])
    with pytest.raises(ValueError, match="not fitted"):
        AccountDetector().predict(table)


@pytest.mark.parametrize("model", ["gbm", "mlp"])
def test_broken_model_folders_name_the_file(detectors, tmp_path, model):
    detectors[model].save_pretrained(tmp_path)
    weights = tmp_path / ("lightgbm.txt" if model == "gbm" else "model.safetensors")
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(DataError, match=weights.name):
        socialgan.load(tmp_path)
    weights.unlink()
    with pytest.raises(DataError, match=f"{weights.name}: missing"):
        AccountDetector.from_pretrained(tmp_path)


def test_twitter_bots_five_fold_cv(shared_data):
    table = load_twitter_bots(shared_data)
    start = time.perf_counter()
    metrics = cross_validate(AccountDetector("gbm"), table, folds=5, seed=0)
    seconds = time.perf_counter() - start
    print(
        f"twitter_bots 5-fold CV, gbm: accuracy {metrics['cv_accuracy']:.4f}, "
        f"F1 {metrics['cv_f1']:.4f}, AUC {metrics['cv_roc_auc']:.4f} ({seconds:.1f} s)"
    )
    assert metrics["cv_accuracy"] >= 0.85
