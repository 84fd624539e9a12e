"""The tabular GAN's nets and batches: shapes, activations, the condition loss on hand-made
logits, training-by-sampling frequencies and determinism, one D and one G step."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from socialgan.engine import TrainConfig, Trainer
from socialgan.tabular.nets import PacCritic, TabularGenerator, condition_loss
from socialgan.tabular.sampler import ConditionalBatches, condition_probabilities

# a continuous column (tanh scalar + 3 modes), a 2-category and a 3-category column
SPANS = [(0, 1, "tanh"), (1, 3, "softmax"), (4, 2, "softmax"), (6, 3, "softmax")]
N_COND = 5  # 2 + 3 categories


def test_generator_outputs_per_span_activations() -> None:
    torch.manual_seed(0)
    g = TabularGenerator(8, N_COND, SPANS, hidden=(16, 16))
    g.eval()
    out = g(torch.randn(32, 8), torch.randint(0, N_COND, (32,)))
    assert out.shape == (32, 9) and g.num_classes == N_COND
    assert out[:, 0].abs().max() <= 1  # tanh
    for s, w, _ in SPANS[1:]:
        assert torch.allclose(out[:, s : s + w].sum(1), torch.ones(32), atol=1e-5)
    assert g.last_logits is None  # kept only while training
    g.train()
    g(torch.randn(4, 8), torch.zeros(4, dtype=torch.long))
    assert g.last_logits is not None and g.last_logits.shape == (4, 9)
    with pytest.raises(ValueError, match="conditional"):
        g(torch.randn(4, 8))


def test_critic_scores_pacs() -> None:
    d = PacCritic(9, N_COND, hidden=(16,), pac=4)
    assert d(torch.randn(32, 9), torch.zeros(32, dtype=torch.long)).shape == (8,)
    with pytest.raises(ValueError, match="pacs of 4"):
        d(torch.randn(30, 9), torch.zeros(30, dtype=torch.long))


def test_condition_loss_is_the_cross_entropy_of_the_asked_column() -> None:
    logits = torch.randn(3, 9)
    start = torch.tensor([4, 4, 6, 6, 6])
    span = torch.tensor([2, 2, 3, 3, 3])
    offset = torch.tensor([0, 1, 0, 1, 2])
    y = torch.tensor([1, 2, 4])  # column A category 1, column B categories 0 and 2
    expected = (
        F.cross_entropy(logits[0:1, 4:6], torch.tensor([1]))
        + F.cross_entropy(logits[1:2, 6:9], torch.tensor([0]))
        + F.cross_entropy(logits[2:3, 6:9], torch.tensor([2]))
    ) / 3
    assert torch.allclose(condition_loss(logits, y, start, span, offset), expected)


def _batches(**kw):
    rng = np.random.default_rng(0)
    n = 400
    codes = np.stack([rng.choice(2, n, p=[0.9, 0.1]), rng.choice(3, n, p=[0.5, 0.3, 0.2])], 1)
    data = np.concatenate(
        [rng.normal(size=(n, 4)), np.eye(2)[codes[:, 0]], np.eye(3)[codes[:, 1]]], 1
    )
    counts = [np.bincount(codes[:, j]).tolist() for j in range(2)]
    return (
        data,
        codes,
        counts,
        ConditionalBatches(data, codes, counts, batch_size=200, seed=3, **kw),
    )


def test_training_by_sampling_draws_rows_of_the_condition() -> None:
    data, codes, counts, b = _batches()
    x, y = b.batch(5)
    assert x.shape == (200, 9) and y is not None and y.shape == (200,)
    # each drawn row holds the category its condition asks for
    for row, c in zip(x.numpy(), y.tolist(), strict=True):
        col, cat = (0, c) if c < 2 else (1, c - 2)
        assert row[4 + (0 if col == 0 else 2) + cat] == 1.0
    # same index, same batch (resume contract); another index, another batch
    x2, y2 = b.batch(5)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert not torch.equal(b.batch(6)[1], y)
    p = condition_probabilities(counts, log_frequency=True)
    assert p.sum() == pytest.approx(1.0)
    a0, a1 = math.log1p(counts[0][0]), math.log1p(counts[0][1])
    assert p[1] == pytest.approx(0.5 * a1 / (a0 + a1))  # the rare category's share
    freq = np.bincount(torch.cat([b.batch(i)[1] for i in range(200)]).numpy(), minlength=5)
    assert np.allclose(freq / freq.sum(), p, atol=0.01)


def test_one_critic_and_one_generator_step_on_a_tiny_table() -> None:
    torch.manual_seed(0)
    data, codes, counts, b = _batches()
    g = TabularGenerator(
        8, N_COND, [(0, 4, "tanh"), (4, 2, "softmax"), (6, 3, "softmax")], hidden=(16,)
    )
    d = PacCritic(9, N_COND, hidden=(16,), pac=10)
    cfg = TrainConfig(loss="wasserstein", steps=1, batch_size=200, ema_decay=0.0, tensorboard=False)
    t = Trainer(g, d, b, cfg, progress=False)
    before_g = [p.clone() for p in g.parameters()]
    before_d = [p.clone() for p in d.parameters()]
    out = t.train_step()
    assert out is not None and {"loss_d", "gp", "loss_g"} <= set(out)
    assert all(torch.isfinite(v) for v in out.values())
    assert any(not torch.equal(a, p) for a, p in zip(before_g, g.parameters(), strict=True))
    assert any(not torch.equal(a, p) for a, p in zip(before_d, d.parameters(), strict=True))
    # the generator's own conditions come from the data's distribution, not uniform ids
    labels = b.sample_labels(20_000, torch.Generator().manual_seed(0))
    share = np.bincount(labels.numpy(), minlength=5) / 20_000
    assert np.allclose(share, condition_probabilities(counts, log_frequency=True), atol=0.015)
