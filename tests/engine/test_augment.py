import pytest
import torch

from socialgan.engine import TensorBatches, TrainConfig, Trainer
from socialgan.engine.augment import Augment, color, cutout, parse_policy, translation
from socialgan.image.nets import build_nets


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_translation_moves_a_pixel_by_at_most_an_eighth():
    x = torch.zeros(64, 1, 16, 16)
    x[:, 0, 8, 8] = 1.0
    out = translation(x, _gen())
    assert out.shape == x.shape
    assert torch.all(out.sum(dim=(1, 2, 3)) == 1)  # shifted, never lost at this range
    pos = out[:, 0].flatten(1).argmax(1)
    dy, dx = pos // 16 - 8, pos % 16 - 8
    assert dy.abs().max() <= 2 and dx.abs().max() <= 2
    assert len(set(zip(dy.tolist(), dx.tolist(), strict=True))) > 5  # really random


def test_cutout_zeroes_at_most_a_half_size_square():
    x = torch.ones(32, 1, 8, 8)
    out = cutout(x, _gen())
    zeros = (out == 0).sum(dim=(1, 2, 3))
    assert torch.all(zeros <= 16) and torch.all(zeros > 0)


def test_color_changes_brightness_and_contrast_per_sample():
    x = torch.rand(16, 3, 8, 8, generator=_gen(1))
    out = color(x, _gen())
    means = (out - x).mean(dim=(1, 2, 3))
    assert means.std() > 0.05  # a different brightness shift per sample


def test_augment_is_differentiable_seeded_and_p0_is_identity():
    aug = Augment("color,translation,cutout")
    x = torch.rand(8, 1, 16, 16, requires_grad=True)
    out = aug(x, _gen(3))
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert torch.equal(aug(x, _gen(3)), out)
    assert not torch.equal(aug(x, _gen(4)), out)
    assert torch.equal(Augment("color,translation", p=0.0)(x, _gen()), x)
    half = Augment("cutout", p=0.5)(torch.ones(200, 1, 8, 8), _gen())
    touched = (half == 0).flatten(1).any(1).float().mean()
    assert 0.35 < touched < 0.65


def test_bad_policy_is_named():
    with pytest.raises(ValueError, match="unknown augmentation.*rotate"):
        parse_policy("color, rotate")
    with pytest.raises(ValueError, match="augment_p"):
        Augment("color", p=1.5)


def test_ada_raises_p_when_d_overfits_and_lowers_it_otherwise():
    aug = Augment("color", p=0.0, target=0.6, speed_images=1000, interval=2)
    for _ in range(10):
        aug.observe(torch.ones(50))  # sign = +1 > 0.6: D is sure of every real image
    assert aug.p == pytest.approx(0.5)
    for _ in range(40):
        aug.observe(-torch.ones(50))
    assert aug.p == 0.0
    state = aug.state_dict()
    other = Augment("color", p=0.0, target=0.6)
    other.load_state_dict(state)
    assert other.p == aug.p


def _image_trainer(run_dir, **cfg):
    torch.manual_seed(0)
    G, D = build_nets("dcgan", img_size=28, channels=1, width=8)
    x = torch.rand(64, 1, 28, 28, generator=_gen()) * 2 - 1
    config = TrainConfig(batch_size=16, log_every=1, tensorboard=False, **cfg)
    return Trainer(
        G, D, TensorBatches(x, None, batch_size=16, seed=0), config, run_dir, progress=False
    )


def test_trainer_with_ada_resumes_exactly(tmp_path):
    cfg = dict(steps=8, augment="color,translation,cutout", ada_target=0.0, ada_speed_images=64)
    full = _image_trainer(tmp_path / "full", **cfg)
    full.fit()
    assert full.augment.p > 0  # D separates real from fake at once: p rose
    part = _image_trainer(tmp_path / "part", **cfg)
    part.fit(steps=3)
    resumed = _image_trainer(tmp_path / "part", **cfg)
    assert resumed.resume()
    resumed.fit()
    assert resumed.augment.p == full.augment.p
    for a, b in zip(full.G.state_dict().values(), resumed.G.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    plain = _image_trainer(None, steps=8)
    plain.fit()
    assert not torch.equal(
        next(iter(plain.G.parameters())), next(iter(full.G.parameters()))
    )  # augmentation changed the game
