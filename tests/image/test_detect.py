"""Tests for socialgan.image.detect: features, the three detectors, perturbations, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from typer.testing import CliRunner

import socialgan
from socialgan.cli import app
from socialgan.errors import DataError
from socialgan.image.data import load_mnist5k
from socialgan.image.detect import (
    PERTURBATIONS,
    AugmentConfig,
    CNNDetector,
    DiscriminatorDetector,
    SpectralDetector,
    as_images,
    azimuthal_spectrum,
    load_detector,
    perturb,
    split_real_fake,
    stack_real_fake,
)
from socialgan.image.detect.augment import augment_batch
from socialgan.image.detect.inputs import binary_auc, fit_to_size
from socialgan.image.detect.spectral import dct2
from socialgan.image.gan import ImageGAN


def _checkerboard(n: int) -> torch.Tensor:
    return ((torch.arange(n)[:, None] + torch.arange(n)[None, :]) % 2).float()


def _with_artefact(images: torch.Tensor) -> torch.Tensor:
    """A cheap 'generator': 2x nearest up-sampling of a half-size image plus a faint
    checkerboard, the trace transposed convolutions leave."""
    up = F.interpolate(F.avg_pool2d(images, 2), scale_factor=2, mode="nearest")
    return (up + 0.03 * (2 * _checkerboard(images.shape[-1]) - 1)).clamp(0, 1)


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    """1,200 MNIST digits in random order (the embedded file is sorted by class)."""
    x = load_mnist5k().images
    return x[torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:1200]]


@pytest.fixture(scope="module")
def pair(digits):
    """(train real, train fake, test real, test fake): different digits in each part."""
    return (
        digits[:300],
        _with_artefact(digits[300:600]),
        digits[600:800],
        _with_artefact(digits[800:1000]),
    )


@pytest.fixture(scope="module")
def spectral(pair):
    return SpectralDetector().fit(*stack_real_fake(pair[0], pair[1]))


@pytest.fixture(scope="module")
def cnn(pair):
    return CNNDetector(width=8, epochs=3, seed=0).fit(*stack_real_fake(pair[0], pair[1]))


@pytest.fixture(scope="module")
def gan(digits):
    """A tiny DCGAN after 30 steps: its D easily tells its own samples from digits."""
    cfg = dict(width=8, steps=30, batch_size=32, progress=False, tensorboard=False)
    return ImageGAN("dcgan", **cfg).fit(digits[:600])


@pytest.fixture(scope="module")
def disc(gan, digits):
    return DiscriminatorDetector(gan).fit(
        *stack_real_fake(digits[600:800], gan.sample(200, seed=1))
    )


def _auc(det, real, fake) -> float:
    return det.evaluate(real, fake)["auc"]


# ----------------------------------------------------------------------------- features
def test_checkerboard_power_is_at_the_highest_frequency():
    profile = azimuthal_spectrum(_checkerboard(16)[None, None])[0]
    assert len(profile) == 12  # radii 0 .. round(8 * sqrt(2)) = 11
    # all the power beside the mean (DC) sits in the corner frequency (8, 8): the last bin
    assert int(profile[1:].argmax()) + 1 == len(profile) - 1
    assert profile[-1] > profile[1:-1].max() + 3


def test_white_noise_has_a_flat_spectrum_and_smooth_images_do_not():
    noise = torch.rand(64, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    flat = azimuthal_spectrum(noise).mean(0)[1:]
    assert float(flat.std()) < 0.3
    smooth = F.avg_pool2d(noise, 5, stride=1, padding=2, count_include_pad=False)
    falling = azimuthal_spectrum(smooth).mean(0)[1:]
    assert float(falling[:3].mean() - falling[-3:].mean()) > 3.0


def test_dct_is_orthonormal():
    x = torch.rand(3, 1, 12, 12)
    c = dct2(x)
    assert torch.allclose((c**2).sum((-2, -1)), (x[:, 0] ** 2).sum((-2, -1)), rtol=1e-4)


def test_input_checks():
    with pytest.raises(DataError, match=r"\(x \+ 1\) / 2"):
        as_images(torch.rand(2, 1, 8, 8) * 2 - 1)
    with pytest.raises(DataError, match="C in"):
        as_images(torch.rand(2, 2, 8, 8))
    u8 = np.full((2, 8, 8), 255, dtype=np.uint8)
    assert as_images(u8).shape == (2, 1, 8, 8) and float(as_images(u8).max()) == 1.0
    assert fit_to_size(torch.rand(1, 1, 40, 30), 28).shape == (1, 1, 28, 28)
    assert fit_to_size(torch.rand(1, 3, 20, 24), 28).shape == (1, 3, 28, 28)


# ---------------------------------------------------------------------------- detectors
def test_spectral_detector_separates_upsampling_artefacts(spectral, pair):
    assert _auc(spectral, pair[2], pair[3]) > 0.9
    assert spectral.C_ in spectral.Cs


def test_cnn_detector_separates_upsampling_artefacts(cnn, pair):
    assert _auc(cnn, pair[2], pair[3]) > 0.9
    assert cnn.size_ == 25 and 1 <= len(cnn.history_) <= 3


def test_cnn_logits_are_differentiable_and_match_the_scores(cnn, pair):
    x = pair[3][:6].clone().requires_grad_(True)  # 28x28: central 25x25 crop inside
    z = cnn.logits(x)
    np.testing.assert_allclose(z.detach().double().numpy(), cnn.decision_function(x), atol=1e-5)
    params = list(cnn.net_.parameters())
    cnn.net_.zero_grad(set_to_none=True)  # fit leaves the last step's gradients
    cnn.net_.requires_grad_(False)
    try:
        F.softplus(cnn.logits(x)).mean().backward()
    finally:
        cnn.net_.requires_grad_(True)
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    assert x.grad[..., :1, :].abs().sum() == 0  # the cropped-away border gets no gradient
    assert all(p.grad is None for p in params)
    assert cnn.logits(x[:, 0].detach()).shape == (6,)  # (N, H, W) accepted
    with pytest.raises(ValueError, match="float images"):
        cnn.logits((x.detach() * 255).to(torch.uint8))
    with pytest.raises(RuntimeError, match="not fitted"):
        CNNDetector().logits(x.detach())


def test_cnn_training_is_deterministic(pair):
    kw = dict(width=4, epochs=1, seed=3)
    X, y = stack_real_fake(pair[0][:48], pair[1][:48])
    a = CNNDetector(**kw).fit(X, y).category_score(pair[2][:8])
    torch.rand(3)  # the global generator's state must not matter
    b = CNNDetector(**kw).fit(X, y).category_score(pair[2][:8])
    np.testing.assert_array_equal(a, b)


def test_discriminator_detector_spots_its_own_generator(disc, gan, digits):
    real, fake = digits[800:1000], gan.sample(200, seed=2)
    assert _auc(disc, real, fake) > 0.9
    raw = DiscriminatorDetector(gan, calibrate=False).fit(*stack_real_fake(real, fake))
    assert raw.calibration_ == (1.0, 0.0)
    assert _auc(raw, real, fake) == pytest.approx(_auc(disc, real, fake))  # monotone map


def test_proba_predict_and_any_image_size(spectral, pair):
    real = pair[2][:20]
    p = spectral.predict_proba(real)
    assert p.shape == (20, 2) and np.allclose(p.sum(1), 1.0)
    np.testing.assert_array_equal(spectral.predict(real), (p[:, 1] >= 0.5).astype(np.int64))
    np.testing.assert_array_equal(spectral.predict(real, threshold=0.0), np.ones(20))
    rgb_big = F.interpolate(real, size=40).expand(-1, 3, -1, -1)
    assert spectral.predict_proba(rgb_big).shape == (20, 2)
    assert spectral.predict_proba(real[:0]).shape == (0, 2)


def test_calibrated_threshold_gives_the_requested_false_positive_rate(spectral, pair):
    real = pair[2]  # 200 images
    spectral.calibrate_threshold(real, target_fpr=0.05)
    try:
        assert spectral.predict(real).mean() == pytest.approx(0.05)
        assert spectral.metrics["calibration_fpr"] == pytest.approx(0.05)
        spectral.calibrate_threshold(real, target_fpr=0.0)
        assert spectral.predict(real).sum() == 0
    finally:
        spectral.threshold = 0.5


@pytest.mark.parametrize("name", ["spectral", "cnn", "disc"])
def test_save_load_gives_equal_scores(name, request, tmp_path, pair):
    det = request.getfixturevalue(name)
    det.threshold = 0.4
    try:
        det.save_pretrained(tmp_path / "m", metrics={"note": "test"})
    finally:
        det.threshold = 0.5
    assert {p.name for p in (tmp_path / "m").iterdir()} == {
        "config.json",
        "model.safetensors",
        "README.md",
    }
    config = json.loads((tmp_path / "m/config.json").read_text())
    assert config["kind"] == det.kind and config["threshold"] == 0.4
    again = load_detector(tmp_path / "m")
    assert type(again) is type(det) and again.threshold == 0.4
    assert again.metrics["note"] == "test"
    np.testing.assert_array_equal(
        again.category_score(pair[2][:30]), det.category_score(pair[2][:30])
    )
    assert type(det).from_pretrained(tmp_path / "m").threshold == 0.4


#: The config.json fields socialgan 0.1.0 wrote for an image detector.
FORMAT_1_FIELDS = ("model_type", "kind", "name", "params", "threshold", "state", "data", "metrics")


@pytest.mark.parametrize("name", ["spectral", "cnn", "disc"])
def test_folders_saved_with_the_shared_model_type_still_load(name, request, tmp_path, pair):
    det = request.getfixturevalue(name)
    folder = det.save_pretrained(tmp_path / name)
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == type(det).model_type and set(config) == set(FORMAT_1_FIELDS)
    config["model_type"] = "socialgan.ImageDetector"  # before each class had its own
    (folder / "config.json").write_text(json.dumps(config))
    for loaded in (
        load_detector(folder),
        socialgan.load(folder),
        type(det).from_pretrained(folder),
    ):
        assert type(loaded) is type(det)
        np.testing.assert_array_equal(
            loaded.category_score(pair[2][:10]), det.category_score(pair[2][:10])
        )


def test_training_sets_from_real_and_fake_images():
    real, fake = torch.rand(3, 1, 10, 12), torch.rand(2, 3, 8, 8)
    X, y = stack_real_fake(real, fake)
    assert X.shape == (5, 3, 8, 8) and y.tolist() == [0, 0, 0, 1, 1]
    r, f = split_real_fake(X, torch.tensor(y))
    assert torch.equal(r, X[:3]) and torch.equal(f, X[3:])
    with pytest.raises(DataError, match="one per image"):
        split_real_fake(X, y[:4])
    with pytest.raises(DataError, match=r"0 \(real\) or 1"):
        split_real_fake(X, y + 1)
    with pytest.raises(DataError, match="fake images: need at least 2"):
        split_real_fake(X, [0, 0, 0, 0, 1])


def test_loading_errors(tmp_path, spectral):
    with pytest.raises(DataError, match="missing"):
        load_detector(tmp_path)
    spectral.save_pretrained(tmp_path / "s")
    with pytest.raises(DataError, match="holds a socialgan.image.SpectralDetector, not a"):
        CNNDetector.from_pretrained(tmp_path / "s")
    (tmp_path / "s/config.json").write_text('{"model_type": "socialgan.ImageGAN"}')
    with pytest.raises(DataError, match=r"holds a socialgan.ImageGAN, not a socialgan.image.\*"):
        load_detector(tmp_path / "s")


def test_unfitted_detector_says_so():
    with pytest.raises(RuntimeError, match="not fitted"):
        SpectralDetector().predict_proba(torch.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match="needs a GAN"):
        DiscriminatorDetector().fit(torch.rand(4, 1, 8, 8), [0, 0, 1, 1])


# -------------------------------------------------------------------------- perturbations
@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_perturbations_keep_shape_and_range(name):
    x = torch.rand(4, 3, 20, 18, generator=torch.Generator().manual_seed(0))
    y = perturb(x, name)
    assert y.shape == x.shape and y.dtype == torch.float32
    assert 0.0 <= float(y.min()) and float(y.max()) <= 1.0
    assert not torch.equal(x, y)
    assert torch.equal(y, perturb(x, name))  # deterministic
    grey = perturb(x[:, :1], name)
    assert grey.shape == (4, 1, 20, 18)


def test_perturbation_strengths():
    flat = torch.full((2, 1, 16, 16), 0.5)
    assert torch.allclose(perturb(flat, "blur", sigma=2.0), flat, atol=1e-6)
    assert torch.allclose(perturb(flat, "downscale"), flat, atol=1e-6)
    x = torch.rand(2, 1, 16, 16)
    assert (perturb(x, "jpeg", quality=95) - x).abs().mean() < (
        perturb(x, "jpeg", quality=10) - x
    ).abs().mean()
    assert not torch.equal(perturb(x, "noise", seed=1), perturb(x, "noise", seed=2))
    with pytest.raises(ValueError, match="unknown perturbation"):
        perturb(x, "rotate")


def test_training_augmentation():
    x = torch.rand(6, 1, 28, 28)
    cfg = AugmentConfig(blur_prob=1.0, jpeg_prob=1.0)
    a = augment_batch(x, 24, cfg, np.random.default_rng(0))
    b = augment_batch(x, 24, cfg, np.random.default_rng(0))
    assert a.shape == (6, 1, 24, 24) and torch.equal(a, b)
    assert 0.0 <= float(a.min()) and float(a.max()) <= 1.0
    resized = augment_batch(x, 24, AugmentConfig(crop_scale=(0.5, 0.9)), np.random.default_rng(0))
    assert resized.shape == (6, 1, 24, 24)
    assert AugmentConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="jpeg_quality"):
        AugmentConfig(jpeg_quality=(0, 50))


def test_auc_helper():
    assert binary_auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0


# ----------------------------------------------------------------------------------- CLI
def _save_pngs(images: torch.Tensor, folder, prefix: str) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, img in enumerate(images):
        p = folder / f"{prefix}{i}.png"
        Image.fromarray((img[0].numpy() * 255).round().astype(np.uint8)).save(p)
        paths.append(p)
    return paths


def test_cli_detect_train_and_detect(tmp_path, pair):
    runner = CliRunner()
    real_npy, fake_npy = tmp_path / "real.npy", tmp_path / "fake.npy"
    np.save(real_npy, (pair[0][:150].numpy() * 255).round().astype(np.uint8))
    fake_dir = tmp_path / "fake_png"
    _save_pngs(pair[1][:150], fake_dir, "f")
    np.save(fake_npy, pair[1][:10].numpy())
    out = tmp_path / "det"
    args = ["image", "detect-train", "--real", str(real_npy), "--fake", str(fake_dir)]
    res = runner.invoke(
        app, [*args, "--kind", "spectral", "--out", str(out), "--target-fpr", "0.1"]
    )
    assert res.exit_code == 0, res.output
    assert "held out: AUC" in res.output
    config = json.loads((out / "config.json").read_text())
    assert config["metrics"]["test_auc"] > 0.9 and config["metrics"]["test_n_real"] == 30

    good = _save_pngs(pair[2][:3], tmp_path / "test", "r") + _save_pngs(
        pair[3][:3], tmp_path / "test", "g"
    )
    broken = tmp_path / "test" / "broken.png"
    broken.write_bytes(b"not a png at all")
    missing = tmp_path / "test" / "missing.jpg"
    files = [str(p) for p in [good[0], broken, *good[1:], missing]]
    res = runner.invoke(app, ["image", "detect", "--model", str(out), "--batch-size", "4", *files])
    assert res.exit_code == 1
    lines = [json.loads(s) for s in res.stdout.splitlines()]
    assert [r["file"] for r in lines] == files
    errors = {r["file"]: r["error"] for r in lines if "error" in r}
    assert set(errors) == {str(broken), str(missing)}
    assert "not a readable image" in errors[str(broken)]
    assert "no such file" in errors[str(missing)]
    scored = [r for r in lines if "error" not in r]
    assert len(scored) == 6
    for r in scored:
        assert set(r) == {"file", "flagged", "categories", "category_scores", "model", "thresholds"}
        p = r["category_scores"]["gan_generated"]
        assert 0.0 <= p <= 1.0 and r["categories"]["gan_generated"] == (p >= config["threshold"])
        assert r["thresholds"] == {"gan_generated": config["threshold"]}
        assert r["flagged"] == r["categories"]["gan_generated"]
    assert sum(r["flagged"] for r in scored[3:]) >= 2  # the generated ones

    empty = tmp_path / "empty"
    empty.mkdir()
    res = runner.invoke(
        app, ["image", "detect", "--model", str(out), str(tmp_path / "test"), str(empty)]
    )
    lines = [json.loads(s) for s in res.stdout.splitlines()]
    assert len(lines) == 8  # the 7 image files of the folder (one broken), then the empty one
    assert lines[-1]["file"] == str(empty) and "no image files" in lines[-1]["error"]
    assert sum("error" in r for r in lines) == 2 and res.exit_code == 1

    res = runner.invoke(app, ["image", "detect", "--model", str(out), "-t", "0", *files[:1]])
    assert res.exit_code == 0 and json.loads(res.stdout)["flagged"] is True
    res = runner.invoke(app, ["image", "detect", "--model", str(tmp_path), *files[:1]])
    assert res.exit_code == 2 and "missing" in res.output


@pytest.mark.parametrize(
    ("fake", "exit_code", "says"),
    [("gan", 0, "fake: samples of"), ("real.npy", 2, "needs a trained ImageGAN")],
)
def test_cli_discriminator_from_a_gan_folder(tmp_path, gan, digits, fake, exit_code, says):
    gan.save_pretrained(tmp_path / "gan")
    real_npy = tmp_path / "real.npy"
    np.save(real_npy, digits[:100].numpy())
    out = tmp_path / "det"
    res = CliRunner().invoke(
        app,
        [
            "image",
            "detect-train",
            "--real",
            str(real_npy),
            "--fake",
            str(tmp_path / fake),
            "--kind",
            "discriminator",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == exit_code, res.output
    assert says in res.output
    if exit_code == 0:
        det = load_detector(out)
        assert isinstance(det, DiscriminatorDetector) and det.metrics["test_auc"] > 0.9
