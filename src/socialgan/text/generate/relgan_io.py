"""The folder of a saved :class:`~socialgan.text.generate.relgan.RelGANTextGenerator`.

``config.json`` (``model_type``, model settings, the adversarial ``TrainConfig``, labels,
data, metrics), ``model.safetensors`` (``G.*`` the generator, ``G_ema.*`` its moving
average, the one that samples, ``D.*`` the discriminator), ``tokenizer.json`` and a
``README.md`` model card. Only JSON and safetensors are read, through the checked readers
of :mod:`socialgan.loading`; a missing, corrupt or mismatched file is a ``DataError``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors.torch import load_file
from torch import Tensor

from socialgan.engine.checkpoint import (
    atomic_write_bytes,
    atomic_write_json,
    save_tensors,
)
from socialgan.engine.utils import select_device
from socialgan.errors import DataError
from socialgan.loading import CONFIG_FILE, MODEL_FILE, read_config, read_safetensors
from socialgan.text.generate.card import GENERATOR_LIMITS
from socialgan.text.generate.mle_io import TOKENIZER_FILE, restore_vocabulary
from socialgan.text.generate.relgan_settings import TRAIN_KEYS

if TYPE_CHECKING:
    from socialgan.text.generate.relgan import RelGANTextGenerator

__all__ = [
    "MODEL_TYPE",
    "load_relgan",
    "relgan_card",
    "relgan_config",
    "save_relgan",
    "write_samples",
]

MODEL_TYPE = "socialgan.textgen.RelGANTextGenerator"
FORMAT_VERSION = 1
SAMPLE_SEED = 1234  # the run folder's sample files


def relgan_config(gen: RelGANTextGenerator) -> dict[str, Any]:
    """What ``config.json`` holds."""
    tok = gen.tokenizer
    return {
        "model_type": MODEL_TYPE,
        "format_version": FORMAT_VERSION,
        "params": gen.get_params(),
        "train": gen.train_config.to_dict(),
        "vocab_size": tok.vocab_size if tok is not None else None,
        "label_names": gen.label_names,
        "label_counts": gen.label_counts,
        "data": gen.data_info,
        "metrics": gen.metrics,
    }


def write_samples(gen: RelGANTextGenerator, path: Path) -> None:
    """A run folder's sample file: six texts (two per class of a conditional model), each
    from its own fixed seed, so files of successive steps compare line by line."""
    names = gen.label_names
    lines = []
    for i in range(2 * max(len(names), 3)):
        label = names[i % len(names)] if names else None
        text = gen.sample(1, seed=SAMPLE_SEED + i, label=label)[0]
        lines.append(f"[{label}] {text}" if label is not None else text)
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())


def save_relgan(gen: RelGANTextGenerator, directory: str | Path) -> Path:
    """Write the four files of ``gen`` into ``directory`` (each atomically)."""
    tok, ema = gen._fitted()
    assert gen.generator is not None and gen.discriminator is not None
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, Tensor] = {}
    for prefix, module in (("G", gen.generator), ("G_ema", ema), ("D", gen.discriminator)):
        tensors |= {f"{prefix}.{k}": v for k, v in module.state_dict().items()}
    config = relgan_config(gen)
    atomic_write_bytes(directory / MODEL_FILE, save_tensors(tensors))
    atomic_write_bytes(directory / TOKENIZER_FILE, tok.to_json().encode())
    atomic_write_json(directory / CONFIG_FILE, config)
    atomic_write_bytes(directory / "README.md", relgan_card(config).encode())
    return directory


def load_relgan(
    cls: type[RelGANTextGenerator], directory: str | Path, device: str = "cpu"
) -> RelGANTextGenerator:
    """The generator saved in ``directory``, on ``device``, in eval mode."""
    directory = Path(directory)
    cfg = read_config(directory, expect=MODEL_TYPE)
    cfg_path = directory / CONFIG_FILE
    params, train = cfg.get("params"), cfg.get("train")
    if not isinstance(params, dict) or not isinstance(train, dict):
        raise DataError(f"{cfg_path}: expected 'params' and 'train' mappings of settings")
    try:
        gen = cls(
            **{**params, "device": device},
            **{k: v for k, v in train.items() if k in TRAIN_KEYS and k != "device"},
            progress=False,
        )
    except (DataError, TypeError) as e:
        raise DataError(f"{cfg_path}: {e}") from None
    tok = restore_vocabulary(gen, directory, cfg, cfg_path)
    g, d = gen.build_nets(tok.vocab_size)
    ema = copy.deepcopy(g)
    weights = read_safetensors(directory / MODEL_FILE, load_file)
    for prefix, module in (("G", g), ("G_ema", ema), ("D", d)):
        head = prefix + "."  # "G." does not match "G_ema."
        part = {k[len(head) :]: v for k, v in weights.items() if k.startswith(head)}
        try:
            module.load_state_dict(part)
        except RuntimeError as e:
            detail = " ".join(str(e).split())[:200]
            raise DataError(
                f"{directory / MODEL_FILE}: the weights do not fit the nets {cfg_path.name} "
                f"describes ({detail}); were the files saved together?"
            ) from None
    dev = select_device(device)
    gen.generator, gen.discriminator = g.to(dev), d.to(dev)
    gen.ema_generator = ema.to(dev).eval()
    return gen


def relgan_card(config: dict[str, Any]) -> str:
    """The ``README.md`` of a saved RelGAN generator whose ``config.json`` is ``config``."""
    p, t, data = config["params"], config["train"], config.get("data") or {}
    labels = config.get("label_names") or []
    filters = ", ".join(map(str, p["filter_sizes"]))
    lines = [
        "# socialgan RelGAN text generator (GRU, Gumbel-softmax)",
        "",
        f"Text generator from `socialgan` ({config['model_type']}).",
        "",
        "## Model",
        f"- Generator: GRU LM, embed {p['embed_dim']}, hidden {p['hidden_dim']}, "
        f"{p['layers']} layer(s); latent z of {p['z_dim']} sets the initial state; Gumbel-"
        f"softmax outputs, inverse temperature annealed 1 -> {p['beta_max']:g} (exp schedule)",
        f"- Discriminator: {p['num_rep']} embedded representations of size {p['rep_dim']}, "
        f"CNN widths {filters} x {p['num_filters']} filters, highway, dropout {p['d_dropout']}",
        f"- Tokenizer: {p['tokenizer_kind']}, {config.get('vocab_size', '?')} ids, lowercase: "
        f"{p['lowercase']}; at most {p['max_tokens']} tokens per text",
        "- Conditional on: " + (", ".join(labels) if labels else "nothing (unconditional)"),
        f"- Pretraining: maximum likelihood, Adam lr {p['mle_lr']}, batch {p['batch_size']}, "
        f"at most {p['mle_epochs']} epochs with early stopping on validation NLL",
        f"- Adversarial training: {t['steps']} steps, loss {t['loss']}, Adam lr "
        f"{t['lr_g']} (G) / {t['lr_d']} (D), batch {t['batch_size']}, seed {t['seed']}",
        "",
        "## Data",
        f"- {data.get('n_texts', '?')} texts ({data.get('n_train', '?')} train, "
        f"{data.get('n_val', '?')} validation for pretraining); all of them in the game",
        "",
        "## Metrics",
    ]
    metrics = config.get("metrics") or {}
    fmt = {k: f"{v:.4f}" if isinstance(v, float) else str(v) for k, v in metrics.items()}
    lines += [f"- {k}: {v}" for k, v in fmt.items()] or ["- none recorded"]
    lines += ["", "(`mle_*`: the pretrained model, before the adversarial phase.)"]
    lines += ["", *GENERATOR_LIMITS]
    lines += [
        "- GAN training can trade variety for quality (mode collapse): compare samples",
        "  with the MLE model's on held-out NLL and BLEU / self-BLEU before using them.",
        "",
    ]
    return "\n".join(lines)
