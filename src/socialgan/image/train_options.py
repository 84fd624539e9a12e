"""The options of ``socialgan image train``: defaults, flags, help text and checks.

A run's config has four sections: ``data`` (what to train on), ``model`` (the nets),
``train`` (the game and the loop: every :class:`~socialgan.engine.TrainConfig` field) and
``run`` (the run folder). Values come from :func:`default_config`, then ``--config
x.yaml``, then ``--set SECTION.KEY=VALUE``, then the command-line options of
:data:`OPTION_KEYS`; :func:`build_gan` checks them all (types, ranges, known names) before
any data is loaded, with messages that name the key and its flag.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..checks import OptionError, check_bool, check_int, check_str
from ..engine import TrainConfig
from ..errors import DataError
from .data import NAMED_SOURCES
from .gan_settings import DEFAULT_DEPTH, DEFAULT_UPSAMPLE, DEFAULT_WIDTH, saved_net_settings

if TYPE_CHECKING:
    from .gan import ImageGAN

__all__ = [
    "DATA_HELP",
    "OPTIONS",
    "OPTION_KEYS",
    "build_gan",
    "config_epilog",
    "default_config",
    "label",
    "option_help",
    "option_values",
    "saved_model_section",
]

#: Command-line option (its parameter name) -> the config key it sets.
OPTION_KEYS: dict[str, str] = {
    "data": "data.source",
    "run_dir": "run.dir",
    "arch": "model.arch",
    "width": "model.width",
    "upsample": "model.upsample",
    "depth": "model.depth",
    "z_dim": "model.z_dim",
    "conditional": "model.conditional",
    "spectral_norm": "model.spectral_norm",
    "steps": "train.steps",
    "batch_size": "train.batch_size",
    "loss": "train.loss",
    "lr_g": "train.lr_g",
    "lr_d": "train.lr_d",
    "augment": "train.augment",
    "ema_decay": "train.ema_decay",
    "seed": "train.seed",
}
_FLAGS = {key: "--" + param.replace("_", "-") for param, key in OPTION_KEYS.items()}
_NOTES = {
    "data.size": "resize images to SIZE x SIZE; the dcgan nets take 28, 32 or 64",
    "train.lr_g": "null = the architecture's preset (dcgan 2e-4, seed 1e-3)",
    "train.lr_d": "null = the architecture's preset",
    "train.betas_g": "null = the preset, e.g. [0.5, 0.999]",
    "train.betas_d": "null = the preset",
    "run.dir": "null = runs/<arch>-<data>",
}
DATA_HELP = (
    "Named source (" + ", ".join(NAMED_SOURCES) + ") or a path: an image folder "
    "(subfolders = classes), an IDX file (.gz or raw), or a .npy/.npz array."
)

#: ImageGAN arguments that do not come from the section of the same name.
_ARGUMENT_KEYS = {"img_size": "data.size"}


def default_config() -> dict[str, Any]:
    """Every option of ``image train``, with its default."""
    train = TrainConfig().to_dict()
    train.pop("extra")
    train.update(steps=2000, lr_g=None, lr_d=None, betas_g=None, betas_d=None)
    return {
        "data": {"source": "mnist5k", "size": None, "grayscale": True, "limit": None},
        "model": {
            "arch": "dcgan",
            "z_dim": 100,
            "conditional": False,
            "spectral_norm": False,
            "width": DEFAULT_WIDTH,
            "upsample": DEFAULT_UPSAMPLE,
            "depth": DEFAULT_DEPTH,
        },
        "train": train,
        "run": {"dir": None, "sample_every": 500, "eval_every": 0, "eval_samples": 2000},
    }


def _show(value: Any) -> str:
    """A value as it would be written in YAML (``null``, ``true``, ``[0.5, 0.999]``)."""
    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(list(value) if isinstance(value, tuple) else value)


def _default(key: str) -> Any:
    section, name = key.split(".")
    return default_config()[section][name]


def label(key: str) -> str:
    """How a message names a config key: ``train.batch_size (--batch-size)``."""
    return f"{key} ({_FLAGS[key]})" if key in _FLAGS else key


def option_help(param: str, text: str) -> str:
    """Help text of an option: ``text``, the key it sets and the key's default."""
    key = OPTION_KEYS[param]
    note = _NOTES.get(key, f"default {_show(_default(key))}")
    return f"{text} ({key}; {note})"


def config_epilog() -> str:
    """The help epilog: every config key with its default and, where there is one, its flag."""
    lines = [
        "Every option below can be set in a --config YAML file (sections data, model, train, "
        "run) or with --set SECTION.KEY=VALUE; a flag, where shown, sets it too and wins.",
        "",
        "\b",
    ]
    for section, values in default_config().items():
        for name, value in values.items():
            key = f"{section}.{name}"
            flag = f"  ({_FLAGS[key]})" if key in _FLAGS else ""
            note = f"  {_NOTES[key]}" if key in _NOTES else ""
            lines.append(f"  {key} = {_show(value)}{flag}{note}")
    return "\n".join(lines)


