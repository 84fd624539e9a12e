"""REINFORCE for text generators: the one policy-gradient loss of the package.

Both users of a policy gradient on sampled texts call :func:`reinforce_loss`: the generator
attack (:class:`~socialgan.text.attack.generator_attack.GeneratorAttack`, one reward per
message from a frozen detector) and SeqGAN
(:class:`~socialgan.text.generate.seqgan.SeqGANTextGenerator`, one Monte-Carlo reward per
token from its discriminator).

The loss is ``-sum_t A_t * log pi(y_t | y_<t)`` over the real tokens of each sequence,
averaged over the batch, where ``A`` is the reward minus a baseline (variance reduction; the
gradient stays unbiased because the baseline does not depend on the sampled token):

* **sequence-level** rewards ``(B,)``: the baseline is the batch mean; with ``normalize``
  the advantage is also divided by the batch standard deviation (+1e-6). Every token of a
  sequence gets its sequence's advantage. This is the generator attack's update, to the bit.
* **per-token** rewards ``(B, T)`` (SeqGAN's rollout estimate of the expected final reward
  of each prefix): the baseline of position ``t`` is the mean reward of the sequences still
  running at ``t`` (the real tokens of that column). A per-position baseline, because the
  rollout rewards of early and late positions have different scales (an early prefix's
  reward averages over many completions, the last token's is the discriminator's own
  score), so one batch-wide mean would leave a position-dependent bias in every advantage.
  With ``normalize`` the advantages are divided by their standard deviation over all real
  tokens (+1e-6). A column with a single running sequence gets advantage 0: with one sample
  there is nothing to compare it to.

``kl`` (per-token divergence from a reference model, ``(B, T)``) adds
``kl_coef * mean_b sum_t kl`` to the loss, the attack's leash towards its pretrained LM.

Example:
    >>> import torch
    >>> from socialgan.text.generate.policy_gradient import reinforce_loss
    >>> logp = torch.log(torch.full((2, 3), 0.5))
    >>> mask = torch.tensor([[1.0, 1, 1], [1, 1, 0]])
    >>> loss, stats = reinforce_loss(logp, mask, torch.tensor([1.0, 0.0]))
    >>> round(float(loss), 4), stats["reward"]
    (0.2451, 0.5)
"""

from __future__ import annotations

from torch import Tensor

__all__ = ["advantages", "reinforce_loss"]

_EPS = 1e-6


def advantages(reward: Tensor, mask: Tensor, *, normalize: bool = True) -> Tensor:
    """The advantage of each sequence ``(B,)`` or of each token ``(B, T)`` (see the module
    docstring for the baselines); ``(B, T)`` advantages are 0 on padding."""
    if reward.dim() == 1:
        advantage = reward - reward.mean()
        if normalize:
            advantage = advantage / (reward.std() + _EPS)
        return advantage
    if reward.shape != mask.shape:
        raise ValueError(f"per-token rewards {tuple(reward.shape)} != mask {tuple(mask.shape)}")
    running = mask.sum(0)
    baseline = (reward * mask).sum(0) / running.clamp(min=1)
    advantage = (reward - baseline) * mask
    if normalize:
        n = mask.sum()
        std = ((advantage**2).sum() / (n - 1).clamp(min=1)).sqrt()
        advantage = advantage / (std + _EPS)
    return advantage


def reinforce_loss(
    logp: Tensor,
    mask: Tensor,
    reward: Tensor,
    *,
    normalize: bool = True,
    kl: Tensor | None = None,
    kl_coef: float = 0.0,
) -> tuple[Tensor, dict[str, float]]:
    """The REINFORCE loss of a batch of sampled sequences, and its summary numbers.

    Args:
        logp: ``(B, T)`` log-probability of each sampled token under the policy, with
            gradient; it must be finite on padding too (0 there is customary).
        mask: ``(B, T)``, 1 on real tokens and 0 on padding (bool or float).
        reward: ``(B,)`` one reward per sequence, or ``(B, T)`` one per token; no gradient
            flows through it.
        normalize: divide the advantages by their standard deviation.
        kl: optional ``(B, T)`` per-token divergence from a reference model (with gradient).
        kl_coef: weight of ``kl`` in the loss.

    Returns:
        ``(loss, stats)``: the scalar loss to minimise, and floats ``reward`` (mean reward
        over sequences, or over real tokens), ``pg`` (the policy-gradient term) and, when
        ``kl`` is given, ``kl`` (mean per-sequence summed divergence).
    """
    if reward.dim() not in (1, 2) or reward.shape[0] != logp.shape[0]:
        raise ValueError(f"rewards {tuple(reward.shape)} do not fit log-probs {tuple(logp.shape)}")
    mask = mask.to(logp.dtype)
    reward = reward.detach().to(logp.dtype)
    advantage = advantages(reward, mask, normalize=normalize)
    if advantage.dim() == 1:
        pg = -(advantage[:, None] * logp * mask).sum(1).mean()
        mean_reward = float(reward.mean())
    else:
        pg = -(advantage * logp * mask).sum(1).mean()
        mean_reward = float((reward * mask).sum() / mask.sum().clamp(min=1))
    stats = {"reward": mean_reward, "pg": float(pg.detach())}
    loss = pg
    if kl is not None:
        kl_seq = (kl * mask).sum(1).mean()
        loss = pg + kl_coef * kl_seq
        stats["kl"] = float(kl_seq.detach())
    return loss, stats
