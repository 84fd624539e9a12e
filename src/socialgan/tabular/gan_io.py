"""The folder of a saved :class:`~socialgan.tabular.gan.TabularGAN`.

``config.json``: ``model_type``, the model settings, the game's ``TrainConfig``, the table
metadata, the transformer's JSON state (columns, categories, modes), data facts;
``model.safetensors``: ``G_ema.*`` (the generator that samples), ``G.*`` and ``D.*``
(kept so a user can go on training or inspect the critic) and ``transformer.*`` (the
transformer's arrays: mode means and deviations...); ``README.md``: the model card. Only
JSON and safetensors are read (never a pickle), through the checked readers of
:mod:`socialgan.loading`; a missing, corrupt or mismatched file is a ``DataError``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from safetensors.torch import load_file

from socialgan.engine import TrainConfig
from socialgan.engine.checkpoint import atomic_write_bytes, atomic_write_json, save_tensors
from socialgan.errors import DataError
from socialgan.image.gan_io import load_states
from socialgan.image.model_card import model_card
from socialgan.loading import CONFIG_FILE, MODEL_FILE, read_config, read_safetensors
from socialgan.tabular.metadata import TableMetadata
from socialgan.tabular.transformer import TableTransformer

if TYPE_CHECKING:
    from socialgan.tabular.gan import TabularGAN

__all__ = ["MODEL_TYPE", "load_tabular_gan", "run_config", "save_tabular_gan"]

MODEL_TYPE = "socialgan.tabular.TabularGAN"
FORMAT_VERSION = 1
_PREFIX = "transformer."
USE = (
    "Synthetic account tables for testing moderation pipelines, sharing data shapes without",
    "the records, and oversampling rare classes (bots) for detectors. A GAN can memorize:",
    "check the privacy report (`socialgan accounts evaluate`) before sharing samples, and",
    "never present synthetic accounts as real people.",
)


def _config(gan: TabularGAN) -> dict[str, Any]:
    tr, meta = gan.transformer, gan.metadata
    assert tr is not None and meta is not None
    state, _ = tr.to_state()
    return {
        "model_type": MODEL_TYPE,
        "format_version": FORMAT_VERSION,
        "params": gan.get_params(),
        "train": gan.train_config.to_dict(),
        "metadata": meta.to_dict(),
        "transformer": state,
        "data": gan.data_info,
        "steps_done": gan.trainer.step if gan.trainer is not None else None,
    }


def run_config(gan: TabularGAN, resume: bool) -> dict[str, Any]:
    """A run folder's ``config.json``: the model's config and how the run was started."""
    run = {"run_dir": str(gan.run_dir), "cpu_seconds": gan.cpu_seconds, "resume": resume}
    return {**_config(gan), "run": run}


def save_tabular_gan(gan: TabularGAN, directory: Path) -> Path:
    """Write the folder (``config.json``, ``model.safetensors``, ``README.md``)."""
    tr, g = gan.transformer, gan.generator
    if tr is None or g is None or gan.discriminator is None:
        raise RuntimeError("this TabularGAN is not fitted: call fit() first")
    directory.mkdir(parents=True, exist_ok=True)
    _, arrays = tr.to_state()
    tensors = {
        f"{_PREFIX}{k}": torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()
    }
    for prefix, module in (("G", g), ("G_ema", gan.ema_generator or g), ("D", gan.discriminator)):
        tensors |= {f"{prefix}.{k}": v for k, v in module.state_dict().items()}
    atomic_write_bytes(directory / MODEL_FILE, save_tensors(tensors))
    atomic_write_json(directory / CONFIG_FILE, _config(gan))
    atomic_write_bytes(directory / "README.md", _card(gan).encode())
    return directory


def _card(gan: TabularGAN) -> str:
    p, tc, data = gan.params, gan.train_config, gan.data_info
    left = ", ".join(data.get("left_out", [])) or "none"
    about = [
        f"- Data: {data.get('rows', '?')} rows; modeled columns: "
        + ", ".join(data.get("columns", [])),
        f"- Left out (free text, identifiers): {left}",
        f"- Generator: residual {p['generator_dims']}, z_dim {p['z_dim']}, Gumbel-softmax "
        f"tau {p['tau']}; critic {p['discriminator_dims']}, pac {p['pac']}",
        f"- Game: {tc.loss} (gp {tc.gp_lambda}), {tc.steps} steps of batch {tc.batch_size}, "
        f"n_critic {tc.n_critic}, lr {tc.lr_g}/{tc.lr_d}, EMA {tc.ema_decay}, seed {tc.seed}",
    ]
    return model_card("socialgan TabularGAN", about, {}, USE)


def load_tabular_gan(cls: type[TabularGAN], directory: Path, *, device: str) -> TabularGAN:
    """Rebuild the model of a saved folder (see the module docstring)."""
    cfg = read_config(directory, expect=MODEL_TYPE)
    cfg_path = directory / CONFIG_FILE
    for key in ("params", "train", "metadata", "transformer"):
        if not isinstance(cfg.get(key), dict):
            raise DataError(f"{cfg_path}: expected a {key!r} mapping")
    weights = directory / MODEL_FILE
    tensors = read_safetensors(weights, lambda path: load_file(path, device="cpu"))
    arrays = {k[len(_PREFIX) :]: v.numpy() for k, v in tensors.items() if k.startswith(_PREFIX)}
    try:
        meta = TableMetadata.from_dict(cfg["metadata"])
        tr = TableTransformer.from_state(cfg["transformer"], arrays)
        train = TrainConfig.from_dict({**cfg["train"], "device": device})
    except (KeyError, TypeError, ValueError) as e:
        raise DataError(f"{cfg_path}: cannot rebuild the model ({e})") from None
    params = dict(cfg["params"])
    options = {k: v for k, v in train.to_dict().items() if k not in ("batch_size", "seed", "extra")}
    gan = cls(**params, metadata=meta, progress=False, **options)
    gan.train_config = train
    gan.metadata, gan.transformer = meta, tr
    gan.data_info = dict(cfg.get("data") or {})
    g, d = gan.build_nets(tr)
    ema = gan.build_nets(tr)[0]
    load_states([("G", g), ("G_ema", ema), ("D", d)], weights, cfg_path, "cpu")
    gan.generator, gan.ema_generator, gan.discriminator = g.to(device), ema.to(device), d.to(device)
    ema.eval()
    return gan
