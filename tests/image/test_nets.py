"""Tests for socialgan.image.nets: shapes, ranges, seed layer sizes and one training step."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from socialgan.image.nets import (
    ARCHS,
    DCGAN_OPTIM,
    SEED_OPTIM,
    DCGANDiscriminator,
    SeedDiscriminator,
    SeedGenerator,
    build_nets,
    count_params,
    default_optim,
)

BATCH = 4
NUM_CLASSES = 3

torch.set_num_threads(1)


def _cases() -> list[tuple]:
    cases = []
    for cond in (False, True):
        for sn in (False, True):
            for size, ch in ((28, 1), (32, 3)):
                cases.append(("seed", size, ch, cond, sn, "transposed"))
            for size in (28, 32, 64):
                for ch in (1, 3):
                    cases.append(("dcgan", size, ch, cond, sn, "transposed"))
    cases.append(("dcgan", 28, 1, True, False, "nearest"))
    cases.append(("dcgan", 64, 3, False, True, "nearest"))
    return cases


def _case_id(case: tuple) -> str:
    arch, size, ch, cond, sn, up = case
    return f"{arch}-{size}px-c{ch}-{'cond' if cond else 'uncond'}-{'sn' if sn else 'nosn'}-{up}"


def _snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in module.named_parameters()}


def _changed(module: nn.Module, before: dict[str, torch.Tensor]) -> list[str]:
    return [n for n, p in module.named_parameters() if not torch.equal(p.detach(), before[n])]


@pytest.mark.parametrize("case", _cases(), ids=_case_id)
def test_shapes_ranges_and_one_step(case: tuple) -> None:
    arch, size, ch, cond, sn, upsample = case
    torch.manual_seed(0)
    k = NUM_CLASSES if cond else 0
    G, D = build_nets(
        arch,
        img_size=size,
        channels=ch,
        z_dim=16,
        num_classes=k,
        spectral_norm=sn,
        width=8,
        upsample=upsample,
    )
    assert (G.z_dim, G.num_classes, G.img_size, G.channels) == (16, k, size, ch)
    assert (D.num_classes, D.img_size, D.channels) == (k, size, ch)
    lo, hi = G.out_range
    assert (lo, hi) == ((0.0, 1.0) if arch == "seed" else (-1.0, 1.0))

    y = torch.randint(0, NUM_CLASSES, (BATCH,)) if cond else None
    z = torch.randn(BATCH, G.z_dim)
    x_fake = G(z, y)
    assert x_fake.shape == (BATCH, ch, size, size)
    assert x_fake.dtype == torch.float32
    assert torch.isfinite(x_fake).all()
    assert x_fake.min() >= lo and x_fake.max() <= hi
    x_real = torch.rand(BATCH, ch, size, size) * (hi - lo) + lo
    logits = D(x_real, y)
    assert logits.shape == (BATCH,)
    assert torch.isfinite(logits).all()

    opt_kw = default_optim(arch)
    opt_g = torch.optim.Adam(G.parameters(), **opt_kw)
    opt_d = torch.optim.Adam(D.parameters(), **opt_kw)

    # One D step (non-saturating loss on logits).
    d_before, g_before = _snapshot(D), _snapshot(G)
    opt_d.zero_grad()
    loss_d = (F.softplus(-D(x_real, y)) + F.softplus(D(G(z, y).detach(), y))).mean()
    loss_d.backward()
    opt_d.step()
    assert torch.isfinite(loss_d)
    assert _changed(D, d_before), "D step left D unchanged"
    assert not _changed(G, g_before), "D step must not touch G"

    # One G step.
    d_before, g_before = _snapshot(D), _snapshot(G)
    opt_g.zero_grad()
    loss_g = F.softplus(-D(G(z, y), y)).mean()
    loss_g.backward()
    opt_g.step()
    assert torch.isfinite(loss_g)
    changed = set(_changed(G, g_before))
    with_grad = {
        n for n, p in G.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0
    }
    assert with_grad and with_grad <= changed, f"unchanged G params: {with_grad - changed}"
    assert not _changed(D, d_before), "G step must not touch D"


def test_seed_exact_layers_and_param_counts() -> None:
    G, D = build_nets("seed")
    assert isinstance(G, SeedGenerator) and isinstance(D, SeedDiscriminator)
    g_lin = [m for m in G.modules() if isinstance(m, nn.Linear)]
    d_lin = [m for m in D.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in g_lin] == [(100, 128), (128, 128), (128, 784)]
    assert [(m.in_features, m.out_features) for m in d_lin] == [(784, 128), (128, 128), (128, 1)]
    g_acts = [type(m) for m in G.net if not isinstance(m, nn.Linear)]
    d_acts = [type(m) for m in D.net if not isinstance(m, nn.Linear)]
    assert g_acts == [nn.ReLU, nn.ReLU, nn.Sigmoid]
    assert d_acts == [nn.ReLU, nn.ReLU]  # logits: no sigmoid
    assert count_params(G) == 100 * 128 + 128 + 128 * 128 + 128 + 128 * 784 + 784
    assert count_params(D) == 784 * 128 + 128 + 128 * 128 + 128 + 128 + 1
    assert (G.z_dim, G.num_classes, G.img_size, G.channels, G.out_range) == (
        100,
        0,
        28,
        1,
        (0.0, 1.0),
    )
    x = G(torch.randn(2, 100))
    assert x.shape == (2, 1, 28, 28)
    assert D(x).shape == (2,)


def test_seed_conditional_concatenates_one_hot() -> None:
    G, D = build_nets("seed", num_classes=10)
    assert G.net[0].in_features == 110
    assert D.net[0].in_features == 784 + 10
    base_g, base_d = build_nets("seed")
    assert count_params(G) == count_params(base_g) + 10 * 128
    assert count_params(D) == count_params(base_d) + 10 * 128


def test_optim_presets() -> None:
    assert SEED_OPTIM == dict(lr=1e-3, betas=(0.9, 0.999))
    assert DCGAN_OPTIM == dict(lr=2e-4, betas=(0.5, 0.999))
    assert default_optim("seed") == SEED_OPTIM
    assert default_optim("dcgan") == DCGAN_OPTIM
    default_optim("dcgan")["lr"] = 1.0
    assert DCGAN_OPTIM["lr"] == 2e-4  # a copy is returned
    with pytest.raises(ValueError, match="seed"):
        default_optim("nope")


def test_count_params_trainable_only() -> None:
    G, _ = build_nets("seed")
    G.net[0].requires_grad_(False)
    assert count_params(G, trainable_only=True) == count_params(G) - (100 * 128 + 128)


@pytest.mark.parametrize("arch", ARCHS)
def test_conditional_without_labels_raises(arch: str) -> None:
    G, D = build_nets(arch, num_classes=NUM_CLASSES, width=8, z_dim=8)
    with pytest.raises(ValueError, match="num_classes=3"):
        G(torch.randn(2, 8))
    with pytest.raises(ValueError, match="labels"):
        D(torch.rand(2, 1, 28, 28))


def test_unconditional_ignores_labels() -> None:
    G, D = build_nets("dcgan", width=8, z_dim=8)
    G.eval()
    D.eval()
    z, y = torch.randn(2, 8), torch.tensor([0, 1])
    assert torch.equal(G(z, y), G(z))
    x = torch.rand(2, 1, 28, 28)
    assert torch.equal(D(x, y), D(x))


def test_unknown_arch_raises() -> None:
    with pytest.raises(ValueError, match="seed, dcgan"):
        build_nets("stylegan")


@pytest.mark.parametrize("size", [16, 48, 128])
def test_unsupported_dcgan_size_raises(size: int) -> None:
    with pytest.raises(ValueError, match="28, 32, 64"):
        build_nets("dcgan", img_size=size, width=8)


def test_bad_upsample_raises() -> None:
    with pytest.raises(ValueError, match="transposed"):
        build_nets("dcgan", upsample="bilinear", width=8)


def test_dcgan_structure_and_init() -> None:
    torch.manual_seed(0)
    G, D = build_nets("dcgan", img_size=64, channels=3, width=8)
    tconvs = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels) for m in tconvs] == [
        (64, 32),
        (32, 16),
        (16, 8),
        (8, 3),
    ]
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert [(m.in_channels, m.out_channels) for m in convs] == [(3, 8), (8, 16), (16, 32), (32, 64)]
    assert D.fc.in_features == 64 * 4 * 4
    assert any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    for m in (*tconvs, *convs):
        assert abs(m.weight.std().item() - 0.02) < 0.01
    bn = [m for m in G.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bn and all(torch.all(m.bias == 0) for m in bn)

    G28, _ = build_nets("dcgan", img_size=28, width=8)
    assert G28.fc.out_features == 16 * 7 * 7


def test_spectral_norm_discriminator_has_no_batchnorm() -> None:
    _, D = build_nets("dcgan", img_size=32, channels=3, width=8, num_classes=2, spectral_norm=True)
    assert isinstance(D, DCGANDiscriminator)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    layers = [m for m in D.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding))]
    assert layers and all(parametrize.is_parametrized(m, "weight") for m in layers)


@pytest.mark.parametrize("size,upsample,sn", [(28, "nearest", False), (32, "transposed", True)])
def test_dcgan_depth_adds_3x3_convs_per_level_and_trains(
    size: int, upsample: str, sn: bool
) -> None:
    torch.manual_seed(0)
    kw = dict(img_size=size, channels=1, z_dim=16, width=8, upsample=upsample, spectral_norm=sn)
    G0, D0 = build_nets("dcgan", **kw)
    G, D = build_nets("dcgan", depth=2, **kw)
    levels = {28: 2, 32: 3}[size]  # resolutions below the output (G) / after each down (D)

    def n3x3(m: nn.Module) -> int:
        return sum(
            1
            for c in m.modules()
            if isinstance(c, nn.Conv2d) and c.kernel_size == (3, 3) and c.stride == (1, 1)
        )

    assert n3x3(G) - n3x3(G0) == 2 * levels
    assert n3x3(D) - n3x3(D0) == 2 * levels
    assert (G.depth, D.depth) == (2, 2)
    z = torch.randn(BATCH, 16)
    x = G(z)
    assert x.shape == (BATCH, 1, size, size)
    assert D(x).shape == (BATCH,)
    before = _snapshot(G)
    opt = torch.optim.Adam(G.parameters(), lr=1e-3)
    F.softplus(-D(G(z))).mean().backward()
    opt.step()
    stem = [n for n in _changed(G, before) if n.startswith("stem.")]
    assert stem, "the extra convs at the first resolution must receive gradients"


def test_dcgan_depth_zero_keeps_the_classic_parameter_names() -> None:
    G, D = build_nets("dcgan", img_size=28, channels=1, width=8)
    assert not any(k.startswith("stem.") for k in G.state_dict())
    assert [k for k in D.state_dict() if k.startswith("features.")][:2] == [
        "features.0.weight",
        "features.0.bias",
    ]


@pytest.mark.parametrize("depth", [-1, 1.5])
def test_bad_depth_raises(depth) -> None:
    with pytest.raises(ValueError, match="depth"):
        build_nets("dcgan", width=8, depth=depth)
