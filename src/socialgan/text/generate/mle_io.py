"""The folder of a saved :class:`~socialgan.text.generate.mle.MLETextGenerator`.

``config.json`` (``model_type``, settings, labels, data, metrics), ``model.safetensors`` (the
net's weights), ``tokenizer.json`` (a plain ``tokenizers`` file) and a ``README.md`` model
card. Only JSON and safetensors are read, through the checked readers of
:mod:`socialgan.loading`: a missing, corrupt or mismatched file raises
:class:`~socialgan.errors.DataError` naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors.torch import load_file

from socialgan.engine.checkpoint import atomic_write_bytes, atomic_write_json, save_tensors
from socialgan.engine.utils import select_device
from socialgan.errors import DataError
from socialgan.loading import CONFIG_FILE, MODEL_FILE, read_config, read_safetensors
from socialgan.text.generate.card import generator_card
from socialgan.text.generate.tokenizer import TextTokenizer

if TYPE_CHECKING:
    from socialgan.text.generate.mle import MLETextGenerator

__all__ = [
    "FORMAT_VERSION",
    "MODEL_TYPE",
    "TOKENIZER_FILE",
    "generator_config",
    "load_generator",
    "save_generator",
]

# "textgen", not "text.": text generators are not opened by load_text_detector
MODEL_TYPE = "socialgan.textgen.MLETextGenerator"
TOKENIZER_FILE = "tokenizer.json"
FORMAT_VERSION = 1


def generator_config(gen: MLETextGenerator) -> dict[str, Any]:
    """What ``config.json`` holds: settings, vocabulary size, labels, data and metrics."""
    tok = gen.tokenizer
    return {
        "model_type": gen.model_type,
        "format_version": FORMAT_VERSION,
        "params": gen.get_params(),
        "vocab_size": tok.vocab_size if tok is not None else None,
        "label_names": gen.label_names,
        "label_counts": gen.label_counts,
        "data": gen.data_info,
        "metrics": gen.metrics,
    }


def save_generator(
    gen: MLETextGenerator,
    directory: str | Path,
    *,
    title: str | None = None,
    card_lines: Sequence[str] = (),
) -> Path:
    """Write the four files of ``gen`` into ``directory`` (each atomically); ``title`` and
    ``card_lines`` (added under the card's Model section) describe another kind of training."""
    tok, net = gen._fitted()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = generator_config(gen)
    atomic_write_bytes(directory / MODEL_FILE, save_tensors(net.state_dict()))
    atomic_write_bytes(directory / TOKENIZER_FILE, tok.to_json().encode())
    atomic_write_json(directory / CONFIG_FILE, config)
    title = title or f"socialgan MLE text generator ({gen.params['model']})"
    card = generator_card(title, config, card_lines)
    atomic_write_bytes(directory / "README.md", card.encode())
    return directory


def restore_vocabulary(
    gen: Any, directory: Path, cfg: dict[str, Any], cfg_path: Path
) -> TextTokenizer:
    """Read ``tokenizer.json`` of a saved generator, check its class tokens against
    ``config.json`` and set ``gen``'s tokenizer, labels, label counts, data and metrics."""
    tok_path = directory / TOKENIZER_FILE
    if not tok_path.is_file():
        raise DataError(f"{tok_path}: missing; the model folder needs its tokenizer")
    tok = TextTokenizer.from_json(tok_path.read_text(encoding="utf-8"), where=str(tok_path))
    names = [str(n) for n in cfg.get("label_names") or []]
    if names != tok.label_names:
        raise DataError(f"{tok_path}: labels {tok.label_names} differ from {cfg_path}'s {names}")
    gen.tokenizer, gen.label_names = tok, names
    gen.label_counts = [int(c) for c in cfg.get("label_counts") or [1] * len(names)]
    gen.data_info, gen.metrics = cfg.get("data") or {}, cfg.get("metrics") or {}
    return tok


def load_generator(
    cls: type[MLETextGenerator], directory: str | Path, device: str = "cpu"
) -> MLETextGenerator:
    """The generator saved in ``directory``, on ``device``, in eval mode (a folder of another
    model type than ``cls.model_type`` is refused)."""
    directory = Path(directory)
    cfg = read_config(directory, expect=cls.model_type)
    cfg_path = directory / CONFIG_FILE
    if not isinstance(cfg.get("params"), dict):
        raise DataError(f"{cfg_path}: expected a 'params' mapping of settings")
    try:
        gen = cls(**{**cfg["params"], "device": device}, progress=False)
    except (DataError, TypeError) as e:
        raise DataError(f"{cfg_path}: {e}") from None
    tok = restore_vocabulary(gen, directory, cfg, cfg_path)
    net = gen._build(tok.vocab_size)
    weights = read_safetensors(directory / MODEL_FILE, load_file)
    try:
        net.load_state_dict(weights)
    except RuntimeError as e:
        detail = " ".join(str(e).split())[:200]
        raise DataError(
            f"{directory / MODEL_FILE}: the weights do not fit the net {cfg_path.name} "
            f"describes ({detail}); were the files saved together?"
        ) from None
    gen.net = net.to(select_device(device)).eval()
    return gen
