import importlib.util
import json
from pathlib import Path

import pytest
import torch

from socialgan.checks import OptionError
from socialgan.errors import DataError
from socialgan.image.dataset import ImageDataset
from socialgan.image.gan import ImageGAN


def _digits(n=128, size=28, classes=4):
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(n) % classes
    images = torch.rand(n, 1, size, size, generator=g) * 0.2
    for i in range(n):  # a bright bar whose position depends on the class
        c = int(labels[i])
        images[i, 0, 4 + 5 * c : 7 + 5 * c, 4:24] = 1.0
    return ImageDataset(images, labels, classes, "bars", [str(c) for c in range(classes)])


TINY = dict(width=8, steps=3, batch_size=16, log_every=1, progress=False, tensorboard=False)


@pytest.mark.parametrize("arch", ["seed", "dcgan"])
def test_fit_sample_save_load(tmp_path, arch):
    gan = ImageGAN(arch, **TINY).fit(_digits())
    x = gan.sample(10, seed=1)
    assert x.shape == (10, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert torch.equal(x, gan.sample(10, seed=1))
    assert not torch.equal(x, gan.sample(10, seed=2))
    gan.save_pretrained(tmp_path / "m", metrics={"fld": 1.5})
    assert {p.name for p in (tmp_path / "m").iterdir()} == {
        "config.json",
        "model.safetensors",
        "README.md",
    }
    assert "fld: 1.5" in (tmp_path / "m/README.md").read_text()
    again = ImageGAN.from_pretrained(tmp_path / "m")
    assert torch.equal(again.sample(10, seed=1), x)
    assert again.interpolate(steps=5).shape == (5, 1, 28, 28)
    truncated = again.sample(10, seed=1, truncation=0.5)
    assert truncated.shape == x.shape and not torch.equal(truncated, x)
    with pytest.raises(ValueError, match="truncation"):
        again.sample(2, truncation=0)


def test_conditional_sampling_respects_labels(tmp_path):
    gan = ImageGAN("dcgan", conditional=True, **TINY).fit(_digits())
    assert gan.net_config["num_classes"] == 4
    assert gan.sample(4, seed=0, labels=2).shape == (4, 1, 28, 28)
    with pytest.raises(ValueError, match=r"\[0, 3\]"):
        gan.sample(4, labels=9)
    plain = ImageGAN("dcgan", **TINY).fit(_digits())
    with pytest.raises(ValueError, match="not class-conditional"):
        plain.sample(2, labels=1)


def test_run_folder_is_self_describing(tmp_path):
    run = tmp_path / "run"
    ImageGAN("dcgan", run_dir=run, sample_every=2, **{**TINY, "tensorboard": True}).fit(_digits())
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["net"]["arch"] == "dcgan" and cfg["train"]["steps"] == 3
    assert (run / "samples/step-0000002.png").is_file()
    assert (run / "losses.png").is_file()
    assert list(run.glob("events.out.tfevents.*"))
    assert len((run / "stats.jsonl").read_text().splitlines()) == 3
    assert (run / "checkpoints/step-0000003").is_dir()


def test_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="unknown option"):
        ImageGAN("dcgan", stepz=3)
    with pytest.raises(DataError, match="img_size=32"):
        ImageGAN("dcgan", img_size=32, **TINY).fit(_digits())
    unlabelled = ImageDataset(torch.rand(32, 1, 28, 28), name="plain")
    with pytest.raises(DataError, match="labelled"):
        ImageGAN("dcgan", conditional=True, **TINY).fit(unlabelled)
    with pytest.raises(DataError, match="missing"):
        ImageGAN.from_pretrained(tmp_path)
    with pytest.raises(RuntimeError, match="not fitted"):
        ImageGAN("seed").sample(2)


def test_resume_through_the_image_api(tmp_path):
    data = _digits()
    opts = {**TINY, "steps": 8, "checkpoint_every": 4}
    full = ImageGAN("seed", run_dir=tmp_path / "a", **opts).fit(data)
    ImageGAN("seed", run_dir=tmp_path / "b", **{**opts, "steps": 4}).fit(data)
    resumed = ImageGAN("seed", run_dir=tmp_path / "b", **opts).fit(data, resume=True)
    assert resumed.trainer.step == 8
    assert torch.equal(full.sample(6, seed=0), resumed.sample(6, seed=0))


def test_periodic_evaluation_marks_the_best_checkpoint(tmp_path):
    run = tmp_path / "run"
    opts = {**TINY, "steps": 4, "checkpoint_every": 2}
    gan = ImageGAN("seed", run_dir=run, eval_every=2, eval_samples=64, **opts).fit(_digits())
    best = json.loads((run / "checkpoints/best.json").read_text())
    assert best["metric"] == "fld" and best["step"] in (2, 4)
    assert (run / "checkpoints" / best["name"]).is_dir()
    rows = [json.loads(r) for r in (run / "stats.jsonl").read_text().splitlines()]
    assert any("metric/fld" in r for r in rows)
    assert gan.trainer.best["value"] > 0


def test_g_regularizer_steers_the_generator():
    seen = []

    def darker(images):
        seen.append((images.requires_grad, float(images.detach().min()) >= 0))
        return 20 * images.mean()

    opts = {**TINY, "steps": 20, "lr_g": 5e-3}
    steered = ImageGAN("dcgan", g_regularizer=darker, **opts).fit(_digits())
    plain = ImageGAN("dcgan", **opts).fit(_digits())
    assert len(seen) == 20 and all(grad and in_range for grad, in_range in seen)
    assert steered.trainer is not None and "g_reg" in steered.trainer.history[-1]
    dark = steered.sample(64, seed=0, ema=False).mean()
    assert dark < plain.sample(64, seed=0, ema=False).mean() - 0.05