def option_values(**params: Any) -> dict[str, Any]:
    """The options given on the command line (not ``None``) as a nested config dict."""
    out: dict[str, Any] = {}
    for param, value in params.items():
        if value is None:
            continue
        section, name = OPTION_KEYS[param].split(".")
        out.setdefault(section, {})[name] = str(value) if param == "run_dir" else value
    return out


def _check_data(data: dict[str, Any]) -> None:
    check_str(label("data.source"), data["source"], empty=False)
    check_bool("data.grayscale", data["grayscale"])
    check_int("data.limit", data["limit"], minimum=1, optional=True)


def build_gan(cfg: dict[str, Any], run_dir: Path | None, progress: bool | None = None) -> ImageGAN:
    """An ``ImageGAN`` from a resolved config, every value checked (``None`` optimizer
    values use the architecture's preset); an error names the config key and its flag."""
    from .gan import ImageGAN

    _check_data(cfg["data"])
    check_str(label("run.dir"), cfg["run"]["dir"], optional=True)
    where = {name: f"model.{name}" for name in cfg["model"]}
    where.update({name: f"train.{name}" for name in cfg["train"]})
    where.update({name: f"run.{name}" for name in ("sample_every", "eval_every", "eval_samples")})
    where.update(_ARGUMENT_KEYS)
    train = {k: v for k, v in cfg["train"].items() if v is not None}
    run = cfg["run"]
    try:
        return ImageGAN(
            **cfg["model"],
            img_size=cfg["data"]["size"],
            run_dir=run_dir,
            sample_every=run["sample_every"],
            eval_every=run["eval_every"],
            eval_samples=run["eval_samples"],
            progress=progress,
            **train,
        )
    except OptionError as e:
        raise e.renamed(label(where.get(e.option, e.option))) from None


def saved_model_section(run: Path) -> dict[str, Any]:
    """The ``model`` section a run was started with (from its ``config.json``), for resuming.

    Runs started with older defaults resume with the settings they were built with; an
    empty dict when the run folder has no readable config.
    """
    path = run / "config.json"
    try:
        net = json.loads(path.read_text())["net"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    try:
        saved = saved_net_settings(net, str(path))
    except DataError:
        return {}
    keys = default_config()["model"]
    return {k: saved[k] for k in keys if k in saved}


def _option(param: str, text: str, panel: str, *flags: str) -> Any:
    """A ``typer.Option`` for ``param`` (default None: the config's value stays)."""
    return typer.Option(None, *flags, help=option_help(param, text), rich_help_panel=panel)


_MODEL, _TRAIN, _RUN = "Model", "Training", "Data and run folder"

#: The ``typer.Option`` of each entry of :data:`OPTION_KEYS`, for ``image train``.
OPTIONS: dict[str, Any] = {
    "data": _option("data", DATA_HELP, _RUN, "--data", "-d"),
    "run_dir": _option("run_dir", "Run folder.", _RUN, "--run-dir"),
    "arch": _option("arch", "Architecture: seed (the seed design's MLP) or dcgan.", _MODEL),
    "width": _option("width", "Base channel count of the dcgan nets.", _MODEL),
    "upsample": _option(
        "upsample", "dcgan G upsampling: nearest (upsample + 3x3 conv) or transposed.", _MODEL
    ),
    "depth": _option(
        "depth", "Extra 3x3 convolutions per resolution in the dcgan G and D.", _MODEL
    ),
    "z_dim": _option("z_dim", "Latent size.", _MODEL),
    "conditional": _option(
        "conditional",
        "Class-conditional G and D (needs labelled data).",
        _MODEL,
        "--conditional/--unconditional",
    ),
    "spectral_norm": _option(
        "spectral_norm",
        "Spectral normalization in D.",
        _MODEL,
        "--spectral-norm/--no-spectral-norm",
    ),
    "steps": _option("steps", "Generator steps to train for.", _TRAIN),
    "batch_size": _option("batch_size", "Images per D and G update.", _TRAIN),
    "loss": _option("loss", "Game: non_saturating, minimax, hinge or wasserstein (+ GP).", _TRAIN),
    "lr_g": _option("lr_g", "Adam learning rate of G.", _TRAIN),
    "lr_d": _option("lr_d", "Adam learning rate of D.", _TRAIN),
    "augment": _option(
        "augment", 'DiffAugment of D\'s inputs, e.g. color,translation,cutout ("" = none).', _TRAIN
    ),
    "ema_decay": _option("ema_decay", "Decay of G's moving average (0 = plain copy).", _TRAIN),
    "seed": _option("seed", "Seed of weights, latents and data order.", _TRAIN),
}
