"""The maximum-likelihood training loop of the text generators, with exact resume.

One epoch = the training sequences in a fresh order, cut into batches; each batch is one
Adam step on the teacher-forcing cross-entropy (padding ignored, gradients clipped to norm
1). After each epoch the validation NLL decides early stopping: the best weights are kept
and training stops after ``patience`` epochs without improvement.

Why resume is exact: the order of epoch ``e`` is drawn from ``(seed, e)`` alone, dropout
draws from torch's global generator whose state is checkpointed, and so are the weights,
Adam's moments, the best weights and the counters. A checkpoint (``checkpoints/step-N/``,
atomic, see :mod:`socialgan.engine.checkpoint`) is written after every epoch and when the
CPU budget runs out or the user interrupts (then mid-epoch, with the batch position), so a
run continued from it ends in the same bits as one that never stopped.
"""

from __future__ import annotations

import copy
import json
import math
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
from socialgan.errors import DataError
from socialgan.text.generate.corpus import nll_sum, pad_batch, teacher_forcing
from socialgan.text.generate.lm import LanguageModel
from socialgan.text.generate.tokenizer import PAD

__all__ = [
    "CHECKPOINT_VERSION",
    "RESUMABLE_KEYS",
    "MLETrainer",
    "TrainProgress",
    "check_same_settings",
    "resumable_checkpoint",
]

CHECKPOINT_VERSION = 1
#: Settings a resumed run may change: how long it trains and where (another device
#: continues the run, though not in the same bits).
RESUMABLE_KEYS = frozenset({"max_epochs", "patience", "device"})
_LOG_EVERY = 50


def resumable_checkpoint(run_dir: Path, fingerprint: str) -> Path | None:
    """The newest checkpoint of ``run_dir`` (None when there is none), after checking it
    was trained on the data of ``fingerprint``."""
    path = ckpt.latest_checkpoint(run_dir / "checkpoints")
    if path is None:
        return None
    try:
        saved = json.loads((path / ckpt.STATE_FILE).read_text()).get("fingerprint")
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(f"{path}: unreadable checkpoint ({e})") from None
    if saved != fingerprint:
        raise DataError(
            f"{path}: this run was trained on other texts or labels; resume with the same "
            "data, or start a new run_dir"
        )
    return path


def check_same_settings(
    path: Path, saved: dict[str, Any], current: dict[str, Any], resumable: frozenset[str]
) -> None:
    """``DataError`` naming every setting (other than ``resumable`` ones) that differs between
    the checkpoint at ``path`` (``saved``) and the resumed run (``current``)."""
    changed = sorted(
        k
        for k in set(saved) | set(current)
        if k not in resumable and saved.get(k) != current.get(k)
    )
    if changed:
        diffs = ", ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in changed)
        raise DataError(
            f"{path}: the run was started with other settings ({diffs}); resume with "
            f"the settings of {path.parent.parent}/config.json (only {sorted(resumable)} "
            "may change)"
        )


@dataclass
class TrainProgress:
    """Where training stands; saved in every checkpoint."""

    epoch: int = 0  # completed epochs
    batch: int = 0  # batches done in the epoch under way
    step: int = 0  # optimizer steps
    loss_sum: float = 0.0  # token-weighted train loss of the epoch under way
    tokens: int = 0
    best_nll: float | None = None
    best_epoch: int = 0
    bad_epochs: int = 0
    stopped: bool = False  # early-stopped: a resumed run trains no further
    history: list[dict[str, float]] = field(default_factory=list)

    def summary(self) -> dict[str, float | int]:
        """The metrics a model card reports: best validation NLL and perplexity, the last
        epoch's training NLL, epochs run and the best one."""
        out: dict[str, float | int] = {}
        if self.best_nll is not None:
            out |= {"val_nll": self.best_nll, "val_perplexity": math.exp(min(self.best_nll, 50))}
        if self.history:
            out["train_nll"] = self.history[-1]["loss/train"]
        return out | {"epochs": self.epoch, "best_epoch": self.best_epoch}