def test_deeper_dcgan_round_trips_and_old_configs_load(tmp_path):
    gan = ImageGAN("dcgan", depth=1, upsample="nearest", **TINY).fit(_digits())
    gan.save_pretrained(tmp_path / "deep")
    cfg = json.loads((tmp_path / "deep/config.json").read_text())
    assert cfg["net"]["depth"] == 1
    again = ImageGAN.from_pretrained(tmp_path / "deep")
    # trained weights may be channels_last, loaded ones are contiguous: equal up to rounding
    torch.testing.assert_close(again.sample(6, seed=3), gan.sample(6, seed=3), rtol=0, atol=1e-6)
    # a model saved before `depth` existed has no such key and loads as depth 0
    plain = ImageGAN("dcgan", upsample="transposed", depth=0, **TINY).fit(_digits())
    plain.save_pretrained(tmp_path / "old")
    cfg = json.loads((tmp_path / "old/config.json").read_text())
    del cfg["net"]["depth"]
    (tmp_path / "old/config.json").write_text(json.dumps(cfg))
    old = ImageGAN.from_pretrained(tmp_path / "old")
    assert old.net_config["depth"] == 0
    torch.testing.assert_close(old.sample(6, seed=3), plain.sample(6, seed=3), rtol=0, atol=1e-6)


# ------------------------------------------------------------- defaults and old models
def test_defaults_are_the_measured_recipe():
    """ImageGAN's nets default to benchmarks/image_quality.py's recipe (README table)."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "image_quality.py"
    spec = importlib.util.spec_from_file_location("image_quality_benchmark", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    net = ImageGAN("dcgan").net_config
    for key in ("width", "upsample", "depth"):
        assert net[key] == bench.DEFAULTS[key], key
    assert (net["width"], net["upsample"], net["depth"]) == (32, "nearest", 1)


def test_64px_faces_nets_build_with_the_defaults():
    faces = ImageDataset(torch.rand(16, 1, 64, 64), name="faces")
    gan = ImageGAN("dcgan", **{**TINY, "width": 32, "steps": 1}).fit(faces)
    assert gan.sample(2, seed=0).shape == (2, 1, 64, 64)
    assert gan.generator.depth == 1 and gan.generator.upsample == "nearest"


@pytest.mark.parametrize("keep", [False, True])
def test_old_models_load_with_their_own_settings(tmp_path, keep):
    """A config.json from before width/upsample/depth were saved, or with them, loads as
    the nets it was trained with, not as today's defaults."""
    old = ImageGAN(
        "dcgan",
        width=64,
        upsample="transposed",
        depth=0,
        steps=1,
        batch_size=16,
        progress=False,
        tensorboard=False,
    ).fit(_digits())
    old.save_pretrained(tmp_path / "m")
    cfg = json.loads((tmp_path / "m/config.json").read_text())
    if not keep:
        for key in ("width", "upsample", "depth"):
            del cfg["net"][key]
    (tmp_path / "m/config.json").write_text(json.dumps(cfg))
    again = ImageGAN.from_pretrained(tmp_path / "m")
    net = again.net_config
    assert (net["width"], net["upsample"], net["depth"]) == (64, "transposed", 0)
    torch.testing.assert_close(again.sample(4, seed=1), old.sample(4, seed=1), rtol=0, atol=1e-6)


# ----------------------------------------------------------------- checked settings
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 0}, r"batch_size: expected an integer >= 1, got 0"),
        ({"lr_g": "abc"}, r"lr_g: expected a number > 0, got 'abc'"),
        ({"steps": 0}, r"steps: expected an integer >= 1"),
        ({"loss": "bogus"}, r"loss: expected one of minimax, non_saturating"),
        ({"width": 0}, r"width: expected an integer >= 1"),
        ({"upsample": "bilinear"}, r"upsample: expected one of transposed, nearest"),
        ({"depth": -1}, r"depth: expected an integer >= 0"),
        ({"img_size": 48}, r"img_size: expected one of 28, 32, 64"),
        ({"conditional": "yes"}, r"conditional: expected true or false"),
        ({"eval_samples": 1}, r"eval_samples: expected an integer >= 2"),
    ],
)
def test_settings_are_checked_when_built(kwargs, match):
    with pytest.raises(OptionError, match=match):
        ImageGAN("dcgan", **kwargs)
    with pytest.raises(OptionError, match="arch: expected one of seed, dcgan"):
        ImageGAN("big")


def test_a_saved_model_that_does_not_fit_its_files_is_a_clear_error(tmp_path):
    gan = ImageGAN("dcgan", **TINY).fit(_digits())
    gan.save_pretrained(tmp_path / "m")
    cfg_path, model_path = tmp_path / "m/config.json", tmp_path / "m/model.safetensors"
    cfg = json.loads(cfg_path.read_text())
    cfg["net"]["width"] = 16
    cfg_path.write_text(json.dumps(cfg))
    with pytest.raises(DataError, match=r"model\.safetensors: the weights do not fit.*shape"):
        ImageGAN.from_pretrained(tmp_path / "m")
    cfg["net"]["width"], cfg["net"]["arch"] = 8, "big"
    cfg_path.write_text(json.dumps(cfg))
    with pytest.raises(DataError, match=r"config\.json: arch: expected one of"):
        ImageGAN.from_pretrained(tmp_path / "m")
    cfg["net"]["arch"] = "dcgan"
    cfg_path.write_text(json.dumps(cfg))
    model_path.write_bytes(b"not a safetensors file")
    with pytest.raises(DataError, match=r"model\.safetensors: .*safetensors"):
        ImageGAN.from_pretrained(tmp_path / "m")
