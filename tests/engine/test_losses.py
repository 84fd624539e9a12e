import math

import pytest
import torch

from socialgan.engine import LOSSES, get_loss, gradient_penalty, r1_penalty


def test_standard_game_at_indifference():
    zero = torch.zeros(8)
    # D(x) = 0.5 everywhere: D loss = -2 log 0.5
    assert get_loss("minimax").d_loss(zero, zero).item() == pytest.approx(2 * math.log(2))
    assert get_loss("minimax").g_loss(zero).item() == pytest.approx(-math.log(2))
    assert get_loss("non_saturating").g_loss(zero).item() == pytest.approx(math.log(2))


def test_real_data_term_has_the_right_sign():
    # The seed design's slip used log(1 - D(x)) for real data. The standard game rewards
    # D for a high logit on real data: the loss must fall as the real logit rises.
    loss = get_loss("non_saturating")
    fake = torch.zeros(4)
    assert loss.d_loss(torch.full((4,), 5.0), fake) < loss.d_loss(torch.full((4,), -5.0), fake)


@pytest.mark.parametrize("name", list(LOSSES))
def test_losses_finite_for_extreme_logits(name):
    big = torch.tensor([1e4, -1e4, 80.0, -80.0])
    loss = get_loss(name)
    assert torch.isfinite(loss.d_loss(big, -big))
    assert torch.isfinite(loss.g_loss(big))
    assert torch.isfinite(loss.g_loss(-big))


def test_minimax_generator_saturates_non_saturating_does_not():
    fake = torch.full((4,), -10.0, requires_grad=True)  # D confidently rejects the fakes
    get_loss("minimax").g_loss(fake).backward()
    g_mm = fake.grad.abs().sum().item()
    fake.grad = None
    get_loss("non_saturating").g_loss(fake).backward()
    g_ns = fake.grad.abs().sum().item()
    assert g_mm < 1e-3 < g_ns


def test_hinge_and_wasserstein_values():
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.0])
    assert get_loss("hinge").d_loss(real, fake).item() == pytest.approx((0 + 0.5) / 2 + (0 + 1) / 2)
    assert get_loss("wasserstein").d_loss(real, fake).item() == pytest.approx(-1.0 - 1.25)
    assert get_loss("hinge").g_loss(fake).item() == pytest.approx(1.0)


def test_unknown_loss_names_the_choices():
    with pytest.raises(ValueError, match="non_saturating"):
        get_loss("lsgan")


def test_penalties_on_a_linear_critic():
    w = torch.tensor([3.0, 4.0])  # ||w|| = 5

    def critic(x):
        return x @ w

    real = torch.randn(16, 2, requires_grad=True)
    assert r1_penalty(real, critic(real)).item() == pytest.approx(25.0)
    gp = gradient_penalty(critic, torch.randn(16, 2), torch.randn(16, 2))
    assert gp.item() == pytest.approx(16.0)


def test_gradient_penalty_over_pac_groups():
    # a PacGAN critic scoring pairs of rows: its gradient per pair is w = (3, 4, 0, 12), norm
    # 13, so the grouped penalty is (13 - 1)^2; per row it would mix norms 5 and 12
    w = torch.tensor([3.0, 4.0, 0.0, 12.0])

    def critic(x):
        return x.reshape(-1, 4) @ w

    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    assert gradient_penalty(critic, real, fake, group=2).item() == pytest.approx(144.0)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx((16 + 121) / 2)
    with pytest.raises(ValueError, match="groups of 3"):
        gradient_penalty(critic, real, fake, group=3)
