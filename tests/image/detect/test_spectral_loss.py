"""The Durall spectral regularizer: values, gradients, errors, and that it steers a generator."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from socialgan.image.dataset import ImageDataset
from socialgan.image.detect import SpectralRegularizer, azimuthal_spectrum, spectral_loss
from socialgan.image.detect.spectral_loss import reduced_spectrum, reference_spectrum
from socialgan.image.gan import ImageGAN


def _smooth(n: int, size: int = 32, seed: int = 0) -> torch.Tensor:
    """'Real' images: blurred noise plus a soft blob, in [0, 1] (a falling spectrum)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, size, size, generator=g)
    kernel = torch.ones(1, 1, 5, 5) / 25
    for _ in range(2):
        x = F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), kernel)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    centre = torch.rand(n, 2, generator=g) * size / 2 + size / 4
    d2 = (yy - centre[:, :1, None]) ** 2 + (xx - centre[:, 1:, None]) ** 2
    blob = torch.exp(-d2 / (2 * (size / 6) ** 2))[:, None]
    return (0.5 * x + 0.5 * blob).clamp(0, 1)


def _checkerboard_upsampled(images: torch.Tensor) -> torch.Tensor:
    """The trace of a transposed-conv generator: 2x nearest up-sampling plus a faint
    checkerboard."""
    n = images.shape[-1]
    board = ((torch.arange(n)[:, None] + torch.arange(n)[None, :]) % 2).float()
    up = F.interpolate(F.avg_pool2d(images, 2), scale_factor=2, mode="nearest")
    return (up + 0.05 * (2 * board - 1)).clamp(0, 1)


@pytest.fixture(scope="module")
def real() -> torch.Tensor:
    return _smooth(64)


@pytest.fixture(scope="module")
def reference(real) -> torch.Tensor:
    return reference_spectrum(real)


def test_reduced_spectrum_is_the_detector_profile_min_max_normalised(real):
    p = reduced_spectrum(real.double())
    profile = azimuthal_spectrum(real).double()
    lo, hi = profile.amin(1, keepdim=True), profile.amax(1, keepdim=True)
    assert p.shape == profile.shape == (64, 24)
    assert torch.allclose(p, (profile - lo) / (hi - lo), atol=1e-5)
    assert float(p.min()) == 0.0 and float(p.max()) == 1.0


def test_zero_for_a_perfect_match_and_small_for_real_images(real, reference):
    same = real[:1].repeat(8, 1, 1, 1)
    assert float(spectral_loss(same, reference_spectrum(same))) < 1e-9
    own = float(spectral_loss(real, reference))
    heldout = float(spectral_loss(_smooth(64, seed=1), reference))
    noise = float(spectral_loss(torch.rand(64, 1, 32, 32), reference))
    artefact = float(spectral_loss(_checkerboard_upsampled(real), reference))
    assert 0 <= own < 0.02 and heldout < 2 * own + 0.01
    assert noise > 10 * heldout and noise > 0.1
    assert artefact > 3 * heldout


def test_rgb_images_use_the_luma(real, reference):
    rgb = real.repeat(1, 3, 1, 1)
    a, b = spectral_loss(rgb.double(), reference), spectral_loss(real.double(), reference)
    assert torch.allclose(a, b, rtol=1e-6)


def test_gradients_flow_to_the_images(reference):
    x = torch.rand(4, 1, 32, 32, requires_grad=True)
    loss = spectral_loss(x, reference)
    loss.backward()
    assert x.grad is not None and bool(torch.isfinite(x.grad).all())
    assert float(x.grad.abs().sum()) > 0


def test_bad_inputs_raise_clear_value_errors(real, reference):
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        spectral_loss(real[:, 0], reference)
    with pytest.raises(ValueError, match="C in"):
        spectral_loss(torch.rand(2, 2, 32, 32), reference)
    with pytest.raises(ValueError, match="float"):
        spectral_loss((real * 255).to(torch.uint8), reference)
    with pytest.raises(ValueError, match="empty"):
        spectral_loss(real[:0], reference)
    with pytest.raises(ValueError, match="at least 4x4"):
        spectral_loss(torch.rand(2, 1, 3, 3), reference)
    with pytest.raises(ValueError, match="torch tensor"):
        spectral_loss(real.numpy(), reference)
    with pytest.raises(ValueError, match="24 frequency bins but 16x16"):
        spectral_loss(torch.rand(2, 1, 16, 16), reference)
    with pytest.raises(ValueError, match="1-D spectrum"):
        spectral_loss(real, reference[None])
    with pytest.raises(ValueError, match="weight"):
        SpectralRegularizer(real, weight=-1.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        SpectralRegularizer(real * 2 - 1)


def test_regularizer_is_weighted_and_measures_distance(real):
    reg = SpectralRegularizer(real, weight=3.0)
    assert reg.image_size == (32, 32) and "weight=3" in repr(reg)
    x = _smooth(16, seed=2)
    assert torch.allclose(reg(x), 3 * spectral_loss(x, reg.reference.float()))
    assert reg.distance(x, batch_size=5) == pytest.approx(
        float(spectral_loss(x.double(), reg.reference))
    )


class _TinyGenerator(nn.Module):
    """Two transposed convolutions: the up-sampling that leaves checkerboards."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 16 * 8 * 8)
        self.up = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(8, 1, 4, 2, 1),
            nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.up(self.fc(z).view(-1, 16, 8, 8))


def test_training_a_generator_with_the_regularizer_lowers_the_spectral_distance(real):
    torch.manual_seed(0)
    gen = _TinyGenerator()
    reg = SpectralRegularizer(real, weight=1.0)
    z = torch.randn(64, 8, generator=torch.Generator().manual_seed(1))
    before = reg.distance(gen(z).detach())
    opt = torch.optim.Adam(gen.parameters(), lr=3e-3)
    for _ in range(80):
        opt.zero_grad()
        reg(gen(torch.randn(32, 8))).backward()
        opt.step()
    after = reg.distance(gen(z).detach())
    assert after < 0.3 * before


def test_image_gan_trains_with_the_regularizer():
    """Plumbing: the regularizer sees G's batch and its value is logged. (Whether it helps
    inside a 20-step game is too noisy to assert here; the test above checks that it
    steers a generator, the benchmark measures it in a real game.)"""
    real = _smooth(64, size=28, seed=3)
    reg = SpectralRegularizer(real, weight=5.0)
    opts = dict(width=8, steps=3, batch_size=16, progress=False, tensorboard=False, log_every=1)
    gan = ImageGAN("dcgan", g_regularizer=reg, **opts).fit(ImageDataset(real, name="smooth"))
    assert gan.trainer is not None
    logged = [row["g_reg"] for row in gan.trainer.history if "g_reg" in row]
    assert len(logged) == 3 and all(0 < v < 5.0 * 10 for v in logged)
