"""``ImageGAN``: the image generator behind a CTGAN/SDV-style ``fit``/``sample`` API."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..engine import TensorBatches, TrainConfig, Trainer, seed_everything
from ..engine.checkpoint import atomic_write_bytes, atomic_write_json, save_tensors
from ..engine.plots import plot_losses
from ..errors import DataError
from .dataset import ImageDataset
from .gan_io import CONFIG_FILE, MODEL_FILE, MODEL_TYPE, load_states, model_card, read_config
from .gan_settings import (
    DEFAULT_DEPTH,
    DEFAULT_UPSAMPLE,
    DEFAULT_WIDTH,
    check_net_settings,
    check_run_settings,
    saved_net_settings,
)
from .grid import save_grid
from .nets import build_nets, default_optim

_TRAIN_KEYS = {f.name for f in fields(TrainConfig)}


class ImageGAN:
    """An image GAN: build the nets, play the game, sample images.

    Args:
        arch: ``"seed"`` (the seed design's MLP) or ``"dcgan"`` (conv nets, 28/32/64 px).
        img_size: side of the square images; default: taken from the data in ``fit``.
        channels: 1 (grey) or 3; default: taken from the data.
        z_dim: latent size (100).
        conditional: class-conditional generator and projection discriminator, so that
            ``sample(labels=...)`` can ask for "a post of class k". Needs labelled data.
        spectral_norm: spectral normalization in D.
        width: base channel count of the DCGAN nets (32).
        upsample: ``"nearest"`` (nearest-neighbour upsampling + 3x3 conv, the default) or
            ``"transposed"`` (transposed convolutions) in the DCGAN G.
        depth: extra 3x3 convolutions per resolution in the DCGAN G and D (1).
            The three defaults are the recipe measured by ``benchmarks/image_quality.py``;
            models saved with older defaults load with their own settings.
        run_dir: folder for the run (config, stats, samples, checkpoints, exported model);
            None trains in memory.
        sample_every: steps between sample grids written to ``run_dir/samples/``.
        eval_every: steps between evaluations (FLD, precision, recall of ``eval_samples``
            EMA samples against as many training images, in the feature space of the
            shipped feature net ``extractor``); the best FLD marks the "best" checkpoint.
        eval_samples: samples per evaluation.
        extractor: ``auto`` (the shipped feature net of the training data and its image
            size, see :func:`~socialgan.image.metrics.extractor_for_data`), ``mnist``,
            ``fashion-mnist``, ``att-faces`` or ``efficientnet-lite0``.
        progress: None = progress bar on a terminal, plain lines otherwise; False = quiet.
        g_regularizer: ``callback(images) -> scalar`` added to the generator's loss, with
            ``images`` the generated batch in [0, 1] (with gradients): e.g. the mean score
            of a frozen detector the generator should evade, or a spectral regularizer.
            Not saved with the model.
        **train: any :class:`~socialgan.engine.TrainConfig` field (``loss``, ``steps``,
            ``batch_size``, ``n_critic``, ``lr_g``, ``r1_gamma``, ``ema_decay``, ``seed``...).
            Learning rates and betas default to the architecture's preset.

    Every argument is checked here, before any data is loaded: a wrong type, a value out of
    range or an unknown name raises :class:`~socialgan.checks.OptionError` naming it.

    Example:
        >>> from socialgan.image import ImageGAN, load_source
        >>> gan = ImageGAN("dcgan", steps=1500).fit(load_source("mnist5k"))  # doctest: +SKIP
        >>> images = gan.sample(16, seed=0)  # (16, 1, 28, 28) in [0, 1]  # doctest: +SKIP
    """

    def __init__(
        self,
        arch: str = "dcgan",
        *,
        img_size: int | None = None,
        channels: int | None = None,
        z_dim: int = 100,
        conditional: bool = False,
        spectral_norm: bool = False,
        width: int = DEFAULT_WIDTH,
        upsample: str = DEFAULT_UPSAMPLE,
        depth: int = DEFAULT_DEPTH,
        run_dir: str | Path | None = None,
        sample_every: int = 0,
        eval_every: int = 0,
        eval_samples: int = 2000,
        extractor: str = "auto",
        progress: bool | None = None,
        g_regularizer: Callable[[Tensor], Tensor] | None = None,
        **train: Any,
    ) -> None:
        self.g_regularizer = g_regularizer
        unknown = sorted(set(train) - _TRAIN_KEYS)
        if unknown:
            raise DataError(
                f"unknown option(s) {', '.join(unknown)}; training options are: "
                + ", ".join(sorted(_TRAIN_KEYS - {"extra"}))
            )
        self.net_config: dict[str, Any] = check_net_settings(
            {
                "arch": arch,
                "img_size": img_size,
                "channels": channels,
                "z_dim": z_dim,
                "num_classes": 0,
                "conditional": conditional,
                "spectral_norm": spectral_norm,
                "width": width,
                "upsample": upsample,
                "depth": depth,
            }
        )
        preset = default_optim(self.net_config["arch"])
        lr, betas = preset["lr"], tuple(preset["betas"])
        train = {"lr_g": lr, "lr_d": lr, "betas_g": betas, "betas_d": betas, **train}
        self.train_config = TrainConfig.from_dict(train)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        (
            self.sample_every,
            self.eval_every,
            self.eval_samples,
            self.extractor,
            self.progress,
        ) = check_run_settings(sample_every, eval_every, eval_samples, extractor, progress)
        self.generator: torch.nn.Module | None = None
        self.ema_generator: torch.nn.Module | None = None
        self.discriminator: torch.nn.Module | None = None
        self.trainer: Trainer | None = None
        self.data_info: dict[str, Any] = {}
        self.class_names: list[str] | None = None
        self.metrics: dict[str, Any] = {}

    # ------------------------------------------------------------------ build
    def _build(self) -> None:
        net = {k: v for k, v in self.net_config.items() if k != "conditional"}
        self.generator, self.discriminator = build_nets(**net)

    def _to_net_range(self, images: Tensor) -> Tensor:
        lo, hi = self._out_range()
        return images * (hi - lo) + lo

    def _from_net_range(self, x: Tensor) -> Tensor:
        lo, hi = self._out_range()
        return ((x - lo) / (hi - lo)).clamp(0, 1)

    def _out_range(self) -> tuple[float, float]:
        assert self.generator is not None
        lo, hi = tuple(self.generator.out_range)  # type: ignore[arg-type]
        return float(lo), float(hi)

    # -------------------------------------------------------------------- fit
    def fit(
        self,
        data: ImageDataset | Tensor,
        *,
        resume: bool = False,
        cpu_seconds: float | None = None,
    ) -> ImageGAN:
        """Train on ``data`` (an :class:`ImageDataset` or an ``(N, C, H, W)`` tensor in [0, 1]).

        With ``resume=True`` and a ``run_dir`` holding checkpoints, training continues from
        the newest one and reaches the same weights as an uninterrupted run.
        ``cpu_seconds`` stops training early once the process has used that much CPU time.
        """
        if isinstance(data, Tensor):
            data = ImageDataset(images=data.float(), name="tensor")
        cfg = self.net_config
        for key, value in (("img_size", data.size), ("channels", data.channels)):
            if cfg[key] is None:
                cfg[key] = value
            elif cfg[key] != value:
                raise DataError(
                    f"{data.name}: images have {key}={value} but the model was built for "
                    f"{key}={cfg[key]}; resize the data (--set data.size=...) or change the model"
                )
        if cfg["conditional"]:
            if data.labels is None or data.num_classes < 2:
                raise DataError(f"{data.name}: a conditional GAN needs labelled data")
            cfg["num_classes"] = data.num_classes
            self.class_names = data.class_names
        self.data_info = {"name": data.name, "n": len(data), "num_classes": data.num_classes}
        tc = self.train_config
        seed_everything(tc.seed)
        self._build()
        assert self.generator is not None and self.discriminator is not None
        x = self._to_net_range(data.images)
        y = data.labels if cfg["conditional"] else None
        batches = TensorBatches(x, y, batch_size=tc.batch_size, seed=tc.seed)
        if self.run_dir is not None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_json(self.run_dir / "config.json", self.config_dict())
        self.trainer = Trainer(
            self.generator,
            self.discriminator,
            batches,
            tc,
            self.run_dir,
            model_config=self.net_config,
            on_sample=self._write_samples if self.run_dir is not None else None,
            sample_every=self.sample_every,
            evaluate=self._evaluator(data) if self.eval_every else None,
            eval_every=self.eval_every,
            metric="fld",
            metric_mode="min",
            progress=self.progress,
            g_regularizer=self._g_reg() if self.g_regularizer is not None else None,
        )
        self.ema_generator = self.trainer.ema.shadow
        if resume and self.run_dir is not None:
            self._resume(self.trainer)
        self.trainer.fit(cpu_seconds=cpu_seconds)
        if self.run_dir is not None:
            self._write_samples(self.trainer, self.trainer.step)
            plot_losses(self.trainer.history, self.run_dir / "losses.png", title=cfg["arch"])
        return self

    def _resume(self, trainer: Trainer) -> None:
        """Continue from the run's newest checkpoint; one that does not fit is a DataError."""
        try:
            trainer.resume()
        except RuntimeError as e:  # load_state_dict: missing keys or other shapes
            lines = [line.strip() for line in str(e).splitlines() if line.strip()]
            detail = lines[1] if len(lines) > 1 else (lines[0] if lines else type(e).__name__)
            raise DataError(
                f"{self.run_dir}: its newest checkpoint does not fit the nets of these settings "
                f"({detail[:200]}); resume with the model settings the run was started with "
                "(its config.json)"
            ) from e

    def _g_reg(self) -> Callable[[Tensor, Tensor | None], Tensor]:
        reg = self.g_regularizer
        assert reg is not None
        return lambda fake, _labels: reg(self._from_net_range(fake))

    def _evaluator(self, data: ImageDataset):
        """A callback scoring EMA samples against a fixed subset of the training images."""
        from .metrics import (
            check_extractor_fits,
            evaluate_features,
            extractor_for_data,
            load_feature_extractor,
        )

        name, _ = extractor_for_data(self.extractor, data.name, data.size)
        ext = load_feature_extractor(name)
        check_extractor_fits(ext, data.size)
        n = min(self.eval_samples, len(data))
        perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:n]
        real_features = ext.features(data.images[perm])

        def evaluate(trainer: Trainer) -> dict[str, float]:
            fake = self.sample(n, seed=4321)
            r = evaluate_features(ext.features(fake), real_features, kid_subsets=10)
            return {k: float(r[k]) for k in ("fld", "kid", "precision", "recall")}

        return evaluate

    def _write_samples(self, trainer: Trainer, step: int) -> None:
        assert self.run_dir is not None
        n = 64
        labels = None
        if self.net_config["num_classes"]:
            k = self.net_config["num_classes"]
            labels = torch.arange(n) % k
        images = self.sample(n, seed=1234, labels=labels)
        save_grid(images, self.run_dir / "samples" / f"step-{step:07d}.png", nrow=8)

    # ----------------------------------------------------------------- sample
    def _require_fitted(self) -> tuple[torch.nn.Module, torch.nn.Module]:
        if self.generator is None:
            raise RuntimeError("this ImageGAN is not fitted: call fit() or from_pretrained()")
        return self.ema_generator or self.generator, self.generator

    @torch.no_grad()
    def sample(
        self,
        n: int,
        seed: int | None = None,
        labels: Tensor | list[int] | int | None = None,
        *,
        ema: bool = True,
        truncation: float | None = None,
        batch_size: int = 1000,
    ) -> Tensor:
        """Draw ``n`` images ``(n, C, H, W)`` in [0, 1].

        Args:
            n: number of images.
            seed: latent seed (same seed, same images); None draws from the global RNG.
            labels: class ids for a conditional model: one int for all, or ``n`` ids;
                default cycles through the classes.
            ema: use the moving-average generator (better samples) rather than the live one.
            truncation: redraw latent entries whose magnitude exceeds this value (the
                truncation trick of BigGAN): fewer odd samples, less variety.
        """
        g_ema, g_live = self._require_fitted()
        g = g_ema if ema else g_live
        was_training = g.training
        g.eval()
        device = next(g.parameters()).device
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        z = torch.randn(n, self.net_config["z_dim"], generator=gen)
        if truncation is not None:
            if truncation <= 0:
                raise ValueError(f"truncation must be > 0, got {truncation}")
            while bool((bad := z.abs() > truncation).any()):
                z[bad] = torch.randn(int(bad.sum()), generator=gen)
        y = self._labels(n, labels)
        out = []
        for i in range(0, n, batch_size):
            zi = z[i : i + batch_size].to(device)
            yi = None if y is None else y[i : i + batch_size].to(device)
            out.append(self._from_net_range(g(zi, yi)).cpu())
        g.train(was_training)
        return torch.cat(out)

    def _labels(self, n: int, labels: Tensor | list[int] | int | None) -> Tensor | None:
        k = self.net_config["num_classes"]
        if not k:
            if labels is not None:
                raise ValueError("labels given, but this model is not class-conditional")
            return None
        if labels is None:
            return torch.arange(n) % k
        y = torch.full((n,), labels) if isinstance(labels, int) else torch.as_tensor(labels)
        y = y.long()
        if y.shape != (n,):
            raise ValueError(f"expected {n} labels, got shape {tuple(y.shape)}")
        if int(y.min()) < 0 or int(y.max()) >= k:
            raise ValueError(f"labels must be in [0, {k - 1}]")
        return y

    @torch.no_grad()
    def interpolate(self, steps: int = 8, seed: int = 0, label: int | None = None) -> Tensor:
        """Images along a spherical path between two latents (``steps`` frames)."""
        g, _ = self._require_fitted()
        gen = torch.Generator().manual_seed(seed)
        a, b = torch.randn(2, self.net_config["z_dim"], generator=gen)
        omega = torch.arccos((a / a.norm()).dot(b / b.norm()).clamp(-1, 1))
        t = torch.linspace(0, 1, steps)[:, None]
        z = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
        y = None
        if self.net_config["num_classes"]:
            y = torch.full((steps,), 0 if label is None else label, dtype=torch.long)
        g.eval()
        device = next(g.parameters()).device
        return self._from_net_range(g(z.to(device), None if y is None else y.to(device))).cpu()

    # ------------------------------------------------------------ persistence
    def config_dict(self) -> dict[str, Any]:
        """The resolved configuration (nets, training, data) as JSON-ready dict."""
        return {
            "model_type": MODEL_TYPE,
            "net": self.net_config,
            "train": self.train_config.to_dict(),
            "data": self.data_info,
            "class_names": self.class_names,
        }

    def save_pretrained(self, directory: str | Path, metrics: dict[str, Any] | None = None) -> Path:
        """Write ``config.json``, ``model.safetensors`` (EMA G, G, D) and a model card."""
        g_ema, g_live = self._require_fitted()
        assert self.discriminator is not None
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensors = {}
        for prefix, module in (("G_ema", g_ema), ("G", g_live), ("D", self.discriminator)):
            for k, v in module.state_dict().items():
                tensors[f"{prefix}.{k}"] = v  # save_tensors copies to CPU, contiguous
        atomic_write_bytes(directory / MODEL_FILE, save_tensors(tensors))
        if metrics:
            self.metrics = metrics
        atomic_write_json(directory / CONFIG_FILE, {**self.config_dict(), "metrics": self.metrics})
        atomic_write_bytes(directory / "README.md", model_card(self).encode())
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str = "cpu") -> ImageGAN:
        """Load a model written by :meth:`save_pretrained` (safetensors + JSON only).

        The nets are built with the settings saved in ``config.json`` (models saved before
        a setting was recorded get the value they were built with). A missing, corrupt or
        mismatched file raises :class:`~socialgan.errors.DataError` naming it.
        """
        directory = Path(directory)
        cfg_path, model_path = directory / CONFIG_FILE, directory / MODEL_FILE
        cfg = read_config(directory)
        net = saved_net_settings(cfg["net"], str(cfg_path))
        train = {k: v for k, v in cfg["train"].items() if k != "extra"}
        # net_config holds the constructor's net arguments plus num_classes, set by fit()
        try:
            self = cls(**{k: v for k, v in net.items() if k != "num_classes"}, **train)
        except DataError as e:
            raise DataError(f"{cfg_path}: {e}") from e
        self.net_config["num_classes"] = net["num_classes"]
        self.data_info = cfg.get("data") or {}
        self.class_names = cfg.get("class_names")
        self.metrics = cfg.get("metrics") or {}
        try:
            self._build()
        except ValueError as e:
            raise DataError(f"{cfg_path}: cannot build the nets it describes ({e})") from e
        assert self.generator is not None and self.discriminator is not None
        ema = copy.deepcopy(self.generator)
        modules = [("G_ema", ema), ("G", self.generator), ("D", self.discriminator)]
        load_states(modules, model_path, cfg_path, device)
        self.ema_generator = ema.eval().to(device)
        self.generator.to(device)
        self.discriminator.to(device)
        return self
