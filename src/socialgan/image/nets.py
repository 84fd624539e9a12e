"""Image generators and discriminators.

Two architecture families are provided, both following the engine contract
(see ``docs/ARCHITECTURE.md``):

* ``"seed"``: the seed design's small MLP GAN (MNIST-sized by default), kept layer for layer.
* ``"dcgan"``: DCGAN-style convolutional nets for 28x28, 32x32 and 64x64 images, optionally
  class-conditional (embedding in G, projection discriminator in D) and spectrally normalised.

Generators expose ``z_dim``, ``num_classes`` (0 = unconditional), ``out_range``, ``img_size``
and ``channels`` and map ``forward(z, y=None) -> (N, C, H, W)``. Discriminators expose
``num_classes``, ``img_size`` and ``channels`` and map ``forward(x, y=None) -> logits (N,)``
(raw logits, no sigmoid: the losses work on logits). Unconditional nets ignore ``y``;
conditional nets raise ``ValueError`` when ``y`` is missing.

The modules hold no global state and draw no Python-side random numbers, so they work with
``torch.compile`` and ``DistributedDataParallel``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

__all__ = [
    "ARCHS",
    "DCGAN_OPTIM",
    "DCGAN_SIZES",
    "SEED_OPTIM",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "SeedDiscriminator",
    "SeedGenerator",
    "build_nets",
    "count_params",
    "default_optim",
]

ARCHS: tuple[str, ...] = ("seed", "dcgan")
"""Architecture names accepted by :func:`build_nets`."""

SEED_OPTIM: dict = dict(lr=1e-3, betas=(0.9, 0.999))
"""Adam settings of the seed design: plain Adam with the PyTorch/TensorFlow defaults."""

DCGAN_OPTIM: dict = dict(lr=2e-4, betas=(0.5, 0.999))
"""Adam settings from Radford et al. (2016), DCGAN."""

DCGAN_SIZES: dict[int, tuple[int, int]] = {28: (7, 2), 32: (4, 3), 64: (4, 4)}
"""Supported DCGAN image sizes -> (starting spatial size ``s0``, number of 2x up/down steps)."""

UPSAMPLE_MODES: tuple[str, ...] = ("transposed", "nearest")

_HIDDEN = 128  # seed MLP hidden width


def _require_labels(y: torch.Tensor | None, num_classes: int, who: str) -> torch.Tensor:
    """Return ``y`` or raise a clear ``ValueError`` for a conditional net called without it."""
    if y is None:
        raise ValueError(
            f"{who} is class-conditional (num_classes={num_classes}) and needs labels: "
            "call it as forward(inputs, y) with y an int64 tensor of shape (N,)"
        )
    return y


def _check_common(img_size: int, channels: int, z_dim: int | None, num_classes: int) -> None:
    if img_size <= 0:
        raise ValueError(f"img_size must be positive, got {img_size}")
    if channels <= 0:
        raise ValueError(f"channels must be positive, got {channels}")
    if z_dim is not None and z_dim <= 0:
        raise ValueError(f"z_dim must be positive, got {z_dim}")
    if num_classes < 0:
        raise ValueError(f"num_classes must be >= 0 (0 = unconditional), got {num_classes}")


# --------------------------------------------------------------------------- seed MLP


class SeedGenerator(nn.Module):
    """The seed design's MLP generator.

    ``z (z_dim) -> Linear 128 -> ReLU -> Linear 128 -> ReLU -> Linear C*H*W -> Sigmoid``,
    reshaped to ``(N, C, H, W)``; outputs lie in ``(0, 1)``. With ``num_classes > 0`` a one-hot
    label is concatenated to ``z``. Layers keep the PyTorch default initialisation.
    """

    def __init__(
        self, z_dim: int = 100, img_size: int = 28, channels: int = 1, num_classes: int = 0
    ) -> None:
        super().__init__()
        _check_common(img_size, channels, z_dim, num_classes)
        self.z_dim = z_dim
        self.num_classes = num_classes
        self.img_size = img_size
        self.channels = channels
        self.out_range: tuple[float, float] = (0.0, 1.0)
        self.net = nn.Sequential(
            nn.Linear(z_dim + num_classes, _HIDDEN),
            nn.ReLU(),
            nn.Linear(_HIDDEN, _HIDDEN),
            nn.ReLU(),
            nn.Linear(_HIDDEN, channels * img_size * img_size),
            nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Map latents ``z`` ``(N, z_dim)`` (and labels ``y`` ``(N,)``) to images."""
        h = z.flatten(1)
        if self.num_classes > 0:
            y = _require_labels(y, self.num_classes, type(self).__name__)
            h = torch.cat([h, F.one_hot(y.long(), self.num_classes).to(h.dtype)], dim=1)
        out = self.net(h)
        return out.view(-1, self.channels, self.img_size, self.img_size)


