"""The adversarial phase of SeqGAN (Yu et al. 2017), with exact resume.

After maximum-likelihood pretraining of the generator G (:mod:`.mle_train`), one counter
``step`` runs through two stages:

1. **D pretraining**: ``d_pretrain_epochs`` passes over the real training texts in batches
   of ``batch_size``; each batch is one Adam step of the discriminator D on those real
   texts against as many texts freshly sampled from G (binary cross-entropy, real = 1).
2. **Adversarial rounds** (``adversarial_steps`` of them), each:

   * G samples ``adv_batch_size`` texts; every token gets a reward by Monte-Carlo search:
     the prefix up to it is completed ``rollouts`` times by the *rollout policy* and the
     reward is D's mean probability "real" of the completions; the last token's reward is
     D on the text itself. REINFORCE with per-position baselines
     (:func:`~socialgan.text.generate.policy_gradient.reinforce_loss`) updates G.
   * every ``mle_every`` rounds (0: never) one teacher-forcing step on real texts: common
     practice since SeqGAN, it keeps G from collapsing onto the few texts D likes.
   * the rollout policy, a delayed copy of G, moves towards it:
     ``theta_roll <- rollout_update * theta_roll + (1 - rollout_update) * theta_G``
     (SeqGAN's ``update_rate``), which keeps the rewards from chasing G's every step.
   * ``d_steps`` D updates, each on fresh samples against a random real batch.

Why resume is exact: every step draws from generators seeded by ``(seed, step)`` alone
(sampling, batch choice, dropout), so a checkpoint only holds the weights of G, its rollout
copy and D, both Adam states and the counter; a run continued from it takes the same steps
in the same bits. Checkpoints (``checkpoints/step-N/``, atomic) are written every
``checkpoint_every`` steps, at the end of D pretraining, at the end, when the CPU budget
runs out and on Ctrl-C.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from socialgan.engine import checkpoint as ckpt
from socialgan.engine.stats import StatsLogger
from socialgan.text.generate.corpus import pad_batch, teacher_forcing
from socialgan.text.generate.lm import LanguageModel
from socialgan.text.generate.mle_train import check_same_settings, resumable_checkpoint
from socialgan.text.generate.policy_gradient import reinforce_loss
from socialgan.text.generate.sampling import nucleus_probs
from socialgan.text.generate.seqgan_nets import CNNDiscriminator
from socialgan.text.generate.tokenizer import EOS, PAD

__all__ = ["GAN_RESUMABLE_KEYS", "GANProgress", "SeqGANTrainer", "gan_checkpoint"]

CHECKPOINT_VERSION = 1
#: Settings a resumed adversarial phase may change: how long it runs, and where.
GAN_RESUMABLE_KEYS = frozenset({"adversarial_steps", "device"})
Seqs = list[list[int]]


def gan_checkpoint(run_dir: Path, fingerprint: str, config: dict[str, Any]) -> Path | None:
    """The newest adversarial checkpoint of ``run_dir`` (None if none), after checking it
    holds a run on the same data with the same settings (``DataError`` otherwise)."""
    path = resumable_checkpoint(run_dir, fingerprint)
    if path is not None:
        _, state = ckpt.read_checkpoint(path)
        check_same_settings(path, state.get("config", {}), config, GAN_RESUMABLE_KEYS)
    return path


@dataclass
class GANProgress:
    """Where the adversarial phase stands; saved in every checkpoint."""

    step: int = 0  # D-pretraining batches, then adversarial rounds, done
    history: list[dict[str, float]] = field(default_factory=list)

    def summary(self, d_total: int) -> dict[str, float | int]:
        """Rounds run, and G's reward and D's loss averaged over the last ten rounds."""
        rounds = [h for h in self.history if "g/reward" in h][-10:]
        out: dict[str, float | int] = {"adversarial_rounds": max(self.step - d_total, 0)}
        if rounds:
            out["gan_reward"] = float(np.mean([h["g/reward"] for h in rounds]))
            out["gan_d_loss"] = float(np.mean([h["d/loss"] for h in rounds if "d/loss" in h]))
        return out


class SeqGANTrainer:
    """Runs D pretraining and the adversarial rounds on G (see the module docstring).

    Args:
        generator: G, MLE-pretrained, on ``device``; trained in place.
        discriminator: D, on ``device``.
        real_seqs: the training ``<bos> [<label>] ids [<eos>]`` sequences.
        prefix_len: given tokens of each sequence (1, or 2 with a class token).
        draw_prefix: ``(n, generator) -> (n, prefix_len)`` sampling prefixes (the classes of
            a conditional model drawn from the training frequencies).
        banned: ids never sampled.
        config: every setting of the generator (stored in and checked against checkpoints).
        fingerprint: digest of the training data.
        on_checkpoint: ``callback(step)`` at each checkpoint (the run's sample file).
    """

    def __init__(
        self,
        generator: LanguageModel,
        discriminator: CNNDiscriminator,
        real_seqs: Sequence[Sequence[int]],
        *,
        prefix_len: int,
        draw_prefix: Callable[[int, torch.Generator], Tensor],
        banned: Sequence[int],
        config: dict[str, Any],
        fingerprint: str,
        device: torch.device,
        run_dir: Path | None = None,
        checkpoint_every: int = 50,
        progress: bool = True,
        cpu_seconds: float | None = None,
        on_checkpoint: Callable[[int], None] | None = None,
    ) -> None:
        self.g, self.d, self.real = generator, discriminator, [list(s) for s in real_seqs]
        self.rollout = copy.deepcopy(generator).eval().requires_grad_(False)
        self.prefix_len, self.draw_prefix, self.banned = prefix_len, draw_prefix, list(banned)
        self.config, self.fingerprint, self.device = config, fingerprint, device
        self.run_dir, self.checkpoint_every, self.progress = run_dir, checkpoint_every, progress
        self.cpu_seconds, self.on_checkpoint = cpu_seconds, on_checkpoint
        self.opt_g = torch.optim.Adam(generator.parameters(), lr=float(config["adv_lr"]))
        self.opt_d = torch.optim.Adam(discriminator.parameters(), lr=float(config["d_lr"]))
        self.block = torch.zeros(generator.vocab_size, dtype=torch.bool, device=device)
        self.block[self.banned] = True
        self.state = GANProgress()
        self.n_batches = -(-len(self.real) // int(config["batch_size"]))
        self.d_total = int(config["d_pretrain_epochs"]) * self.n_batches

    # ---------------------------------------------------------------- sampling, scoring
    @torch.no_grad()
    def _draw(
        self, net: LanguageModel, heads: Tensor, limit: int, repeat: int, gen: torch.Generator
    ) -> Seqs:
        """``repeat`` continuations of each row of ``heads`` by ``net``, row after row, each at
        most ``limit`` tokens (``<eos>`` kept when drawn; banned ids never drawn).

        Unlike :func:`~socialgan.text.generate.sampling.sample`, built for rollouts: a prefix
        is read once however many times it is continued, finished rows leave the batch (a
        round costs the tokens actually drawn, not ``limit`` steps per row), and a token
        takes one uniform draw (inverse CDF) instead of ``torch.multinomial``'s one per id.
        """
        was_training, dev = net.training, self.device
        net.eval()
        index = torch.arange(len(heads)).repeat_interleave(repeat)
        logits, state = net.start(heads.to(dev))
        logits, state = logits[index.to(dev)], net.select_state(state, index.to(dev))
        rows = heads.tolist()
        out = [list(rows[i]) for i in index.tolist()]
        live = list(range(len(out)))  # the rows of ``out`` still drawing
        block = self.block.cpu()
        for t in range(limit):
            cdf = nucleus_probs(logits.float().cpu().masked_fill(block, float("-inf"))).cumsum(-1)
            # the first id whose CDF reaches u in (0, total]: never one of probability 0
            u = (1 - torch.rand(len(live), 1, generator=gen)) * cdf[:, -1:]
            tok = torch.searchsorted(cdf, u).squeeze(1)
            for i, k in zip(live, tok.tolist(), strict=True):
                out[i].append(k)
            keep = torch.nonzero(tok != EOS).squeeze(1)
            if t == limit - 1 or not len(keep):
                break
            live = [live[k] for k in keep.tolist()]
            state = net.select_state(state, keep.to(dev))
            logits, state = net.step(tok[keep].to(dev), state)
        net.train(was_training)
        return out

    def _fake(self, n: int, gen: torch.Generator) -> Seqs:
        """``n`` texts from G, classes drawn as in :meth:`MLETextGenerator.sample`."""
        return self._draw(self.g, self.draw_prefix(n, gen), int(self.config["max_tokens"]), 1, gen)

    def _d_input(self, seqs: Seqs) -> Tensor:
        """D reads a sequence without its ``<bos>``: the class token, if any, comes first."""
        return pad_batch([s[1:] for s in seqs]).to(self.device)

    @torch.no_grad()
    def _score(self, seqs: Seqs) -> Tensor:
        """D's probability "real" of each sequence, on the CPU."""
        self.d.eval()
        return torch.sigmoid(self.d(self._d_input(seqs))).float().cpu()

    def rewards(self, seqs: Seqs, gen: torch.Generator) -> Tensor:
        """``(B, T)`` Monte-Carlo rewards of the predicted tokens of ``seqs`` (0 on padding):
        rollouts from each proper prefix, D itself on the finished text."""
        p, r, max_tokens = self.prefix_len, int(self.config["rollouts"]), self.config["max_tokens"]
        lengths = [len(s) - p for s in seqs]
        out = torch.zeros(len(seqs), max(lengths))
        for t in range(1, max(lengths)):
            alive = [i for i, n in enumerate(lengths) if n > t]
            heads = torch.tensor([seqs[i][: p + t] for i in alive])
            done = self._draw(self.rollout, heads, int(max_tokens) - t, r, gen)
            out[alive, t - 1] = self._score(done).view(len(alive), r).mean(1)
        out[torch.arange(len(seqs)), torch.tensor(lengths) - 1] = self._score(seqs)
        return out

    # ---------------------------------------------------------------- the steps
    def _d_step(self, real: Seqs, gen: torch.Generator) -> dict[str, float]:
        fake = self._fake(len(real), gen)
        self.d.train()
        logits = self.d(self._d_input(real + fake))
        target = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))]).to(logits)
        loss = F.binary_cross_entropy_with_logits(logits, target)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        accuracy = float(((logits.detach() > 0).float() == target).float().mean())
        return {"d/loss": float(loss.detach()), "d/accuracy": accuracy}

    def _g_step(self, gen: torch.Generator) -> dict[str, float]:
        seqs = self._fake(int(self.config["adv_batch_size"]), gen)
        reward = self.rewards(seqs, gen).to(self.device)
        p = self.prefix_len
        inputs, targets = teacher_forcing(pad_batch(seqs).to(self.device), p)
        targets = targets[:, p - 1 :]
        self.g.eval()  # log-probs of the very distribution the batch was drawn from
        logits = self.g(inputs)[:, p - 1 :].float().masked_fill(self.block, float("-inf"))
        logp = F.log_softmax(logits, -1).gather(-1, targets[..., None]).squeeze(-1)
        mask = targets != PAD
        loss, stats = reinforce_loss(logp.masked_fill(~mask, 0.0), mask, reward)
        self._g_update(loss)
        return {
            "g/reward": stats["reward"],
            "g/pg": stats["pg"],
            "g/length": float(mask.sum(1).float().mean()),
        }

    def _mle_step(self, real: Seqs) -> dict[str, float]:
        inputs, targets = teacher_forcing(pad_batch(real).to(self.device), self.prefix_len)
        self.g.train()
        logits = self.g(inputs)
        loss = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=PAD
        )
        self._g_update(loss)
        return {"g/mle_loss": float(loss.detach())}

    def _g_update(self, loss: Tensor) -> None:
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.g.parameters(), 1.0)
        self.opt_g.step()

    @torch.no_grad()
    def _update_rollout(self) -> None:
        rate = float(self.config["rollout_update"])
        for mine, theirs in zip(self.rollout.parameters(), self.g.parameters(), strict=True):
            mine.mul_(rate).add_(theirs, alpha=1 - rate)

    def _real_batch(self, rng: np.random.Generator) -> Seqs:
        """``batch_size`` real sequences drawn without replacement."""
        n = min(int(self.config["batch_size"]), len(self.real))
        return [self.real[i] for i in rng.choice(len(self.real), n, replace=False)]

    def _take(self, step: int) -> dict[str, float]:
        """Step ``step``: a D-pretraining batch or one adversarial round."""
        seed = int(
            np.random.SeedSequence((int(self.config["seed"]), 23, step)).generate_state(1)[0]
        )
        torch.manual_seed(seed)  # dropout
        gen = torch.Generator().manual_seed(seed)
        rng = np.random.default_rng(seed)
        bs = int(self.config["batch_size"])
        if step < self.d_total:
            epoch, batch = divmod(step, self.n_batches)
            order = np.random.default_rng((int(self.config["seed"]), 17, epoch))
            index = order.permutation(len(self.real))[batch * bs : (batch + 1) * bs]
            return {"d/pretrain_loss": self._d_step([self.real[i] for i in index], gen)["d/loss"]}
        round_no, every = step - self.d_total + 1, int(self.config["mle_every"])
        record = {"round": float(round_no), **self._g_step(gen)}
        if every and round_no % every == 0:
            record |= self._mle_step(self._real_batch(rng))
        self._update_rollout()
        for _ in range(int(self.config["d_steps"])):  # the record keeps the last D update's
            record |= self._d_step(self._real_batch(rng), gen)
        return record

    # ---------------------------------------------------------------- the loop
    def fit(self) -> GANProgress:
        """Run until ``adversarial_steps`` rounds are done or the CPU budget is spent."""
        st = self.state
        total = self.d_total + int(self.config["adversarial_steps"])
        logger = StatsLogger(
            self.run_dir,
            total_steps=total,
            start_step=st.step,
            tensorboard=self.run_dir is not None,
            progress=self.progress,
        )
        cpu_start = time.process_time()
        try:
            while st.step < total:
                record = self._take(st.step)
                st.step += 1
                st.history.append(record)
                logger.advance()
                logger.log(st.step, record)
                spent = time.process_time() - cpu_start
                out_of_budget = self.cpu_seconds is not None and spent > self.cpu_seconds
                due = st.step % self.checkpoint_every == 0 or st.step in (self.d_total, total)
                if self.run_dir is not None and (due or out_of_budget):
                    self.save_checkpoint()
                if out_of_budget:
                    logger.message(f"CPU budget of {self.cpu_seconds:g}s spent at step {st.step}")
                    break
        except KeyboardInterrupt:
            if self.run_dir is not None and st.step > 0:
                path = self.save_checkpoint()
                logger.message(f"interrupted: checkpoint {path}; fit(..., resume=True) goes on")
            raise
        finally:
            logger.close()
            self.g.eval()
            self.d.eval()
        return st

    # ---------------------------------------------------------------- checkpoints
    def save_checkpoint(self) -> Path:
        """Write ``checkpoints/step-NNNNNNN`` (G, rollout, D, both Adams, counters)."""
        assert self.run_dir is not None
        tensors: dict[str, Tensor] = {}
        for prefix, net in (("g.", self.g), ("rollout.", self.rollout), ("d.", self.d)):
            tensors |= {prefix + k: v for k, v in net.state_dict().items()}
        opt_g, meta_g = ckpt.optimizer_to_flat(self.opt_g, "opt_g")
        opt_d, meta_d = ckpt.optimizer_to_flat(self.opt_d, "opt_d")
        state = {
            "version": CHECKPOINT_VERSION,
            "progress": asdict(self.state),
            "config": self.config,
            "fingerprint": self.fingerprint,
            "opt_g": meta_g,
            "opt_d": meta_d,
        }
        directory = self.run_dir / "checkpoints"
        path = ckpt.write_checkpoint(
            directory, f"step-{self.state.step:07d}", tensors | opt_g | opt_d, state
        )
        ckpt.prune_checkpoints(directory, keep_last=2, protect=set())
        if self.on_checkpoint is not None:
            self.on_checkpoint(self.state.step)
        return path

    def resume(self, path: Path) -> None:
        """Continue from the checkpoint at ``path`` (checked by :func:`gan_checkpoint`)."""
        tensors, state = ckpt.read_checkpoint(path)
        for prefix, net in (("g.", self.g), ("rollout.", self.rollout), ("d.", self.d)):
            net.load_state_dict(
                {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            )
        ckpt.optimizer_from_flat(self.opt_g, "opt_g", tensors, state["opt_g"])
        ckpt.optimizer_from_flat(self.opt_d, "opt_d", tensors, state["opt_d"])
        self.state = GANProgress(**state["progress"])