class MLETrainer:
    """Trains ``model`` on padded-on-the-fly id sequences.

    Args:
        model: the language model, already on ``device``.
        train_seqs / val_seqs: ``<bos> [<label>] ids [<eos>]`` sequences.
        prefix_len: given tokens at the start of each sequence (1, or 2 with a class token).
        config: the generator's resolved settings (``lr``, ``batch_size``, ``max_epochs``,
            ``patience``, ``seed``), also stored in each checkpoint.
        fingerprint: digest of the training data; resuming on other data is refused.
        run_dir: run folder (``stats.jsonl``, TensorBoard, ``checkpoints/``) or None.
        on_epoch: ``callback(step)`` after each epoch (the sample file of the run).
    """

    def __init__(
        self,
        model: LanguageModel,
        train_seqs: Sequence[Sequence[int]],
        val_seqs: Sequence[Sequence[int]],
        *,
        prefix_len: int,
        config: dict[str, Any],
        fingerprint: str,
        device: torch.device,
        run_dir: Path | None = None,
        progress: bool = True,
        cpu_seconds: float | None = None,
        on_epoch: Callable[[int], None] | None = None,
    ) -> None:
        self.model, self.train_seqs, self.val_seqs = model, list(train_seqs), list(val_seqs)
        self.prefix_len, self.config, self.fingerprint = prefix_len, config, fingerprint
        self.device, self.run_dir, self.progress = device, run_dir, progress
        self.cpu_seconds, self.on_epoch = cpu_seconds, on_epoch
        self.opt = torch.optim.Adam(model.parameters(), lr=float(config["lr"]))
        self.state = TrainProgress()
        self.best_weights: dict[str, Tensor] | None = None
        self.n_batches = -(-len(self.train_seqs) // int(config["batch_size"]))

    @property
    def checkpoint_dir(self) -> Path:
        assert self.run_dir is not None
        return self.run_dir / "checkpoints"

    # ---------------------------------------------------------------- the loop
    def _order(self, epoch: int) -> np.ndarray:
        return np.random.default_rng((int(self.config["seed"]), 11, epoch)).permutation(
            len(self.train_seqs)
        )

    def _step(self, index: np.ndarray) -> None:
        inputs, targets = teacher_forcing(
            pad_batch([self.train_seqs[i] for i in index]), self.prefix_len
        )
        inputs, targets = inputs.to(self.device), targets.to(self.device)
        logits = self.model(inputs)
        loss = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=PAD
        )
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        n_tok = int((targets != PAD).sum())
        self.state.loss_sum += float(loss.detach()) * n_tok
        self.state.tokens += n_tok
        self.state.step += 1

    def _end_epoch(self, logger: StatsLogger) -> None:
        st = self.state
        st.epoch += 1
        train_nll = st.loss_sum / max(st.tokens, 1)
        record = {"epoch": float(st.epoch), "loss/train": train_nll}
        improved = True
        if self.val_seqs:
            total, count = nll_sum(self.model, self.val_seqs, self.prefix_len, 256, self.device)
            val = total / max(count, 1)
            record |= {"val/nll": val, "val/perplexity": float(np.exp(min(val, 50.0)))}
            improved = st.best_nll is None or val < st.best_nll
            if improved:
                st.best_nll = val
        if improved:
            st.best_epoch, st.bad_epochs = st.epoch, 0
            self.best_weights = copy.deepcopy(self.model.state_dict())
        else:
            st.bad_epochs += 1
            st.stopped = st.bad_epochs >= int(self.config["patience"])
        st.history.append(record)
        st.batch, st.loss_sum, st.tokens = 0, 0.0, 0
        logger.log(st.step, record)
        if self.on_epoch is not None:
            self.on_epoch(st.step)
        if self.run_dir is not None:
            self.save_checkpoint()
        if st.stopped:
            logger.message(f"early stop after epoch {st.epoch}: best epoch {st.best_epoch}")

    def fit(self) -> TrainProgress:
        """Train until ``max_epochs``, early stopping or the CPU budget; then hold the best
        weights (the live ones when no epoch finished)."""
        st, max_epochs = self.state, int(self.config["max_epochs"])
        bs = int(self.config["batch_size"])
        logger = StatsLogger(
            self.run_dir,
            total_steps=max_epochs * self.n_batches,
            start_step=st.step,
            tensorboard=self.run_dir is not None,
            progress=self.progress,
        )
        cpu_start = time.process_time()
        self.model.train()
        try:
            while st.epoch < max_epochs and not st.stopped:
                order, out_of_budget = self._order(st.epoch), False
                while st.batch < self.n_batches and not out_of_budget:
                    self._step(order[st.batch * bs : (st.batch + 1) * bs])
                    st.batch += 1
                    logger.advance()
                    if st.step % _LOG_EVERY == 0:
                        logger.log(st.step, {"loss/train_running": st.loss_sum / st.tokens})
                    spent = time.process_time() - cpu_start
                    out_of_budget = self.cpu_seconds is not None and spent > self.cpu_seconds
                if st.batch == self.n_batches:
                    self._end_epoch(logger)  # validation, best weights, checkpoint
                elif self.run_dir is not None:
                    self.save_checkpoint()  # mid-epoch, with the batch position
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
            self.model.eval()
        if self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
        return st

    # ---------------------------------------------------------------- checkpoints
    def save_checkpoint(self) -> Path:
        """Write ``checkpoints/step-NNNNNNN`` (weights, Adam, RNG, best weights, counters)."""
        opt_tensors, opt_meta = ckpt.optimizer_to_flat(self.opt, "opt")
        tensors = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        tensors |= opt_tensors
        if self.best_weights is not None:
            tensors |= {f"best.{k}": v for k, v in self.best_weights.items()}
        tensors["rng.torch"] = torch.get_rng_state()
        if self.device.type == "cuda":
            tensors["rng.cuda"] = torch.cuda.get_rng_state(self.device)
        state = {
            "version": CHECKPOINT_VERSION,
            "progress": asdict(self.state),
            "config": self.config,
            "fingerprint": self.fingerprint,
            "opt": opt_meta,
        }
        name = f"step-{self.state.step:07d}"
        path = ckpt.write_checkpoint(self.checkpoint_dir, name, tensors, state)
        ckpt.prune_checkpoints(self.checkpoint_dir, keep_last=2, protect=set())
        return path

    def resume(self) -> bool:
        """Continue from the newest checkpoint of ``run_dir``; False when there is none.
        A checkpoint of other data or other model settings is a ``DataError``."""
        path = resumable_checkpoint(self.run_dir, self.fingerprint) if self.run_dir else None
        if path is None:
            return False
        tensors, state = ckpt.read_checkpoint(path)
        check_same_settings(path, state.get("config", {}), self.config, RESUMABLE_KEYS)

        def part(prefix: str) -> dict[str, Tensor]:
            return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}

        self.model.load_state_dict(part("model."))
        best = part("best.")
        self.best_weights = {k: v.to(self.device) for k, v in best.items()} or None
        ckpt.optimizer_from_flat(self.opt, "opt", tensors, state["opt"])
        torch.set_rng_state(tensors["rng.torch"])
        if "rng.cuda" in tensors and self.device.type == "cuda":
            torch.cuda.set_rng_state(tensors["rng.cuda"], self.device)
        self.state = TrainProgress(**state["progress"])
        return True
