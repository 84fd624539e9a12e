"""Differentiable augmentation of the discriminator's inputs, fixed or adaptive.

A discriminator trained on a few hundred images memorises them and the game collapses.
DiffAugment (Zhao et al., NeurIPS 2020) applies the *same family* of random, differentiable
transforms to real and generated images every time D sees them (in the D step and in the
G step), so D cannot tell real from fake by the augmentation and G still gets gradients
through it. ADA (Karras et al., NeurIPS 2020) applies each transform with a probability
``p`` that adapts during training: ``r = E[sign(D(real))]`` above a target (0.6) means D
is overfitting, so ``p`` grows; below it, ``p`` shrinks.

Transforms (``policy`` is a comma-separated list of them):

- ``color``: brightness shift U(-0.5, 0.5), saturation scale U(0, 2) (RGB only), contrast
  scale U(0.5, 1.5);
- ``translation``: integer shift of up to 1/8 of the image size in x and y, zero padded;
- ``cutout``: a zeroed square of half the image size at a random place.

Randomness comes from the ``generator`` passed in, so a seeded run (and a resumed one)
draws the same augmentations.

Example:
    >>> aug = Augment("color,translation,cutout", p=1.0)
    >>> x = torch.zeros(4, 1, 28, 28)
    >>> aug(x, torch.Generator().manual_seed(0)).shape
    torch.Size([4, 1, 28, 28])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

POLICIES = ("color", "translation", "cutout")


def _uniform(n: int, lo: float, hi: float, like: Tensor, gen: torch.Generator) -> Tensor:
    u = torch.rand(n, 1, 1, 1, generator=gen, device=gen.device)
    return (lo + (hi - lo) * u).to(like.device, like.dtype)


def color(x: Tensor, gen: torch.Generator) -> Tensor:
    """Random brightness, saturation (3+ channels) and contrast, per sample."""
    n = x.shape[0]
    x = x + _uniform(n, -0.5, 0.5, x, gen)
    if x.shape[1] > 1:
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * _uniform(n, 0.0, 2.0, x, gen) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * _uniform(n, 0.5, 1.5, x, gen) + mean


def translation(x: Tensor, gen: torch.Generator, ratio: float = 0.125) -> Tensor:
    """Shift each sample by up to ``ratio`` of its size in x and y, filling with zeros."""
    n, c, h, w = x.shape
    sh, sw = max(1, int(h * ratio + 0.5)), max(1, int(w * ratio + 0.5))
    ty = torch.randint(-sh, sh + 1, (n, 1), generator=gen, device=gen.device).to(x.device)
    tx = torch.randint(-sw, sw + 1, (n, 1), generator=gen, device=gen.device).to(x.device)
    padded = F.pad(x, (sw, sw, sh, sh))
    rows = torch.arange(h, device=x.device)[None, :] + sh - ty  # (n, h)
    cols = torch.arange(w, device=x.device)[None, :] + sw - tx  # (n, w)
    out = padded.gather(2, rows[:, None, :, None].expand(n, c, h, w + 2 * sw))
    return out.gather(3, cols[:, None, None, :].expand(n, c, h, w))


def cutout(x: Tensor, gen: torch.Generator, ratio: float = 0.5) -> Tensor:
    """Zero a square of ``ratio`` times the image size at a random place in each sample."""
    n, _, h, w = x.shape
    ch, cw = max(1, int(h * ratio + 0.5)), max(1, int(w * ratio + 0.5))
    # The square's centre may lie anywhere, so it can be partly outside the image.
    cy = torch.randint(0, h + 1 - ch % 2, (n, 1, 1), generator=gen, device=gen.device)
    cx = torch.randint(0, w + 1 - cw % 2, (n, 1, 1), generator=gen, device=gen.device)
    cy, cx = cy.to(x.device), cx.to(x.device)
    yy = torch.arange(h, device=x.device)[None, :, None]
    xx = torch.arange(w, device=x.device)[None, None, :]
    inside = (yy >= cy - ch // 2) & (yy < cy - ch // 2 + ch)
    inside = inside & (xx >= cx - cw // 2) & (xx < cx - cw // 2 + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


_TRANSFORMS = {"color": color, "translation": translation, "cutout": cutout}


def parse_policy(policy: str) -> tuple[str, ...]:
    """Split and check a policy string such as ``"color,translation,cutout"``."""
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    bad = [p for p in names if p not in _TRANSFORMS]
    if bad:
        raise ValueError(
            f"unknown augmentation(s) {', '.join(bad)}; choose from {', '.join(POLICIES)}"
        )
    return names


class Augment:
    """Apply each transform of ``policy`` to each sample with probability ``p``.

    Args:
        policy: comma-separated transforms (see the module docstring); ``""`` disables.
        p: probability that a transform is applied to a sample (1.0 = DiffAugment).
        target: if set, adapt ``p`` as ADA does, towards ``E[sign(D(real))] == target``.
        speed_images: with ``target``, ``p`` can move from 0 to 1 in this many real images.
        interval: D steps between two adjustments of ``p``.
    """

    def __init__(
        self,
        policy: str,
        p: float = 1.0,
        target: float | None = None,
        speed_images: float = 20_000,
        interval: int = 4,
    ) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"augment_p must be in [0, 1], got {p}")
        if target is not None and not -1.0 < target < 1.0:
            raise ValueError(f"ada_target must be in (-1, 1), got {target}")
        if speed_images <= 0 or interval < 1:
            raise ValueError("ada speed must be positive and the interval at least 1")
        self.policy = parse_policy(policy)
        self.p = float(p)
        self.target = target
        self.speed_images = float(speed_images)
        self.interval = int(interval)
        self._signs: list[Tensor] = []
        self._images = 0

    @property
    def enabled(self) -> bool:
        return bool(self.policy) and (self.p > 0 or self.target is not None)

    def __call__(self, x: Tensor, gen: torch.Generator) -> Tensor:
        """Augment a batch ``(N, C, H, W)``; differentiable with respect to ``x``."""
        if not self.policy or x.dim() != 4:
            return x
        for name in self.policy:
            if self.p <= 0:
                break
            out = _TRANSFORMS[name](x, gen)
            if self.p < 1:
                keep = torch.rand(x.shape[0], 1, 1, 1, generator=gen, device=gen.device)
                x = torch.where(keep.to(x.device) < self.p, out, x)
            else:
                x = out
        return x

    def observe(self, real_logits: Tensor) -> None:
        """Record D's outputs on real data; every ``interval`` calls, adapt ``p`` (ADA)."""
        if self.target is None:
            return
        self._signs.append(torch.sign(real_logits.detach().float()).mean())
        self._images += int(real_logits.shape[0])
        if len(self._signs) >= self.interval:
            r = float(torch.stack(self._signs).mean())
            step = self._images / self.speed_images
            self.p = min(1.0, max(0.0, self.p + (step if r > self.target else -step)))
            self._signs, self._images = [], 0

    def state_dict(self) -> dict[str, float | int | list[float]]:
        """JSON-ready state (the adaptive ``p`` and the pending statistics)."""
        return {"p": self.p, "signs": [float(s) for s in self._signs], "images": self._images}

    def load_state_dict(self, state: dict) -> None:
        self.p = float(state["p"])
        self._signs = [torch.tensor(s) for s in state.get("signs", [])]
        self._images = int(state.get("images", 0))