class SeedDiscriminator(nn.Module):
    """The seed design's MLP discriminator.

    ``flatten (C*H*W) -> Linear 128 -> ReLU -> Linear 128 -> ReLU -> Linear 1`` returning a
    raw logit per image (no sigmoid). With ``num_classes > 0`` a one-hot label is concatenated
    to the flattened input. With ``spectral_norm=True`` every linear layer is spectrally
    normalised.
    """

    def __init__(
        self,
        img_size: int = 28,
        channels: int = 1,
        num_classes: int = 0,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        _check_common(img_size, channels, None, num_classes)
        self.num_classes = num_classes
        self.img_size = img_size
        self.channels = channels
        self.net = nn.Sequential(
            nn.Linear(channels * img_size * img_size + num_classes, _HIDDEN),
            nn.ReLU(),
            nn.Linear(_HIDDEN, _HIDDEN),
            nn.ReLU(),
            nn.Linear(_HIDDEN, 1),
        )
        if spectral_norm:
            _apply_spectral_norm(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Return logits ``(N,)`` for images ``x`` ``(N, C, H, W)`` (and labels ``y``)."""
        h = x.flatten(1)
        if self.num_classes > 0:
            y = _require_labels(y, self.num_classes, type(self).__name__)
            h = torch.cat([h, F.one_hot(y.long(), self.num_classes).to(h.dtype)], dim=1)
        return self.net(h).squeeze(1)


# --------------------------------------------------------------------------- DCGAN


def _dcgan_sizes(img_size: int) -> tuple[int, int]:
    if img_size not in DCGAN_SIZES:
        supported = ", ".join(str(s) for s in DCGAN_SIZES)
        raise ValueError(
            f"dcgan nets support img_size in {{{supported}}}, got {img_size}; "
            "resize the images or use arch='seed'"
        )
    return DCGAN_SIZES[img_size]


def _check_depth(depth: int) -> None:
    if not isinstance(depth, int) or depth < 0:
        raise ValueError(
            f"depth must be an integer >= 0 (extra 3x3 convs per level), got {depth!r}"
        )


def _dcgan_init(module: nn.Module) -> None:
    """DCGAN initialisation: weights ~ N(0, 0.02), BN scale ~ N(1, 0.02), biases 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def _apply_spectral_norm(root: nn.Module) -> None:
    """Spectrally normalise (in place) every conv, linear and embedding layer under ``root``."""
    for module in list(root.modules()):
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
            _spectral_norm(module)


def _g_convs(c: int, depth: int) -> list[nn.Module]:
    """``depth`` extra 3x3 convolutions (+ BN + ReLU) at one generator resolution."""
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
    return layers


def _up_block(c_in: int, c_out: int, upsample: str, bias: bool) -> nn.Module:
    """A 2x spatial upsampling layer (no norm / activation)."""
    if upsample == "transposed":
        return nn.ConvTranspose2d(c_in, c_out, kernel_size=4, stride=2, padding=1, bias=bias)
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(c_in, c_out, kernel_size=3, stride=1, padding=1, bias=bias),
    )


class DCGANGenerator(nn.Module):
    """DCGAN-style generator for 28, 32 or 64 pixel images, outputs in ``(-1, 1)`` (Tanh).

    ``z -> Linear -> (width * 2**(n-1), s0, s0) -> BN -> ReLU``, then ``n - 1`` blocks of
    2x upsampling + BN + ReLU halving the channels down to ``width``, then a last 2x
    upsampling to ``channels`` + Tanh. Sizes: 28 = 7 -> 14 -> 28; 32 = 4 -> 8 -> 16 -> 32;
    64 = 4 -> 8 -> 16 -> 32 -> 64.

    ``upsample="transposed"`` uses ``ConvTranspose2d(k=4, s=2, p=1)``; ``"nearest"`` uses
    nearest-neighbour ``Upsample(2)`` followed by a 3x3 convolution (no checkerboard artefacts).
    With ``num_classes > 0`` a learned ``nn.Embedding(num_classes, z_dim)`` of the label is
    concatenated to ``z``. ``depth > 0`` adds that many 3x3 convolutions (+ BN + ReLU) at every
    resolution below the output (the 28 px net otherwise has only two conv layers).
    """

    def __init__(
        self,
        z_dim: int = 100,
        img_size: int = 64,
        channels: int = 3,
        num_classes: int = 0,
        width: int = 64,
        upsample: str = "transposed",
        depth: int = 0,
    ) -> None:
        super().__init__()
        _check_common(img_size, channels, z_dim, num_classes)
        if width <= 0:
            raise ValueError(f"width must be positive, got {width}")
        if upsample not in UPSAMPLE_MODES:
            raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}, got {upsample!r}")
        _check_depth(depth)
        s0, n_up = _dcgan_sizes(img_size)
        self.z_dim = z_dim
        self.num_classes = num_classes
        self.img_size = img_size
        self.channels = channels
        self.width = width
        self.upsample = upsample
        self.depth = depth
        self.out_range: tuple[float, float] = (-1.0, 1.0)
        self._s0 = s0
        self._c0 = width * 2 ** (n_up - 1)

        self.embed = nn.Embedding(num_classes, z_dim) if num_classes > 0 else None
        in_dim = z_dim * (2 if num_classes > 0 else 1)
        self.fc = nn.Linear(in_dim, self._c0 * s0 * s0, bias=False)
        self.bn0 = nn.BatchNorm2d(self._c0)
        # no parameters when depth == 0, so older checkpoints keep their keys
        self.stem = nn.Sequential(*_g_convs(self._c0, depth))

        blocks: list[nn.Module] = []
        c = self._c0
        for _ in range(n_up - 1):
            blocks += [
                _up_block(c, c // 2, upsample, bias=False),
                nn.BatchNorm2d(c // 2),
                nn.ReLU(),
            ]
            c //= 2
            blocks += _g_convs(c, depth)
        blocks += [_up_block(c, channels, upsample, bias=True), nn.Tanh()]
        self.blocks = nn.Sequential(*blocks)
        self.apply(_dcgan_init)
        # nn.Embedding keeps its N(0, 1) init: on the same scale as z.

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Map latents ``z`` ``(N, z_dim)`` (and labels ``y`` ``(N,)``) to images in (-1, 1)."""
        h = z.flatten(1)
        if self.embed is not None:
            y = _require_labels(y, self.num_classes, type(self).__name__)
            h = torch.cat([h, self.embed(y.long()).to(h.dtype)], dim=1)
        h = self.fc(h).view(-1, self._c0, self._s0, self._s0)
        h = self.stem(F.relu(self.bn0(h)))
        return self.blocks(h)


class DCGANDiscriminator(nn.Module):
    """DCGAN-style discriminator for 28, 32 or 64 pixel images, returning logits ``(N,)``.

    ``Conv2d(k=4, s=2, p=1) + LeakyReLU(0.2)`` blocks double the channels from ``width`` while
    halving the size down to ``s0`` (7 for 28, 4 for 32/64), then flatten -> Linear -> 1 logit.
    ``norm="batch"`` adds BatchNorm after every conv but the first (classic DCGAN);
    ``norm="none"`` uses no normalisation. With ``spectral_norm=True`` every conv, linear and
    embedding layer is spectrally normalised and ``norm`` is forced to ``"none"``.
    ``depth > 0`` adds that many 3x3 convolutions (+ norm + LeakyReLU) after every
    downsampling block.

    With ``num_classes > 0`` it is a projection discriminator (Miyato & Koyama, 2018):
    ``logit = linear(h) + sum(embed(y) * h)`` with ``h`` the flattened features.
    """

    def __init__(
        self,
        img_size: int = 64,
        channels: int = 3,
        num_classes: int = 0,
        width: int = 64,
        spectral_norm: bool = False,
        norm: str = "batch",
        depth: int = 0,
    ) -> None:
        super().__init__()
        _check_common(img_size, channels, None, num_classes)
        _check_depth(depth)
        if width <= 0:
            raise ValueError(f"width must be positive, got {width}")
        if norm not in ("batch", "none"):
            raise ValueError(f"norm must be 'batch' or 'none', got {norm!r}")
        if spectral_norm:
            norm = "none"
        s0, n_down = _dcgan_sizes(img_size)
        self.num_classes = num_classes
        self.img_size = img_size
        self.channels = channels
        self.width = width
        self.spectral_norm = spectral_norm
        self.norm = norm
        self.depth = depth

        layers: list[nn.Module] = []
        c_in, c_out = channels, width
        for i in range(n_down):
            use_bn = norm == "batch" and i > 0
            layers.append(
                nn.Conv2d(c_in, c_out, kernel_size=4, stride=2, padding=1, bias=not use_bn)
            )
            if use_bn:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2))
            for _ in range(depth):
                layers.append(nn.Conv2d(c_out, c_out, 3, 1, 1, bias=norm != "batch"))
                if norm == "batch":
                    layers.append(nn.BatchNorm2d(c_out))
                layers.append(nn.LeakyReLU(0.2))
            c_in, c_out = c_out, c_out * 2
        self.features = nn.Sequential(*layers)
        feat_dim = c_in * s0 * s0
        self.fc = nn.Linear(feat_dim, 1)
        self.embed = nn.Embedding(num_classes, feat_dim) if num_classes > 0 else None
        self.apply(_dcgan_init)
        if self.embed is not None:
            nn.init.normal_(self.embed.weight, 0.0, 0.02)
        if spectral_norm:
            _apply_spectral_norm(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Return logits ``(N,)`` for images ``x`` ``(N, C, H, W)`` (and labels ``y``)."""
        h = self.features(x).flatten(1)
        out = self.fc(h).squeeze(1)
        if self.embed is not None:
            y = _require_labels(y, self.num_classes, type(self).__name__)
            out = out + (self.embed(y.long()) * h).sum(dim=1)
        return out


# --------------------------------------------------------------------------- factory


def build_nets(
    arch: str,
    *,
    img_size: int = 28,
    channels: int = 1,
    z_dim: int = 100,
    num_classes: int = 0,
    spectral_norm: bool = False,
    width: int = 64,
    upsample: str = "transposed",
    depth: int = 0,
) -> tuple[nn.Module, nn.Module]:
    """Build a ``(generator, discriminator)`` pair.

    Args:
        arch: one of :data:`ARCHS` (``"seed"`` or ``"dcgan"``).
        img_size: image height = width (dcgan: 28, 32 or 64; seed: any).
        channels: image channels (1 grayscale, 3 RGB).
        z_dim: latent dimension.
        num_classes: number of classes for a class-conditional pair (0 = unconditional).
        spectral_norm: spectrally normalise the discriminator (dcgan: also drops its BN).
        width: base channel count of the dcgan nets (ignored by ``"seed"``).
        upsample: dcgan generator upsampling, ``"transposed"`` or ``"nearest"``
            (ignored by ``"seed"``).
        depth: extra 3x3 convolutions per resolution in both dcgan nets (ignored by
            ``"seed"``).

    Raises:
        ValueError: unknown ``arch``, unsupported ``img_size`` or other bad settings.
    """
    if arch == "seed":
        G: nn.Module = SeedGenerator(z_dim, img_size, channels, num_classes)
        D: nn.Module = SeedDiscriminator(img_size, channels, num_classes, spectral_norm)
    elif arch == "dcgan":
        G = DCGANGenerator(z_dim, img_size, channels, num_classes, width, upsample, depth)
        D = DCGANDiscriminator(img_size, channels, num_classes, width, spectral_norm, depth=depth)
    else:
        raise ValueError(f"unknown arch {arch!r}; expected one of {', '.join(ARCHS)}")
    return G, D


def default_optim(arch: str) -> dict:
    """Adam settings (``lr``, ``betas``) recommended for ``arch``; a fresh copy."""
    if arch == "seed":
        return dict(SEED_OPTIM)
    if arch == "dcgan":
        return dict(DCGAN_OPTIM)
    raise ValueError(f"unknown arch {arch!r}; expected one of {', '.join(ARCHS)}")


def count_params(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``module`` (only those with ``requires_grad`` if asked)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
