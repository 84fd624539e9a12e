"""Tests for the shipped ORL-faces feature extractor (``att-faces``) and its training code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from socialgan.errors import DataError
from socialgan.image.dataset import ImageDataset
from socialgan.image.metrics import (
    BUILTIN_EXTRACTORS,
    WEIGHTS_DIR,
    FeatureExtractor,
    evaluate_features,
    file_sha256,
    load_feature_extractor,
)
from socialgan.image.metrics.train_features import (
    FACE_CHANNELS,
    face_augment,
    save_feature_net,
    train_feature_net,
)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def face_extractor():
    return load_feature_extractor("att-faces")


@pytest.fixture(scope="module")
def faces(shared_data: Path) -> ImageDataset:
    from socialgan.image.data import load_att_faces

    root = shared_data / "images" / "att_faces"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    return load_att_faces(root)


def test_face_extractor_is_registered_and_hash_checked(face_extractor):
    assert "att-faces" in BUILTIN_EXTRACTORS
    meta = json.loads((WEIGHTS_DIR / "att-faces-featurenet.json").read_text())
    weights = WEIGHTS_DIR / meta["weights_file"]
    assert file_sha256(weights) == meta["sha256"]
    assert weights.stat().st_size == meta["size_bytes"] < 600_000
    assert meta["architecture"]["img_size"] == 64
    assert meta["architecture"]["channels"] == list(FACE_CHANNELS)
    assert meta["training"]["n_test"] == 80 and meta["test_accuracy"] >= 0.9
    assert len(meta["class_names"]) == 40
    assert face_extractor.name == "att-faces"
    assert face_extractor.num_classes == 40 and face_extractor.feature_dim == 128


def test_face_extractor_shapes_and_conversion(face_extractor):
    x = torch.rand(5, 1, 64, 64)
    feats, logits = face_extractor.features_and_logits(x)
    assert feats.shape == (5, 128) and logits.shape == (5, 40)
    assert torch.allclose(face_extractor.features(x), feats, atol=1e-5)
    # RGB and another size are converted to the net's 1x64x64 input
    assert face_extractor.features(torch.rand(3, 3, 112, 92)).shape == (3, 128)


def test_tampered_face_weights_are_rejected(tmp_path):
    for suffix in (".json", ".safetensors"):
        shutil.copy(WEIGHTS_DIR / f"att-faces-featurenet{suffix}", tmp_path)
    assert load_feature_extractor(tmp_path).name == "att-faces"
    weights = tmp_path / "att-faces-featurenet.safetensors"
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(DataError, match="sha256 mismatch"):
        load_feature_extractor(tmp_path)


def test_face_augment_is_seeded_and_in_range():
    x = torch.rand(6, 1, 64, 64)
    a = face_augment(x, torch.Generator().manual_seed(0))
    b = face_augment(x, torch.Generator().manual_seed(0))
    c = face_augment(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, c)
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    assert not torch.allclose(a, x)


def test_train_and_save_a_tiny_face_net(tmp_path):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(16, 1, 64, 64, generator=g)
    y = torch.arange(16) % 4
    net = train_feature_net(
        x,
        y,
        epochs=1,
        seed=0,
        batch_size=8,
        channels=(4, 4, 4, 4, 4),
        augment=face_augment,
        log=None,
    )
    assert net.img_size == 64 and net.num_classes == 4
    weights, _ = save_feature_net(net, tmp_path, "tiny-faces", {"test_accuracy": 0.0})
    ext = load_feature_extractor(weights)
    assert ext.features(x[:3]).shape == (3, 128)
    assert torch.allclose(ext.features(x[:3]), net.features(x[:3]), atol=1e-5)


def test_image_gan_auto_picks_the_face_extractor(monkeypatch: pytest.MonkeyPatch) -> None:
    import socialgan.image.metrics as metrics
    from socialgan.image.gan import ImageGAN

    asked: list[str] = []
    real_loader = metrics.load_feature_extractor

    def spy(name: str, **kw: Any) -> FeatureExtractor:
        asked.append(str(name))
        return real_loader(name, **kw)

    monkeypatch.setattr(metrics, "load_feature_extractor", spy)
    data = ImageDataset(images=torch.rand(4, 1, 64, 64), name="att-faces")
    ImageGAN("dcgan")._evaluator(data)
    ImageGAN("dcgan")._evaluator(ImageDataset(images=torch.rand(4, 1, 28, 28), name="mnist5k"))
    assert asked == ["att-faces", "mnist"]


# ----------------------------------------------------------- with the real faces
def test_face_extractor_accuracy_on_the_faces(faces, face_extractor):
    assert faces.labels is not None and len(faces) == 400
    acc = float((face_extractor.predict(faces.images) == faces.labels).double().mean())
    assert acc >= 0.95
    assert face_extractor.features(faces.images).shape == (400, 128)


def test_face_features_separate_real_from_degraded_faces(faces, face_extractor):
    x = faces.images
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    a, b = x[perm[:200]], x[perm[200:]]
    blurred = F.interpolate(F.avg_pool2d(a, 4), size=64, mode="bilinear", align_corners=False)
    fa, fb = face_extractor.features(a), face_extractor.features(b)
    floor = evaluate_features(fa, fb, kid_subsets=10)
    blur = evaluate_features(face_extractor.features(blurred.clamp(0, 1)), fb, kid_subsets=10)
    assert blur["fld"] > 2 * floor["fld"]
    assert floor["precision"] > 0.5 and floor["recall"] > 0.5
