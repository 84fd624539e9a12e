"""The nets of the tabular GAN: a residual generator with per-column output activations and
a PacGAN critic, both conditioned on one (column, category) pair.

The condition is a single int per row, ``y``: the flat index of a category among all the
discrete columns' categories (CTGAN's conditional vector is the one-hot of it). Both nets
take the one-hot of ``y``; with no discrete column there is no condition.

Shapes follow CTGAN (Xu et al. 2019): G maps ``[z, onehot(y)]`` through residual blocks
(linear, batch norm, ReLU, the block's input concatenated to its output) to one value per
output dimension of the data transformer, then ``tanh`` on each continuous column's scalar
and a Gumbel-softmax (temperature ``tau``) on each softmax span (Gaussian modes,
categories). D (the critic) scores ``pac`` rows at once (PacGAN, Lin et al. 2018), which
makes a collapsed generator easy to spot; it uses leaky ReLU and dropout, no batch norm, so
that the gradient penalty is per group of rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["PacCritic", "TabularGenerator", "condition_loss"]

#: One output span of the transformer: ``(start, width, activation)``; activation is
#: ``"tanh"`` (a continuous value) or ``"softmax"`` (modes, categories).
SpanTuple = tuple[int, int, str]


class _Residual(nn.Module):
    def __init__(self, i: int, o: int) -> None:
        super().__init__()
        self.fc, self.bn = nn.Linear(i, o), nn.BatchNorm1d(o)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


def _onehot(y: Tensor | None, n: int, like: Tensor) -> Tensor | None:
    if not n:
        return None
    if y is None:
        raise ValueError("this net is conditional: pass the condition index y")
    return F.one_hot(y.long(), n).to(like.dtype)


class TabularGenerator(nn.Module):
    """``G(z, y) -> rows`` in the transformer's output space.

    Args:
        z_dim: latent size (CTGAN's ``embedding_dim``, 128).
        num_conditions: categories over all discrete columns (0: unconditional).
        spans: the transformer's output spans, in order, covering ``data_dim``.
        hidden: widths of the residual blocks ((256, 256)).
        tau: Gumbel-softmax temperature of the softmax spans (0.2, as CTGAN).

    ``num_classes`` is ``num_conditions`` (what the engine's Trainer reads). The forward pass
    keeps its pre-activation output in ``last_logits`` (training only): the engine hands the
    generator's regularizer only the activated rows, and the condition loss wants logits.
    """

    def __init__(
        self,
        z_dim: int,
        num_conditions: int,
        spans: Sequence[SpanTuple],
        *,
        hidden: Sequence[int] = (256, 256),
        tau: float = 0.2,
    ) -> None:
        super().__init__()
        self.z_dim, self.num_classes = int(z_dim), int(num_conditions)
        self.spans = [(int(s), int(w), str(a)) for s, w, a in spans]
        self.data_dim = sum(w for _, w, _ in self.spans)
        self.tau = float(tau)
        blocks, width = [], self.z_dim + self.num_classes
        for h in hidden:
            blocks.append(_Residual(width, int(h)))
            width += int(h)
        self.body = nn.Sequential(*blocks)
        self.out = nn.Linear(width, self.data_dim)
        self.last_logits: Tensor | None = None
        tanh = [s for s, w, a in self.spans if a == "tanh" for s in range(s, s + w)]
        self.register_buffer("_tanh_index", torch.tensor(tanh, dtype=torch.long), persistent=False)
        self._softmax = [(s, w) for s, w, a in self.spans if a == "softmax"]

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        c = _onehot(y, self.num_classes, z)
        logits = self.out(self.body(z if c is None else torch.cat([z, c], dim=1)))
        self.last_logits = logits if self.training else None
        return self.activate(logits)

    def activate(self, logits: Tensor, *, hard: bool = False) -> Tensor:
        """``tanh`` on the continuous scalars, Gumbel-softmax on every softmax span
        (``hard``: one-hot of the Gumbel-perturbed argmax, i.e. a draw from the softmax)."""
        parts = []
        for s, w, a in self.spans:
            x = logits[:, s : s + w]
            if a == "tanh":
                parts.append(torch.tanh(x))
            elif hard:
                g = -torch.empty_like(x).exponential_().log()  # Gumbel(0, 1)
                parts.append(F.one_hot((x + g).argmax(1), w).to(x.dtype))
            else:
                parts.append(F.gumbel_softmax(x, tau=self.tau, hard=False))
        return torch.cat(parts, dim=1)


class PacCritic(nn.Module):
    """``D(x, y) -> scores``, one per group of ``pac`` consecutive rows.

    Args:
        data_dim: the transformer's output size.
        num_conditions: as the generator's (the condition is concatenated to each row).
        hidden: widths of the hidden layers ((256, 256)).
        pac: rows scored together (10, as CTGAN); batches must be a multiple of it.
        dropout: after each hidden layer (0.5).
    """

    def __init__(
        self,
        data_dim: int,
        num_conditions: int,
        *,
        hidden: Sequence[int] = (256, 256),
        pac: int = 10,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.pac, self.num_conditions = int(pac), int(num_conditions)
        layers: list[nn.Module] = []
        width = (int(data_dim) + self.num_conditions) * self.pac
        for h in hidden:
            layers += [nn.Linear(width, int(h)), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            width = int(h)
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        if x.shape[0] % self.pac:
            raise ValueError(f"a batch of {x.shape[0]} rows does not split into pacs of {self.pac}")
        c = _onehot(y, self.num_conditions, x)
        rows = x if c is None else torch.cat([x, c], dim=1)
        return self.net(rows.reshape(x.shape[0] // self.pac, -1)).squeeze(1)


def condition_loss(
    logits: Tensor, y: Tensor, cond_start: Tensor, cond_span: Tensor, cond_offset: Tensor
) -> Tensor:
    """CTGAN's condition loss: the cross-entropy of each row's conditioned column (its
    category logits, ``logits[:, start:start + width]``) against the asked category.

    ``cond_start[c]``, ``cond_span[c]`` and ``cond_offset[c]`` give, for flat condition
    ``c``, the output start of its column's span, the span's width, and the category's
    index inside it. Rows of different columns are handled together by padding every span
    to the widest one with ``-inf``.
    """
    width = int(cond_span.max())
    start, span = cond_start[y], cond_span[y]
    cols = torch.arange(width, device=logits.device)
    index = (start[:, None] + cols[None, :]).clamp(max=logits.shape[1] - 1)
    picked = logits.gather(1, index)
    picked = picked.masked_fill(cols[None, :] >= span[:, None], float("-inf"))
    return F.cross_entropy(picked, cond_offset[y])
