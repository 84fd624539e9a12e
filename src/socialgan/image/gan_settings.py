"""The settings of an :class:`~socialgan.image.ImageGAN`: defaults, checks, old saved models.

The default nets are the recipe that ``benchmarks/image_quality.py`` measures (README,
"Image quality"): DCGAN width 32, nearest-neighbour upsampling + 3x3 convolution in G, one
extra 3x3 convolution per resolution in G and D. Models saved before a setting was
recorded in their ``config.json`` were built with :data:`LEGACY_NET`, and load with it.
"""

from __future__ import annotations

from typing import Any

from ..checks import OptionError, check_bool, check_choice, check_int, check_str
from ..errors import DataError
from .nets import ARCHS, DCGAN_SIZES, UPSAMPLE_MODES

__all__ = [
    "DEFAULT_DEPTH",
    "DEFAULT_UPSAMPLE",
    "DEFAULT_WIDTH",
    "LEGACY_NET",
    "NET_KEYS",
    "check_net_settings",
    "check_run_settings",
    "saved_net_settings",
]

DEFAULT_WIDTH = 32
DEFAULT_UPSAMPLE = "nearest"
DEFAULT_DEPTH = 1

LEGACY_NET: dict[str, Any] = {"width": 64, "upsample": "transposed", "depth": 0}
"""The net settings of models saved before ``width``, ``upsample`` and ``depth`` were saved."""

NET_KEYS: tuple[str, ...] = (
    "arch",
    "img_size",
    "channels",
    "z_dim",
    "num_classes",
    "conditional",
    "spectral_norm",
    "width",
    "upsample",
    "depth",
)
"""The keys of ``config.json["net"]`` (the constructor's net arguments plus ``num_classes``)."""


def check_net_settings(net: dict[str, Any]) -> dict[str, Any]:
    """Check the net arguments of ``ImageGAN`` (types, ranges, known names); normalised copy."""
    out = dict(net)
    out["arch"] = check_choice("arch", net["arch"], ARCHS)
    size = check_int("img_size", net["img_size"], minimum=1, optional=True)
    if out["arch"] == "dcgan" and size is not None and size not in DCGAN_SIZES:
        sizes = ", ".join(str(s) for s in DCGAN_SIZES)
        raise OptionError("img_size", f"one of {sizes} for the dcgan nets", size)
    out["img_size"] = size
    out["channels"] = check_int("channels", net["channels"], minimum=1, optional=True)
    out["z_dim"] = check_int("z_dim", net["z_dim"], minimum=1)
    out["conditional"] = check_bool("conditional", net["conditional"])
    out["spectral_norm"] = check_bool("spectral_norm", net["spectral_norm"])
    out["width"] = check_int("width", net["width"], minimum=1)
    out["upsample"] = check_choice("upsample", net["upsample"], UPSAMPLE_MODES)
    out["depth"] = check_int("depth", net["depth"], minimum=0)
    return out


def check_run_settings(
    sample_every: Any, eval_every: Any, eval_samples: Any, extractor: Any, progress: Any
) -> tuple[int, int, int, str, bool | None]:
    """Check the run arguments of ``ImageGAN`` (what it writes and evaluates while training)."""
    return (
        check_int("sample_every", sample_every, minimum=0),
        check_int("eval_every", eval_every, minimum=0),
        check_int("eval_samples", eval_samples, minimum=2),
        check_str("extractor", extractor, empty=False),
        None if progress is None else check_bool("progress", progress),
    )


def saved_net_settings(net: Any, where: str) -> dict[str, Any]:
    """The net settings of a saved ``config.json["net"]``, old models' defaults filled in."""
    if not isinstance(net, dict):
        raise DataError(f"{where}: 'net' must be a mapping of net settings, got {net!r}")
    unknown = sorted(set(net) - set(NET_KEYS))
    if unknown:
        raise DataError(f"{where}: unknown net setting(s) {', '.join(unknown)}")
    missing = sorted({"arch", "img_size", "channels", "z_dim", "num_classes"} - set(net))
    if missing:
        raise DataError(f"{where}: the net settings lack {', '.join(missing)}")
    out = {"conditional": False, "spectral_norm": False, **LEGACY_NET, **net}
    out["num_classes"] = check_int("num_classes", out["num_classes"], minimum=0)
    return out
