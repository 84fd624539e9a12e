"""The folder of a saved ImageGAN: ``config.json``, ``model.safetensors`` and a model card.

Only JSON and safetensors are read (never a pickle), through the checked readers of
:mod:`socialgan.loading`; a missing, corrupt or mismatched file raises
:class:`~socialgan.errors.DataError` naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors.torch import load_file
from torch import Tensor, nn

from ..errors import DataError
from ..loading import CONFIG_FILE, MODEL_FILE, read_safetensors
from ..loading import read_config as read_model_config
from .model_card import model_card as card

if TYPE_CHECKING:
    from .gan import ImageGAN

__all__ = ["CONFIG_FILE", "MODEL_FILE", "MODEL_TYPE", "load_states", "model_card", "read_config"]

MODEL_TYPE = "socialgan.ImageGAN"


def read_config(directory: Path) -> dict[str, Any]:
    """The ``config.json`` of a saved ImageGAN, with its ``net`` and ``train`` sections checked."""
    cfg = read_model_config(directory, expect=MODEL_TYPE)
    for key in ("net", "train"):
        if not isinstance(cfg.get(key), dict):
            raise DataError(f"{directory / CONFIG_FILE}: expected a {key!r} mapping of settings")
    return cfg


def state_mismatch(expected: dict[str, Tensor], got: dict[str, Tensor], prefix: str) -> str:
    """What keeps ``got`` from loading into a module whose state is ``expected`` ('' = fits)."""

    def listed(keys: list[str]) -> str:
        more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
        return ", ".join(f"{prefix}.{k}" for k in keys[:3]) + more

    missing = sorted(set(expected) - set(got))
    if missing:
        return f"no tensor {listed(missing)}"
    unexpected = sorted(set(got) - set(expected))
    if unexpected:
        return f"unexpected tensor {listed(unexpected)}"
    for key, value in expected.items():
        if tuple(got[key].shape) != tuple(value.shape):
            return (
                f"{prefix}.{key} has shape {tuple(got[key].shape)} in the file, "
                f"{tuple(value.shape)} in the nets"
            )
    return ""


def load_states(
    modules: list[tuple[str, nn.Module]], model_path: Path, cfg_path: Path, device: str
) -> None:
    """Load the ``PREFIX.*`` tensors of ``model_path`` into each ``(PREFIX, module)``."""
    tensors = read_safetensors(model_path, lambda path: load_file(path, device=device))
    for prefix, module in modules:
        head = prefix + "."
        state = {k[len(head) :]: v for k, v in tensors.items() if k.startswith(head)}
        problem = state_mismatch(module.state_dict(), state, prefix)
        if problem:
            raise DataError(
                f"{model_path}: the weights do not fit the nets that {cfg_path.name} "
                f"describes ({problem}); were the two files saved together?"
            )
        module.load_state_dict(state)


#: The Intended use and limits section of a saved ImageGAN's card.
GAN_USE = (
    "Research and testing of moderation pipelines (synthetic training data, detector",
    "stress tests). Small CPU-trained model: samples are low-resolution and imperfect.",
    "Do not use generated images to deceive people.",
)


def model_card(gan: ImageGAN) -> str:
    """The ``README.md`` of a saved model: nets, data, training, metrics, intended use."""
    cfg, data, train = gan.net_config, gan.data_info, gan.train_config
    about = [
        f"- Architecture: `{cfg['arch']}`, "
        f"{cfg['img_size']}x{cfg['img_size']}x{cfg['channels']},"
        f" z_dim {cfg['z_dim']}, conditional: {bool(cfg['num_classes'])},"
        f" spectral norm: {cfg['spectral_norm']}"
        + (
            f", width {cfg['width']}, {cfg['upsample']} upsampling, depth {cfg['depth']}"
            if cfg["arch"] == "dcgan"
            else ""
        ),
        f"- Training data: {data.get('name', '?')} ({data.get('n', '?')} images)",
        f"- Loss: {train.loss}, steps: {train.steps},"
        f" batch size: {train.batch_size}, seed: {train.seed}",
    ]
    return card(
        f"socialgan ImageGAN ({cfg['arch']})",
        about,
        gan.metrics,
        GAN_USE,
        no_metrics="- none recorded (run `socialgan image evaluate`)",
    )
