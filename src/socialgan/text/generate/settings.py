"""The model settings of the text generators: checked once, then building their net.

:func:`check_settings` turns the constructor's arguments into the ``params`` dict that
``config.json`` saves (every value checked, with an error naming the option);
:func:`build_net` makes the language model those settings describe, for a vocabulary size.
The SeqGAN generator reuses both.
"""

from __future__ import annotations

from typing import Any

from socialgan.checks import check_choice, check_int, check_number, check_str
from socialgan.errors import DataError
from socialgan.text.generate.lm import (
    MODEL_KINDS,
    GRULanguageModel,
    LanguageModel,
    TransformerLanguageModel,
)
from socialgan.text.generate.tokenizer import TOKENIZER_KINDS

__all__ = ["build_net", "check_settings"]


def check_settings(raw: dict[str, Any]) -> dict[str, Any]:
    """The checked settings; ``layers=None`` resolves to 1 (GRU) or 2 (Transformer).

    Raises :class:`~socialgan.checks.OptionError` (a ``DataError``) naming a bad option.
    """
    model = check_choice("model", raw["model"], MODEL_KINDS)
    layers = raw["layers"] if raw["layers"] is not None else (1 if model == "gru" else 2)
    p: dict[str, Any] = {
        "model": model,
        "vocab_size": check_int("vocab_size", raw["vocab_size"], minimum=8),
        "tokenizer_kind": check_choice("tokenizer_kind", raw["tokenizer_kind"], TOKENIZER_KINDS),
        "lowercase": bool(raw["lowercase"]),
        "min_frequency": check_int("min_frequency", raw["min_frequency"], minimum=1),
        "embed_dim": check_int("embed_dim", raw["embed_dim"], minimum=1),
        "hidden_dim": check_int("hidden_dim", raw["hidden_dim"], minimum=1),
        "layers": check_int("layers", layers, minimum=1),
        "heads": check_int("heads", raw["heads"], minimum=1),
        "dropout": check_number("dropout", raw["dropout"], minimum=0, maximum=1, open_max=True),
        "lr": check_number("lr", raw["lr"], minimum=0, open_min=True),
        "batch_size": check_int("batch_size", raw["batch_size"], minimum=1),
        "max_epochs": check_int("max_epochs", raw["max_epochs"], minimum=1),
        "patience": check_int("patience", raw["patience"], minimum=1),
        "validation_fraction": check_number(
            "validation_fraction", raw["validation_fraction"], minimum=0, maximum=1, open_max=True
        ),
        "max_tokens": check_int("max_tokens", raw["max_tokens"], minimum=1),
        "seed": check_int("seed", raw["seed"], minimum=0),
        "device": check_str("device", raw["device"], empty=False),
    }
    if model == "transformer" and p["embed_dim"] % p["heads"]:
        raise DataError(f"embed_dim={p['embed_dim']} must be a multiple of heads={p['heads']}")
    return p


def build_net(p: dict[str, Any], vocab_size: int) -> LanguageModel:
    """The language model of settings ``p`` for ``vocab_size`` ids (freshly initialised)."""
    if p["model"] == "gru":
        return GRULanguageModel(
            vocab_size, p["embed_dim"], p["hidden_dim"], p["layers"], p["dropout"]
        )
    # the longest input: <bos>, a class token, max_tokens ids (the last target is not fed)
    return TransformerLanguageModel(
        vocab_size,
        p["embed_dim"],
        p["heads"],
        p["layers"],
        p["hidden_dim"],
        p["dropout"],
        max_len=p["max_tokens"] + 2,
    )
