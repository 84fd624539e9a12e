"""The training loop of the generator-versus-discriminator game, for any modality.

Each step runs the phases of the game in a fixed order:

1. ``n_critic`` times **D main** (+ gradient penalty for WGAN-GP, + lazy **D reg** R1
   every ``r1_every`` D steps): real batch vs. a detached fake batch.
2. **G main**: D frozen, the generator's objective. With ``n_critic=1`` and
   ``reuse_fake`` (default) the D step's fake batch is generated with gradients and reused
   here, as in the PyTorch DCGAN example, which saves one generator forward per step;
   otherwise fresh latents are drawn.
3. EMA update of the generator.

Every loss and gradient norm is checked before an optimizer step: a non-finite value
rolls the nets and optimizers back to the last good in-memory snapshot, and training
stops with :class:`~socialgan.errors.TrainingError` after ``max_nonfinite`` such events.
A checkpoint is never written from a non-finite state.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from ..errors import TrainingError
from . import checkpoint as ckpt
from .augment import Augment
from .config import TrainConfig
from .ema import EMA
from .losses import get_loss, gradient_penalty, r1_penalty
from .stats import StatsLogger
from .utils import autocast_context, select_device

CHECKPOINT_VERSION = 1


class BatchSource(Protocol):
    """Anything that returns batch number ``i`` deterministically (see ``TensorBatches``)."""

    def batch(self, index: int) -> tuple[Tensor, Tensor | None]: ...


def _make_adam(params: Any, lr: float, betas: tuple[float, float], device: torch.device):
    kwargs: dict[str, Any] = {"lr": lr, "betas": tuple(betas)}
    if device.type in ("cpu", "cuda"):
        kwargs["fused"] = True  # one kernel for all parameters: faster on small nets
    return torch.optim.Adam(params, **kwargs)


def _grad_norm(params: list[nn.Parameter], clip: float | None) -> Tensor:
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(())
    if clip is not None:
        return torch.nn.utils.clip_grad_norm_(params, clip, foreach=True)
    return torch.nn.utils.get_total_norm(grads, foreach=True)


def _mixes_samples(module: nn.Module) -> bool:
    """True if a layer's output for one sample depends on the rest of the batch."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


def _has_conv(*modules: nn.Module) -> bool:
    return any(
        isinstance(m, nn.Conv2d | nn.ConvTranspose2d) for mod in modules for m in mod.modules()
    )


