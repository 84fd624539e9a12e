"""The adversarial game's objectives, written on logits.

Every loss takes raw discriminator outputs (logits, shape ``(N,)``) and is written with
``softplus`` so that it stays finite where ``log(sigmoid(.))`` would underflow:
``log D(x) = -softplus(-l)`` and ``log(1 - D(x)) = -softplus(l)``.

Note on the seed design: its discriminator objective wrote ``log(1 - D(x))`` for *real*
data. That is a sign slip; the standard game (Goodfellow et al., 2014), implemented here,
has the discriminator maximize ``log D(x) + log(1 - D(G(z)))``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class GANLoss:
    """A pair of objectives to *minimize*: one for D, one for G.

    Attributes:
        name: registry name.
        d_loss: ``(real_logits, fake_logits) -> scalar`` minimized by the discriminator.
        g_loss: ``(fake_logits) -> scalar`` minimized by the generator.
        needs_gradient_penalty: True for the Wasserstein critic (WGAN-GP).
    """

    name: str
    d_loss: Callable[[Tensor, Tensor], Tensor]
    g_loss: Callable[[Tensor], Tensor]
    needs_gradient_penalty: bool = False


def _d_standard(real: Tensor, fake: Tensor) -> Tensor:
    # -[log D(x) + log(1 - D(G(z)))]
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def _g_minimax(fake: Tensor) -> Tensor:
    # G minimizes log(1 - D(G(z))) = -softplus(l). Saturates when D rejects fakes.
    return -F.softplus(fake).mean()


def _g_non_saturating(fake: Tensor) -> Tensor:
    # G maximizes log D(G(z)), i.e. minimizes softplus(-l).
    return F.softplus(-fake).mean()


def _d_hinge(real: Tensor, fake: Tensor) -> Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def _g_hinge(fake: Tensor) -> Tensor:
    return -fake.mean()


def _d_wasserstein(real: Tensor, fake: Tensor) -> Tensor:
    return fake.mean() - real.mean()


def _g_wasserstein(fake: Tensor) -> Tensor:
    return -fake.mean()


LOSSES: dict[str, GANLoss] = {
    "minimax": GANLoss("minimax", _d_standard, _g_minimax),
    "non_saturating": GANLoss("non_saturating", _d_standard, _g_non_saturating),
    "hinge": GANLoss("hinge", _d_hinge, _g_hinge),
    "wasserstein": GANLoss("wasserstein", _d_wasserstein, _g_wasserstein, True),
}


def get_loss(name: str) -> GANLoss:
    """Look up a loss by name (``minimax``, ``non_saturating``, ``hinge``, ``wasserstein``)."""
    key = name.replace("-", "_").lower()
    if key not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return LOSSES[key]


def r1_penalty(real: Tensor, real_logits: Tensor) -> Tensor:
    """R1 (Mescheder et al., 2018): mean squared norm of dD/dx on real data.

    ``real`` must have ``requires_grad=True`` before it was passed through D.
    Returns the penalty without the ``gamma / 2`` factor.
    """
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


def gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    generator: torch.Generator | None = None,
    *,
    group: int = 1,
) -> Tensor:
    """WGAN-GP (Gulrajani et al., 2017): ``E[(||grad D(x_hat)|| - 1)^2]`` on interpolates.

    ``group`` > 1 is for a PacGAN critic (Lin et al. 2018), which scores ``group``
    consecutive samples together: each group shares one interpolation weight and the norm
    is taken over the whole group's gradient, as the critic sees it as one input.
    """
    n = real.shape[0]
    if n % group:
        raise ValueError(f"batch of {n} samples does not split into groups of {group}")
    eps = torch.rand(n // group, device=real.device, dtype=real.dtype, generator=generator)
    eps = eps.repeat_interleave(group).view((n,) + (1,) * (real.dim() - 1))
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    out = critic(x_hat)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return (grad.reshape(n // group, -1).norm(2, dim=1) - 1.0).pow(2).mean()
