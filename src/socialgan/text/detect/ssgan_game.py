"""The semi-supervised GAN game on sentence vectors: its two nets and its two losses.

The discriminator has ``K + 1`` outputs, the last meaning "fake" (Salimans et al., 2016;
GAN-BERT, Croce et al., 2020). Both losses are written on logits with ``logsumexp``, so
they stay finite where ``log(softmax(.))`` of probabilities would underflow:
``log p_fake = l_K - logsumexp(l)`` and ``log(1 - p_fake) = logsumexp(l_<K) - logsumexp(l)``.

Example:
    >>> import torch
    >>> from socialgan.text.detect.ssgan_game import Discriminator, Generator, ssgan_generator_loss
    >>> g, d = Generator(8, 32, 16, 0.1), Discriminator(16, 32, n_classes=2, dropout=0.1)
    >>> logits, features = d(g(torch.randn(4, 8)))
    >>> logits.shape
    torch.Size([4, 3])
    >>> loss = ssgan_generator_loss(logits, torch.zeros(4, 32), features)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["Discriminator", "Generator", "ssgan_discriminator_loss", "ssgan_generator_loss"]


# --------------------------------------------------------------------------- losses
def ssgan_discriminator_loss(
    real_logits: Tensor, fake_logits: Tensor, labels: Tensor, weight: Tensor | None = None
) -> Tensor:
    """The discriminator's loss on ``(N, K+1)`` logits, column ``K`` being "fake".

    ``labels`` ``(N,)`` gives the class of each real row, ``-1`` where it is unlabeled. The
    supervised term is the cross-entropy over the K real logits (optionally class-weighted),
    averaged over the labeled rows (0 when there are none); the unsupervised term is
    ``-mean log(1 - p_fake)`` over all real rows plus ``-mean log p_fake`` over fakes.
    """
    log_z_real = torch.logsumexp(real_logits, dim=1)
    log_not_fake = torch.logsumexp(real_logits[:, :-1], dim=1) - log_z_real
    log_fake = fake_logits[:, -1] - torch.logsumexp(fake_logits, dim=1)
    unsupervised = -log_not_fake.mean() - log_fake.mean()
    labeled = labels >= 0
    if not bool(labeled.any()):
        return unsupervised
    supervised = F.cross_entropy(real_logits[labeled, :-1], labels[labeled], weight=weight)
    return supervised + unsupervised


def ssgan_generator_loss(
    fake_logits: Tensor,
    real_features: Tensor,
    fake_features: Tensor,
    feature_matching: float = 1.0,
) -> Tensor:
    """The generator's loss: ``-mean log(1 - p_fake(G(z)))`` plus ``feature_matching`` times
    the mean squared gap between the batch means of real and fake discriminator features."""
    log_not_fake = torch.logsumexp(fake_logits[:, :-1], dim=1) - torch.logsumexp(fake_logits, dim=1)
    gap = (real_features.mean(dim=0) - fake_features.mean(dim=0)).pow(2).mean()
    return -log_not_fake.mean() + feature_matching * gap


# --------------------------------------------------------------------------- nets
class Generator(nn.Module):
    """Noise ``(N, noise_dim)`` -> fake sentence vectors ``(N, out_dim)`` (one hidden layer)."""

    def __init__(self, noise_dim: int, hidden: int, out_dim: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(noise_dim, hidden),
            nn.LeakyReLU(0.2),
            nn.Dropout(dropout),
            nn.Linear(hidden, out_dim),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    """Sentence vectors -> ``(logits (N, K+1), features (N, hidden))``."""

    def __init__(self, in_dim: int, hidden: int, n_classes: int, dropout: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(in_dim, hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout)
        )
        self.out = nn.Linear(hidden, n_classes + 1)

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        features = self.body(h)
        return self.out(features), features