class Trainer:
    """Runs the adversarial game between ``generator`` and ``discriminator``.

    Args:
        generator: module with ``z_dim``, ``num_classes`` and ``forward(z, y=None)``.
        discriminator: module with ``forward(x, y=None) -> logits (N,)``, or ``(N / pac,)``
            for a PacGAN critic with a ``pac`` attribute (the gradient penalty then works
            on groups of ``pac`` samples).
        data: a :class:`BatchSource` yielding real batches already in G's output range.
        config: the run's :class:`TrainConfig`.
        run_dir: folder for ``stats.jsonl``, TensorBoard events and ``checkpoints/``;
            None keeps everything in memory.
        model_config: JSON-able description of the nets, stored in every checkpoint.
        on_sample: ``callback(trainer, step)`` run every ``sample_every`` steps.
        evaluate: ``callback(trainer) -> dict`` run every ``eval_every`` steps; its
            ``metric`` entry decides which checkpoint is "best".
        progress: None = bar on a terminal, plain lines otherwise; False = quiet.
        g_regularizer: ``callback(fake, labels) -> scalar`` added to the generator's loss
            (logged as ``g_reg``), e.g. a spectral regularizer or the score of a frozen
            detector the generator should evade. ``fake`` is what G outputs, with gradients.
        on_step: ``callback(trainer)`` run before each step of the game, with
            ``trainer.step`` the number of steps done so far: the place for a schedule
            that depends on the step, such as the Gumbel-softmax temperature of a text GAN
            (``G.beta = f(trainer.step)``). A pure function of the step keeps resume exact,
            since the step is restored from the checkpoint and nothing else is needed.

    Example:
        >>> trainer = Trainer(G, D, TensorBatches(x, batch_size=64), TrainConfig(steps=100))
        >>> trainer.fit()  # doctest: +SKIP
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        data: BatchSource,
        config: TrainConfig,
        run_dir: str | Path | None = None,
        *,
        model_config: dict[str, Any] | None = None,
        on_sample: Callable[[Trainer, int], None] | None = None,
        sample_every: int = 0,
        evaluate: Callable[[Trainer], dict[str, float]] | None = None,
        eval_every: int = 0,
        metric: str = "",
        metric_mode: str = "min",
        progress: bool | None = None,
        g_regularizer: Callable[[Tensor, Tensor | None], Tensor] | None = None,
        on_step: Callable[[Trainer], None] | None = None,
    ) -> None:
        self.config = config
        self.g_regularizer = g_regularizer
        self.on_step = on_step
        self.device = select_device(config.device)
        self.G = generator.to(self.device)
        self.D = discriminator.to(self.device)
        self.data = data
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.model_config = model_config or {}
        self.loss = get_loss(config.loss)
        if config.n_critic < 1:
            raise ValueError("n_critic must be >= 1")
        self.opt_g = _make_adam(self.G.parameters(), config.lr_g, config.betas_g, self.device)
        self.opt_d = _make_adam(self.D.parameters(), config.lr_d, config.betas_d, self.device)
        self.ema = EMA(self.G, config.ema_decay, warmup=config.ema_warmup)
        self._g_params = list(self.G.parameters())
        self._d_params = list(self.D.parameters())
        fp16 = config.precision == "fp16" and self.device.type == "cuda"
        self.scaler_d = torch.amp.GradScaler("cuda", enabled=fp16)
        self.scaler_g = torch.amp.GradScaler("cuda", enabled=fp16)
        self.rng = torch.Generator(device=self.device).manual_seed(config.seed + 1)
        self.step = 0
        self.d_steps = 0
        self.best: dict[str, Any] | None = None
        self.nonfinite_events = 0
        self.history: list[dict[str, float]] = []
        self.on_sample, self.sample_every = on_sample, sample_every
        self.evaluate, self.eval_every = evaluate, eval_every
        self.metric, self.metric_mode = metric, metric_mode
        self.progress = progress
        self._snapshot: dict[str, Any] | None = None
        self._reuse: tuple[Tensor, Tensor | None] | None = None
        # Real and fake batches share one D forward when no layer of D mixes samples
        # (batch norm does: its statistics would then pool real and fake).
        self._fuse_d = config.fuse_d_batches and not _mixes_samples(self.D)
        self._pac = int(getattr(self.D, "pac", 1) or 1)  # samples D scores as one (PacGAN)
        self._channels_last = config.channels_last and _has_conv(self.G, self.D)
        if self._channels_last:
            for module in (self.G, self.D, self.ema.shadow):
                module.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.augment = Augment(
            config.augment,
            p=0.0 if config.ada_target is not None else config.augment_p,
            target=config.ada_target,
            speed_images=config.ada_speed_images,
        )
        self._take_snapshot()

    def _aug(self, x: Tensor) -> Tensor:
        return self.augment(x, self.rng) if self.augment.enabled else x

    # ----------------------------------------------------------------- sampling
    def sample_latent(self, n: int) -> tuple[Tensor, Tensor | None]:
        """Draw ``n`` latents, and class labels for a conditional G: uniform, or from the
        data's own distribution when the batch source has ``sample_labels(n, generator)``
        (CTGAN's conditional vectors, say)."""
        z_dim = int(self.G.z_dim)  # type: ignore[arg-type]
        z = torch.randn(n, z_dim, device=self.device, generator=self.rng)
        k = int(getattr(self.G, "num_classes", 0) or 0)
        if not k:
            return z, None
        draw = getattr(self.data, "sample_labels", None)
        if draw is not None:
            return z, draw(n, self.rng).to(self.device)
        return z, torch.randint(0, k, (n,), device=self.device, generator=self.rng)

    # ------------------------------------------------------------------ phases
    def _check(self, what: str, loss: Tensor, gnorm: Tensor, fp16: bool) -> bool:
        finite = bool(torch.isfinite(loss)) and (fp16 or bool(torch.isfinite(gnorm)))
        if not finite:
            self._rollback(what, float(loss), float(gnorm))
        return finite

    def d_step(self) -> dict[str, Tensor] | None:
        """One discriminator update; returns its scalars or None after a rollback."""
        cfg = self.config
        real, y = self.data.batch(self.d_steps)
        real = real.to(self.device, non_blocking=True)
        if self._channels_last and real.dim() == 4:
            real = real.contiguous(memory_format=torch.channels_last)
        y = None if y is None else y.to(self.device, non_blocking=True)
        if y is None and int(getattr(self.G, "num_classes", 0) or 0):
            raise TrainingError("the generator is class-conditional but the data have no labels")
        z, _ = self.sample_latent(real.shape[0])
        do_r1 = cfg.r1_gamma > 0 and self.d_steps % cfg.r1_every == 0
        reuse = cfg.reuse_fake and cfg.n_critic == 1
        with autocast_context(self.device, cfg.precision):
            with torch.set_grad_enabled(reuse):
                fake_g = self.G(z, y)
            self._reuse = (fake_g, y) if reuse else None
            fake = fake_g.detach()
            if do_r1:
                real = real.detach().requires_grad_(True)
            if self._fuse_d:  # one D pass over [real; fake]: bigger, faster matmuls
                yy = None if y is None else torch.cat([y, y])
                both = self._aug(torch.cat([real, fake]))
                real_logits, fake_logits = self.D(both, yy).chunk(2)  # PacGAN: n / pac each
            else:
                real_logits = self.D(self._aug(real), y)
                fake_logits = self.D(self._aug(fake), y)
            loss = self.loss.d_loss(real_logits.float(), fake_logits.float())
            out = {"loss_d": loss.detach()}
            if self.loss.needs_gradient_penalty:
                gp = gradient_penalty(lambda x: self.D(x, y), real, fake, self.rng, group=self._pac)
                loss = loss + cfg.gp_lambda * gp
                out["gp"] = gp.detach()
            if do_r1:
                r1 = r1_penalty(real, real_logits)
                loss = loss + (cfg.r1_gamma / 2) * r1 * cfg.r1_every
                out["r1"] = r1.detach()
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler_d.scale(loss).backward()
        self.scaler_d.unscale_(self.opt_d)
        gnorm = _grad_norm(self._d_params, cfg.grad_clip)
        self.d_steps += 1
        if not self._check("discriminator", loss.detach(), gnorm, self.scaler_d.is_enabled()):
            return None
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()
        self.augment.observe(real_logits)
        if self.augment.target is not None:
            out["augment_p"] = torch.tensor(self.augment.p)
        out["d_real"] = real_logits.detach().float().mean()
        out["d_fake"] = fake_logits.detach().float().mean()
        out["grad_norm_d"] = gnorm.detach()
        return out

    def g_step(self) -> dict[str, Tensor] | None:
        """One generator update (D frozen), then the EMA update."""
        cfg = self.config
        if self._reuse is not None:  # the D step's fake batch, still attached to G's graph
            fake, y = self._reuse
            self._reuse = None
        else:
            z, y = self.sample_latent(self.data_batch_size)
            with autocast_context(self.device, cfg.precision):
                fake = self.G(z, y)
        self.D.requires_grad_(False)
        try:
            with autocast_context(self.device, cfg.precision):
                loss = self.loss.g_loss(self.D(self._aug(fake), y).float())
                reg = None
                if self.g_regularizer is not None:
                    reg = self.g_regularizer(fake, y).float()
                    loss = loss + reg
            self.opt_g.zero_grad(set_to_none=True)
            self.scaler_g.scale(loss).backward()
        finally:
            self.D.requires_grad_(True)
        self.scaler_g.unscale_(self.opt_g)
        gnorm = _grad_norm(self._g_params, cfg.grad_clip)
        if not self._check("generator", loss.detach(), gnorm, self.scaler_g.is_enabled()):
            return None
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        self.ema.update(self.step)
        out = {"loss_g": loss.detach(), "grad_norm_g": gnorm.detach()}
        if reg is not None:
            out["g_reg"] = reg.detach()
        return out

    @property
    def data_batch_size(self) -> int:
        return int(getattr(self.data, "batch_size", 64))

    def train_step(self) -> dict[str, Tensor] | None:
        """One step of the game: ``n_critic`` D updates then one G update."""
        out: dict[str, Tensor] = {}
        for _ in range(self.config.n_critic):
            d = self.d_step()
            if d is None:
                return None
            out.update(d)
        g = self.g_step()
        if g is None:
            return None
        out.update(g)
        return out

    # --------------------------------------------------------------- NaN guard
    def _take_snapshot(self) -> None:
        self._snapshot = {
            "G": copy.deepcopy(self.G.state_dict()),
            "D": copy.deepcopy(self.D.state_dict()),
            "ema": copy.deepcopy(self.ema.shadow.state_dict()),
            "opt_g": copy.deepcopy(self.opt_g.state_dict()),
            "opt_d": copy.deepcopy(self.opt_d.state_dict()),
            "step": self.step,
        }

    def _rollback(self, what: str, loss: float, gnorm: float) -> None:
        self.nonfinite_events += 1
        self._reuse = None
        self.opt_g.zero_grad(set_to_none=True)
        self.opt_d.zero_grad(set_to_none=True)
        if self.nonfinite_events > self.config.max_nonfinite:
            raise TrainingError(
                f"non-finite {what} loss/gradient at step {self.step} (loss={loss}, "
                f"grad norm={gnorm}); rolled back {self.nonfinite_events - 1} time(s) "
                "already, stopping. Try a lower learning rate, grad_clip, or precision=fp32. "
                "No checkpoint was written from the bad state."
            )
        snap = self._snapshot
        assert snap is not None
        self.G.load_state_dict(snap["G"])
        self.D.load_state_dict(snap["D"])
        self.ema.shadow.load_state_dict(snap["ema"])
        self.opt_g.load_state_dict(copy.deepcopy(snap["opt_g"]))
        self.opt_d.load_state_dict(copy.deepcopy(snap["opt_d"]))
        self._rollback_msg = (
            f"warning: non-finite {what} loss/gradient at step {self.step}; rolled back to "
            f"the good state of step {snap['step']} "
            f"({self.nonfinite_events}/{self.config.max_nonfinite})"
        )

    # ---------------------------------------------------------------- the loop
    def fit(self, steps: int | None = None, *, cpu_seconds: float | None = None) -> Trainer:
        """Train until ``steps`` (default ``config.steps``) generator steps are done.

        ``cpu_seconds`` also stops training once this process has used that much CPU time
        (all threads), a budget that stays fair when the machine is shared.
        """
        cfg = self.config
        total = cfg.steps if steps is None else steps
        cpu_start = time.process_time()
        logger = StatsLogger(
            self.run_dir,
            total_steps=total,
            start_step=self.step,
            tensorboard=cfg.tensorboard and self.run_dir is not None,
            progress=self.progress,
            log_every=cfg.log_every,
        )
        self.G.train()
        self.D.train()
        acc: dict[str, Tensor] = {}
        count = 0
        t_last, n_last = time.perf_counter(), self.step
        try:
            while self.step < total:
                if cpu_seconds is not None and time.process_time() - cpu_start > cpu_seconds:
                    logger.message(f"CPU budget of {cpu_seconds:.0f}s spent at step {self.step}")
                    if self.run_dir is not None:
                        self.save_checkpoint()
                    break
                self._rollback_msg = ""
                if self.on_step is not None:  # step-dependent schedules (also after a rollback)
                    self.on_step(self)
                out = self.train_step()
                if out is None:
                    logger.message(self._rollback_msg)
                    acc, count = {}, 0
                    continue
                self.step += 1
                for k, v in out.items():
                    acc[k] = acc[k] + v if k in acc else v
                count += 1
                logger.advance()
                if self.step % cfg.snapshot_every == 0:
                    self._take_snapshot()
                if self.step % cfg.log_every == 0 or self.step == total:
                    now = time.perf_counter()
                    scalars = {k: float(v) / count for k, v in acc.items()}
                    scalars["steps_per_sec"] = (self.step - n_last) / max(now - t_last, 1e-9)
                    t_last, n_last = now, self.step
                    self.history.append({"step": self.step, **scalars})
                    logger.log(self.step, scalars)
                    acc, count = {}, 0
                if self.on_sample and self.sample_every and self.step % self.sample_every == 0:
                    self.on_sample(self, self.step)
                evaluated = None
                if self.evaluate and self.eval_every and self.step % self.eval_every == 0:
                    evaluated = self._run_evaluation(logger)
                if self.run_dir is not None and (
                    (cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0)
                    or self.step == total
                ):
                    self.save_checkpoint(is_best=bool(evaluated and evaluated.get("best")))
        except KeyboardInterrupt:
            if self.run_dir is not None and self.step > 0:
                path = self.save_checkpoint()
                logger.message(f"interrupted: checkpoint saved to {path}; resume with --resume")
            raise
        finally:
            logger.close()
        return self

    def _run_evaluation(self, logger: StatsLogger) -> dict[str, Any]:
        assert self.evaluate is not None
        self.G.eval()
        try:
            results = self.evaluate(self)
        finally:
            self.G.train()
        logger.log(self.step, {f"metric/{k}": float(v) for k, v in results.items()})
        value = results.get(self.metric)
        best = False
        if value is not None:
            better = (
                self.best is None
                or (self.metric_mode == "min" and value < self.best["value"])
                or (self.metric_mode == "max" and value > self.best["value"])
            )
            if better:
                self.best = {"metric": self.metric, "value": float(value), "step": self.step}
                best = True
        return {"best": best, **results}

    # ------------------------------------------------------------- checkpoints
    @property
    def checkpoint_dir(self) -> Path:
        if self.run_dir is None:
            raise ValueError("this trainer has no run_dir, so it cannot checkpoint")
        return self.run_dir / "checkpoints"

    def state_tensors(self) -> dict[str, Tensor]:
        """Every tensor needed to continue exactly, flattened with prefixes."""
        t: dict[str, Tensor] = {}
        for prefix, module in (("G", self.G), ("D", self.D), ("G_ema", self.ema.shadow)):
            t.update({f"{prefix}.{k}": v for k, v in module.state_dict().items()})
        for prefix, opt in (("opt_g", self.opt_g), ("opt_d", self.opt_d)):
            t.update(ckpt.optimizer_to_flat(opt, prefix)[0])
        t["rng.torch"] = torch.get_rng_state()
        t["rng.loop"] = self.rng.get_state()
        if self.device.type == "cuda":
            t["rng.cuda"] = torch.cuda.get_rng_state(self.device)
        return t

    def save_checkpoint(self, is_best: bool = False) -> Path:
        """Write ``checkpoints/step-NNNNNNN`` atomically; rotate old ones, keep the best."""
        state = {
            "version": CHECKPOINT_VERSION,
            "step": self.step,
            "d_steps": self.d_steps,
            "config": self.config.to_dict(),
            "model_config": self.model_config,
            "best": self.best,
            "nonfinite_events": self.nonfinite_events,
            "opt_g": ckpt.optimizer_to_flat(self.opt_g, "opt_g")[1],
            "opt_d": ckpt.optimizer_to_flat(self.opt_d, "opt_d")[1],
            "scaler_g": self.scaler_g.state_dict() if self.scaler_g.is_enabled() else None,
            "scaler_d": self.scaler_d.state_dict() if self.scaler_d.is_enabled() else None,
            "augment": self.augment.state_dict(),
        }
        name = f"step-{self.step:07d}"
        path = ckpt.write_checkpoint(self.checkpoint_dir, name, self.state_tensors(), state)
        if is_best:
            ckpt.atomic_write_json(
                self.checkpoint_dir / "best.json", {**(self.best or {}), "name": name}
            )
        protect = set()
        best_file = self.checkpoint_dir / "best.json"
        if best_file.is_file():
            protect.add(json.loads(best_file.read_text()).get("name", ""))
        ckpt.prune_checkpoints(self.checkpoint_dir, self.config.keep_last, protect)
        return path

    def load_checkpoint(self, path: str | Path) -> None:
        """Restore nets, EMA, optimizers, counters and RNG states from a checkpoint."""
        tensors, state = ckpt.read_checkpoint(path)
        for prefix, module in (("G", self.G), ("D", self.D), ("G_ema", self.ema.shadow)):
            head = prefix + "."
            sd = {k[len(head) :]: v for k, v in tensors.items() if k.startswith(head)}
            module.load_state_dict(sd)
        ckpt.optimizer_from_flat(self.opt_g, "opt_g", tensors, state["opt_g"])
        ckpt.optimizer_from_flat(self.opt_d, "opt_d", tensors, state["opt_d"])
        torch.set_rng_state(tensors["rng.torch"])
        self.rng.set_state(tensors["rng.loop"].to(self.rng.get_state().device))
        if "rng.cuda" in tensors and self.device.type == "cuda":
            torch.cuda.set_rng_state(tensors["rng.cuda"], self.device)
        if state.get("scaler_g"):
            self.scaler_g.load_state_dict(state["scaler_g"])
        if state.get("scaler_d"):
            self.scaler_d.load_state_dict(state["scaler_d"])
        self.step = int(state["step"])
        self.d_steps = int(state["d_steps"])
        self.best = state.get("best")
        self.nonfinite_events = int(state.get("nonfinite_events", 0))
        if state.get("augment"):
            self.augment.load_state_dict(state["augment"])
        self._take_snapshot()

    def resume(self, path: str | Path | None = None) -> bool:
        """Load ``path`` or the newest checkpoint of the run folder; False if none exists."""
        target = Path(path) if path is not None else ckpt.latest_checkpoint(self.checkpoint_dir)
        if target is None:
            return False
        self.load_checkpoint(target)
        return True
