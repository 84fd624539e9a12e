"""reinforce_loss on hand-made cases: the generator attack's formula to the bit, per-token
baselines, the KL term, and one SGD step moving log-probabilities the right way."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from socialgan.text.generate import GRULanguageModel
from socialgan.text.generate.policy_gradient import advantages, reinforce_loss

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_sequence_rewards_are_the_attacks_old_formula_to_the_bit() -> None:
    gen = torch.Generator().manual_seed(0)
    logp = -torch.rand(6, 5, generator=gen)
    kl = torch.rand(6, 5, generator=gen)
    mask = (torch.rand(6, 5, generator=gen) > 0.3).float()
    reward = torch.log(torch.rand(6, generator=gen).clamp(min=1e-6))
    loss, stats = reinforce_loss(logp, mask, reward, kl=kl, kl_coef=0.2)
    # the generator attack's update before it called reinforce_loss
    advantage = (reward - reward.mean()) / (reward.std() + 1e-6)
    pg = -(advantage[:, None] * logp * mask).sum(1).mean()
    kl_seq = (kl * mask).sum(1).mean()
    assert torch.equal(loss, pg + 0.2 * kl_seq)
    assert stats["kl"] == float(kl_seq) and stats["pg"] == float(pg)


def test_a_hand_computed_sequence_case() -> None:
    logp = torch.log(torch.full((2, 3), 0.5))
    mask = torch.tensor([[1.0, 1, 1], [1, 1, 0]])
    loss, stats = reinforce_loss(logp, mask, torch.tensor([1.0, 0.0]))
    a = 0.5 / (math.sqrt(0.5) + 1e-6)  # (r - mean) / std, std of [1, 0] = sqrt(0.5)
    expected = -(a * 3 * math.log(0.5) - a * 2 * math.log(0.5)) / 2
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    assert stats == {"reward": 0.5, "pg": pytest.approx(expected, rel=1e-6)}
    plain, _ = reinforce_loss(logp, mask.bool(), torch.tensor([1.0, 0.0]), normalize=False)
    assert float(plain) == pytest.approx(-(0.5 * 3 - 0.5 * 2) * math.log(0.5) / 2)


def test_per_token_rewards_get_a_per_position_baseline() -> None:
    reward = torch.tensor([[1.0, 3.0, 2.0], [3.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1, 1], [1, 0, 0]])
    # column means over running sequences: 2, 3 (row 0 only), 2 (row 0 only)
    adv = advantages(reward, mask, normalize=False)
    assert adv.tolist() == [[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    norm = advantages(reward, mask, normalize=True)
    std = math.sqrt(2 / 3)  # sum of squares 2 over 4 - 1 real tokens
    assert norm[0, 0].item() == pytest.approx(-1 / (std + 1e-6))
    logp = torch.full((2, 3), -1.0)
    loss, stats = reinforce_loss(logp, mask, reward, normalize=False)
    assert float(loss) == pytest.approx(-(-1 * -1.0 + 1 * -1.0) / 2)
    assert stats["reward"] == pytest.approx((1 + 3 + 2 + 3) / 4)  # over real tokens


def test_bad_shapes_raise() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        reinforce_loss(torch.zeros(2, 3), torch.ones(2, 3), torch.zeros(3))
    with pytest.raises(ValueError, match="per-token rewards"):
        reinforce_loss(torch.zeros(2, 3), torch.ones(2, 3), torch.zeros(2, 4))


def _seq_logp(lm: GRULanguageModel, seqs: torch.Tensor) -> torch.Tensor:
    logits = lm(seqs[:, :-1])
    return F.log_softmax(logits, -1).gather(-1, seqs[:, 1:, None]).squeeze(-1)


@pytest.mark.parametrize("per_token", [False, True])
def test_one_sgd_step_raises_the_log_prob_of_the_rewarded_sequence(per_token: bool) -> None:
    torch.manual_seed(0)
    lm = GRULanguageModel(12, embed_dim=8, hidden_dim=16, dropout=0.0)
    seqs = torch.tensor([[1, 5, 6, 7, 2], [1, 8, 9, 10, 2]])
    mask = torch.ones(2, 4)
    reward = torch.tensor([1.0, 0.0])
    if per_token:
        reward = reward[:, None].expand(2, 4).clone()
    before = _seq_logp(lm, seqs).sum(1).detach()
    loss, _ = reinforce_loss(_seq_logp(lm, seqs), mask, reward)
    opt = torch.optim.SGD(lm.parameters(), lr=0.1)
    loss.backward()
    opt.step()
    after = _seq_logp(lm, seqs).sum(1).detach()
    assert after[0] > before[0] and after[1] < before[1]
