"""Tests for the offline GAN image metrics (socialgan.image.metrics)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from socialgan.errors import DataError
from socialgan.image.data import load_fashion_mnist, load_mnist5k
from socialgan.image.metrics import (
    METRICS,
    WEIGHTS_DIR,
    class_coverage,
    evaluate_samples,
    file_sha256,
    fld,
    frechet_distance,
    get_metric,
    kid,
    load_feature_extractor,
    precision_recall,
)

torch.set_num_threads(2)

REPO_ROOT = Path(__file__).resolve().parents[2]


def _shared_data() -> Path | None:
    for p in (Path("/work/shared/data"), REPO_ROOT.parent / "shared" / "data"):
        if p.is_dir():
            return p
    return None


@pytest.fixture(scope="module")
def mnist5k() -> tuple[torch.Tensor, torch.Tensor]:
    ds = load_mnist5k()
    return ds.images, ds.labels


@pytest.fixture(scope="module")
def mnist_extractor():
    return load_feature_extractor("mnist")


def _gauss(n: int, d: int, mean: float = 0.0, scale: float = 1.0, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64) * scale + mean


# ------------------------------------------------------------------------------ FLD
def test_fld_of_set_with_itself_is_zero():
    x = _gauss(500, 16)
    assert fld(x, x) == pytest.approx(0.0, abs=1e-8)


def test_fld_increases_with_shift():
    base = _gauss(2000, 8, seed=1)
    values = [fld(_gauss(2000, 8, mean=s, seed=2), base) for s in (0.0, 0.5, 1.0, 2.0)]
    assert values == sorted(values)
    assert values[0] < 0.1
    # mean shift s in every one of 8 dims adds about 8 s^2
    assert values[3] == pytest.approx(8 * 4.0, rel=0.1)


def test_frechet_closed_form_1d():
    # N(1, 2^2) vs N(-1, 1^2): (1 - -1)^2 + (2 - 1)^2 = 5
    d = frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([-1.0]), np.array([[1.0]]))
    assert d == pytest.approx(5.0, abs=1e-10)


def test_frechet_closed_form_diagonal():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    v1, v2 = rng.uniform(0.1, 3.0, size=5), rng.uniform(0.1, 3.0, size=5)
    expected = float(((mu1 - mu2) ** 2).sum() + ((np.sqrt(v1) - np.sqrt(v2)) ** 2).sum())
    assert frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected)


def test_frechet_matches_scipy_sqrtm_full_covariance():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    s1, s2 = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    covmean = scipy_linalg.sqrtm(s1 @ s2).real
    expected = float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)


def test_fld_samples_match_closed_form_1d():
    x = _gauss(20000, 1, mean=1.0, scale=2.0, seed=3)
    y = _gauss(20000, 1, mean=-1.0, scale=1.0, seed=4)
    assert fld(x, y) == pytest.approx(5.0, rel=0.05)


# ------------------------------------------------------------------------------ KID
def test_kid_same_distribution_near_zero_and_larger_when_different():
    x, y = _gauss(1500, 16, seed=5), _gauss(1500, 16, seed=6)
    z = _gauss(1500, 16, mean=0.5, seed=7)
    same = kid(x, y, subset_size=500, num_subsets=50)
    diff = kid(z, y, subset_size=500, num_subsets=50)
    assert abs(same["kid"]) < 0.01
    assert diff["kid"] > 10 * max(abs(same["kid"]), same["kid_std"])
    assert diff["kid_std"] > 0
    assert same["subset_size"] == 500 and same["num_subsets"] == 50


def test_kid_subset_size_capped_by_set_size():
    out = kid(_gauss(50, 4), _gauss(80, 4, seed=1), num_subsets=5)
    assert out["subset_size"] == 50


# ------------------------------------------------------------------- precision/recall
def test_precision_recall_identical_sets():
    x = _gauss(400, 8)
    pr = precision_recall(x, x, k=3)
    assert pr["precision"] == 1.0 and pr["recall"] == 1.0
    assert pr["knn_coverage"] == 1.0


def test_precision_recall_mode_collapse():
    offset = torch.zeros(8, dtype=torch.float64)
    offset[0] = 10.0
    real = torch.cat([_gauss(500, 8, seed=1) + offset, _gauss(500, 8, seed=2) - offset])
    fake = _gauss(1000, 8, seed=3) + offset  # all on one of the two modes
    pr = precision_recall(fake, real, k=3)
    assert pr["precision"] > 0.8
    assert pr["recall"] < 0.7


def test_precision_recall_chunking_does_not_change_result():
    x, y = _gauss(300, 4, seed=1), _gauss(250, 4, mean=0.3, seed=2)
    assert precision_recall(x, y, chunk_size=7) == precision_recall(x, y, chunk_size=1024)


# ------------------------------------------------------------------------- coverage
def test_class_coverage_all_one_class():
    logits = torch.zeros(100, 10)
    logits[:, 3] = 5.0
    cov = class_coverage(logits)
    assert cov["min_class_share"] == 0.0
    assert cov["classes_covered"] == 1
    assert cov["class_shares"][3] == 1.0


def test_class_coverage_uniform_and_real_comparison():
    labels = torch.arange(1000) % 10
    cov = class_coverage(labels, labels, num_classes=10)
    assert cov["classes_covered"] == 10
    assert cov["min_class_share"] == pytest.approx(0.1)
    assert cov["class_share_tv"] == pytest.approx(0.0)


def test_registry():
    assert set(METRICS) == {"fld", "kid", "precision_recall", "coverage"}
    x = _gauss(100, 4)
    assert get_metric("fld").fn(x, x)["fld"] == pytest.approx(0.0, abs=1e-8)
    assert METRICS["coverage"].input == "logits"
    with pytest.raises(ValueError, match="unknown metric"):
        get_metric("fid")


# ------------------------------------------------------------------------ extractors
@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_shipped_extractor_loads_with_verified_hash(name):
    ext = load_feature_extractor(name)
    meta = json.loads((WEIGHTS_DIR / f"{name}-featurenet.json").read_text())
    weights = WEIGHTS_DIR / f"{name}-featurenet.safetensors"
    assert file_sha256(weights) == meta["sha256"]
    assert weights.stat().st_size < 500_000
    assert ext.name == name and ext.num_classes == 10
    assert meta["test_accuracy"] >= 0.9
    x = torch.rand(7, 1, 28, 28)
    assert ext.features(x).shape == (7, 128)
    assert ext.logits(x).shape == (7, 10)
    # RGB images of another size are converted (channel mean, antialiased resize)
    assert ext.features(torch.rand(3, 3, 64, 64)).shape == (3, 128)


def test_tampered_weights_raise_clear_error(tmp_path):
    for suffix in (".json", ".safetensors"):
        shutil.copy(WEIGHTS_DIR / f"mnist-featurenet{suffix}", tmp_path)
    ok = load_feature_extractor(tmp_path)  # a directory path is accepted
    assert ok.name == "mnist"
    weights = tmp_path / "mnist-featurenet.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(DataError, match="sha256 mismatch"):
        load_feature_extractor(tmp_path)
    with pytest.raises(DataError, match="sha256 mismatch"):
        load_feature_extractor(weights)


def test_unknown_extractor_and_bad_range():
    with pytest.raises(DataError):
        load_feature_extractor("cifar10")
    ext = load_feature_extractor("mnist")
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        ext.features(torch.rand(4, 1, 28, 28) * 2 - 1)


def test_mnist_extractor_accuracy(mnist5k, mnist_extractor):
    x, y = mnist5k
    acc = float((mnist_extractor.predict(x) == y).double().mean())
    assert acc >= 0.95


def test_fashion_extractor_test_accuracy():
    shared = _shared_data()
    root = shared / "images" / "fashion-mnist" if shared else None
    if root is None or not (root / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("shared data (fashion-mnist test split) not available")
    test = load_fashion_mnist(root, split="test")
    x, y = test.images, test.labels
    acc = float((load_feature_extractor("fashion-mnist").predict(x) == y).double().mean())
    assert acc >= 0.9


# ------------------------------------------------------------------------- evaluate
def test_evaluate_samples_real_vs_real(mnist5k, mnist_extractor):
    x, _ = mnist5k
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(0))
    fake, real = x[perm[:2000]], x[perm[2000:]]
    res = evaluate_samples(fake, real, mnist_extractor, kid_subsets=20)
    assert res["precision"] > 0.6 and res["recall"] > 0.6
    assert res["n_fake"] == 2000 and res["n_real"] == 3000
    assert res["classes_covered"] == 10
    assert len(res["class_shares"]) == 10
    for key in ("fld", "kid", "precision", "recall"):
        assert key in res["floor"] and math.isfinite(res["floor"][key])
    assert res["floor"]["n_a"] == res["floor"]["n_b"] == 1500
    assert res["kid_std"] >= 0 and math.isfinite(res["fld"])


def test_evaluate_samples_detects_collapse_and_uses_real_floor(mnist5k, mnist_extractor):
    x, y = mnist5k
    ones = x[y == 1][:300]
    real = x[::4][:600]
    real_floor = x[1::4][:600]
    res = evaluate_samples(ones, real, mnist_extractor, real_floor=real_floor, kid_subsets=10)
    assert res["classes_covered"] == 1 and res["min_class_share"] == 0.0
    assert res["floor"]["source"] == "real vs real_floor"
    assert res["floor"]["n_b"] == 600
    assert res["fld"] > 5 * res["floor"]["fld"]
    assert res["recall"] < 0.5
