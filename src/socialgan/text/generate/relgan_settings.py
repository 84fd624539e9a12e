"""The settings of :class:`~socialgan.text.generate.relgan.RelGANTextGenerator`: checked
once, then building its nets.

:func:`check_relgan_settings` turns the constructor's arguments into the ``params`` dict that
``config.json`` saves and the adversarial phase's :class:`~socialgan.engine.TrainConfig`
(every value checked, with an error naming the option; the language-model settings by the
MLE generator's own :func:`~socialgan.text.generate.settings.check_settings`);
:func:`pretrain_settings` gives the MLE generator that pretrains it; :func:`build_relgan_nets`
makes the generator and discriminator those settings describe.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from socialgan.checks import check_int, check_number
from socialgan.engine import TrainConfig
from socialgan.errors import DataError
from socialgan.text.generate.lm import GRULanguageModel
from socialgan.text.generate.relgan_nets import RelGANDiscriminator, RelGANGenerator
from socialgan.text.generate.settings import build_net, check_settings
from socialgan.text.generate.tokenizer import BOS, PAD, SPECIALS, UNK

__all__ = [
    "ADVERSARIAL_DEFAULTS",
    "MLE_KEYS",
    "TRAIN_KEYS",
    "build_relgan_nets",
    "check_relgan_settings",
    "pretrain_settings",
]

#: The MLE generator's settings, passed on to the pretraining.
MLE_KEYS = (
    "vocab_size tokenizer_kind lowercase min_frequency embed_dim hidden_dim layers dropout "
    "patience validation_fraction max_tokens batch_size seed device"
).split()
#: TrainConfig fields set through the generator's ``**train`` (the others are arguments).
TRAIN_KEYS = frozenset(f.name for f in fields(TrainConfig)) - {
    "batch_size",
    "seed",
    "device",
    "extra",
}
#: RelGAN's adversarial settings where they differ from the engine's defaults: Adam with
#: lr 1e-4 and betas (0.9, 0.999) for both nets and a gradient-norm clip of 5, as RelGAN.
ADVERSARIAL_DEFAULTS: dict[str, Any] = {
    "loss": "non_saturating",  # RelGAN's RSGAN loss is not among the engine's losses
    "steps": 1000,
    "lr_g": 1e-4,
    "lr_d": 1e-4,
    "betas_g": (0.9, 0.999),
    "betas_d": (0.9, 0.999),
    "grad_clip": 5.0,
    "ema_decay": 0.0,  # RelGAN keeps no moving average; set one to sample from it
    "log_every": 10,
    "checkpoint_every": 200,
    "channels_last": False,
}


def check_relgan_settings(
    raw: dict[str, Any], train: dict[str, Any]
) -> tuple[dict[str, Any], TrainConfig]:
    """The checked ``params`` and the adversarial ``TrainConfig`` (``ADVERSARIAL_DEFAULTS``
    under the user's ``train`` options). Raises ``DataError`` naming a bad option."""
    unknown = sorted(set(train) - TRAIN_KEYS)
    if unknown:
        raise DataError(
            f"unknown option(s) {', '.join(unknown)}; adversarial training options are: "
            + ", ".join(sorted(TRAIN_KEYS))
        )
    mle = check_settings(
        {
            **{k: raw[k] for k in MLE_KEYS},
            "model": "gru",
            "heads": 1,
            "lr": raw["mle_lr"],
            "max_epochs": raw["mle_epochs"],
        }
    )
    p: dict[str, Any] = {k: mle[k] for k in MLE_KEYS}
    p["mle_lr"], p["mle_epochs"] = mle["lr"], mle["max_epochs"]
    for name in ("z_dim", "num_rep", "rep_dim", "num_filters"):
        p[name] = check_int(name, raw[name], minimum=1)
    p["filter_sizes"] = _check_filters(raw["filter_sizes"], p["max_tokens"] + 1)
    p["d_dropout"] = check_number(
        "d_dropout", raw["d_dropout"], minimum=0, maximum=1, open_max=True
    )
    p["beta_max"] = check_number("beta_max", raw["beta_max"], minimum=1)
    config = TrainConfig.from_dict(
        {**ADVERSARIAL_DEFAULTS, **train, "batch_size": p["batch_size"], "seed": p["seed"]}
        | {"device": p["device"]}
    )
    return p, config


def pretrain_settings(p: dict[str, Any]) -> dict[str, Any]:
    """The arguments of the GRU :class:`~socialgan.text.generate.mle.MLETextGenerator`
    that pretrains a RelGAN of settings ``p`` (run folder options aside)."""
    return {
        "model": "gru",
        **{k: p[k] for k in MLE_KEYS},
        "lr": p["mle_lr"],
        "max_epochs": p["mle_epochs"],
    }


def build_relgan_nets(
    p: dict[str, Any], vocab_size: int, num_classes: int, lm: GRULanguageModel | None = None
) -> tuple[RelGANGenerator, RelGANDiscriminator]:
    """The generator around ``lm`` (default: a fresh GRU of settings ``p``) and D, for texts
    of ``max_tokens + 1`` positions (the text tokens and the closing ``<eos>``)."""
    if lm is None:
        net = build_net({**p, "model": "gru"}, vocab_size)
        assert isinstance(net, GRULanguageModel)
        lm = net
    seq_len = p["max_tokens"] + 1
    banned = [PAD, BOS, UNK, *range(len(SPECIALS), len(SPECIALS) + num_classes)]
    g = RelGANGenerator(
        lm, seq_len=seq_len, z_dim=p["z_dim"], num_classes=num_classes, banned=banned
    )
    d = RelGANDiscriminator(
        vocab_size,
        seq_len,
        num_classes=num_classes,
        num_rep=p["num_rep"],
        rep_dim=p["rep_dim"],
        filter_sizes=p["filter_sizes"],
        num_filters=p["num_filters"],
        dropout=p["d_dropout"],
    )
    return g, d


def _check_filters(value: Any, seq_len: int) -> list[int]:
    """Filter widths: a non-empty list of integers in ``1..seq_len``."""
    expected = f"a non-empty list of integers in 1..{seq_len} (max_tokens + 1)"
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple) or not value:
        raise DataError(f"filter_sizes: expected {expected}, got {value!r}")
    try:
        return [check_int("filter_sizes", v, minimum=1, maximum=seq_len) for v in value]
    except DataError:
        raise DataError(f"filter_sizes: expected {expected}, got {value!r}") from None
