"""Open any saved socialgan model by the ``model_type`` in its ``config.json``.

:func:`load` reads the folder's ``config.json``, looks its ``model_type`` up in
:data:`MODEL_TYPES` and hands the folder to that class's ``from_pretrained``. Everything a
user can get wrong becomes a :class:`~socialgan.errors.DataError` naming the file: a folder
without ``config.json``, a config that is not JSON, a missing or unknown ``model_type`` (the
message lists the known ones), a model of another family than the caller wants (a text
model given to the image CLI), a missing or truncated ``model.safetensors``, weights whose
shapes do not fit the config. The checked readers :func:`read_config` and
:func:`read_safetensors` serve the classes' own ``from_pretrained`` too.

New model families register one line per class: ``register("socialgan.tabular.BotDetector",
"socialgan.tabular.bots:BotDetector")`` (or a line in :data:`MODEL_TYPES`); classes are
imported only when a folder of theirs is opened.

Example:
    >>> import socialgan
    >>> det = socialgan.load("models/spam")  # doctest: +SKIP
    >>> det.predict(["check out my channel"])  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import importlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from socialgan.errors import DataError

__all__ = [
    "CONFIG_FILE",
    "MODEL_FILE",
    "MODEL_TYPES",
    "WRAPPER_FILES",
    "known_model_types",
    "load",
    "model_class",
    "model_type_of",
    "read_config",
    "read_safetensors",
    "register",
    "weights_must_fit",
]

CONFIG_FILE = "config.json"
MODEL_FILE = "model.safetensors"

#: ``model_type`` -> ``"module:Class"`` whose ``from_pretrained(dir)`` opens such a folder.
MODEL_TYPES: dict[str, str] = {
    "socialgan.ImageGAN": "socialgan.image.gan:ImageGAN",
    "socialgan.image.CNNDetector": "socialgan.image.detect.cnn:CNNDetector",
    "socialgan.image.DiscriminatorDetector": (
        "socialgan.image.detect.discriminator:DiscriminatorDetector"
    ),
    "socialgan.image.SpectralDetector": "socialgan.image.detect.spectral:SpectralDetector",
    "socialgan.recsys.ALS": "socialgan.recsys.models.factorization:ALS",
    "socialgan.recsys.BPR": "socialgan.recsys.models.factorization:BPR",
    "socialgan.recsys.CFGAN": "socialgan.recsys.models.cfgan:CFGAN",
    "socialgan.recsys.EASE": "socialgan.recsys.models.ease:EASE",
    "socialgan.recsys.IRGAN": "socialgan.recsys.models.irgan:IRGAN",
    "socialgan.recsys.ItemKNN": "socialgan.recsys.models.neighbors:ItemKNN",
    "socialgan.recsys.LightGCN": "socialgan.recsys.models.lightgcn:LightGCN",
    "socialgan.recsys.PureSVD": "socialgan.recsys.models.svd:PureSVD",
    "socialgan.recsys.RP3beta": "socialgan.recsys.models.neighbors:RP3beta",
    "socialgan.recsys.SocialEASE": "socialgan.recsys.models.social:SocialEASE",
    "socialgan.recsys.SocialItemKNN": "socialgan.recsys.models.social:SocialItemKNN",
    "socialgan.recsys.SocialLightGCN": "socialgan.recsys.models.social_lightgcn:SocialLightGCN",
    "socialgan.recsys.TopPop": "socialgan.recsys.models.neighbors:TopPop",
    "socialgan.recsys.WeightedEASE": "socialgan.recsys.models.ease:WeightedEASE",
    "socialgan.tabular.AccountDetector": "socialgan.tabular.detect:AccountDetector",
    "socialgan.tabular.TabularGAN": "socialgan.tabular.gan:TabularGAN",
    "socialgan.text.CharCNNDetector": "socialgan.text.detect.neural:CharCNNDetector",
    "socialgan.textgen.MLETextGenerator": "socialgan.text.generate.mle:MLETextGenerator",
    "socialgan.textgen.RelGANTextGenerator": "socialgan.text.generate.relgan:RelGANTextGenerator",
    "socialgan.textgen.SeqGANTextGenerator": "socialgan.text.generate.seqgan:SeqGANTextGenerator",
    "socialgan.text.MiniLMDetector": "socialgan.text.detect.finetuned:MiniLMDetector",
    "socialgan.text.NormalizingDetector": "socialgan.text.attack.hardening:NormalizingDetector",
    "socialgan.text.SSGANDetector": "socialgan.text.detect.ssgan:SSGANDetector",
    "socialgan.text.StackedDetector": "socialgan.text.detect.stacked:StackedDetector",
    "socialgan.text.TfidfDetector": "socialgan.text.detect.classic:TfidfDetector",
}
#: A folder holding one of these files wraps the model of its ``config.json``; it opens as
#: the wrapper's model type (a hardened text detector: its detector + ``normalization.json``).
WRAPPER_FILES: dict[str, str] = {"normalization.json": "socialgan.text.NormalizingDetector"}
#: Image detectors saved before each class had its own model type wrote
#: ``model_type: "socialgan.ImageDetector"`` and a ``kind``.
_LEGACY_IMAGE_TYPE = "socialgan.ImageDetector"
_LEGACY_IMAGE_KINDS = {
    "cnn": "socialgan.image.CNNDetector",
    "discriminator": "socialgan.image.DiscriminatorDetector",
    "spectral": "socialgan.image.SpectralDetector",
}
_T = TypeVar("_T")


def register(model_type: str, target: str) -> None:
    """Make :func:`load` open folders of ``model_type`` with ``target`` (``"module:Class"``,
    imported on first use). Registering a type again with another target is an error."""
    if ":" not in target:
        raise ValueError(f"target must be 'module:Class', got {target!r}")
    if MODEL_TYPES.get(model_type, target) != target:
        raise ValueError(f"model_type {model_type!r} is already {MODEL_TYPES[model_type]!r}")
    MODEL_TYPES[model_type] = target


def known_model_types(family: str | None = None) -> list[str]:
    """The registered model types (those of a ``family`` prefix such as ``"socialgan.text."``)."""
    return sorted(t for t in MODEL_TYPES if family is None or t.startswith(family))


def model_type_of(config: Any) -> str | None:
    """The model type a config names: its ``model_type``, or what configs written before
    that key said (text detectors: ``format``; image detectors: a ``kind`` under the shared
    ``socialgan.ImageDetector``). ``None`` when there is none."""
    if not isinstance(config, dict):
        return None
    found = config.get("model_type")
    if found == _LEGACY_IMAGE_TYPE:
        return _LEGACY_IMAGE_KINDS.get(str(config.get("kind")), found)
    if found is None and str(config.get("format", "")).startswith("socialgan."):
        found = config["format"]
    return found if isinstance(found, str) else None


def _wanted(model_type: str, expect: str | None) -> bool:
    """``expect``: an exact model type, or a family prefix ending in ``.``; ``None``: any."""
    if expect is None:
        return True
    return model_type == expect or (expect.endswith(".") and model_type.startswith(expect))


def _known(expect: str | None) -> str:
    family = expect if expect is not None and expect.endswith(".") else None
    return ", ".join(known_model_types(family))


def read_config(directory: str | Path, expect: str | None = None) -> dict[str, Any]:
    """The checked ``config.json`` of a model folder, with ``model_type`` filled in for
    configs written before that key.

    ``expect`` is the model type the caller can open (``"socialgan.text.TfidfDetector"``)
    or a family prefix (``"socialgan.text."``); a folder of another registered type, an
    unknown type or none at all raise ``DataError`` naming the file and the known types.
    """
    directory = Path(directory)
    cfg_path = directory / CONFIG_FILE
    if not directory.is_dir():
        raise DataError(f"{directory}: no such model folder")
    if not cfg_path.is_file():
        raise DataError(
            f"{directory}: not a saved socialgan model ({CONFIG_FILE} missing); "
            f"known model types: {_known(expect)}"
        )
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{cfg_path}: not valid JSON ({e})") from None
    if not isinstance(config, dict):
        raise DataError(f"{cfg_path}: expected a JSON object, found {type(config).__name__}")
    model_type = model_type_of(config)
    if model_type is None:
        raise DataError(
            f"{cfg_path}: no model_type, so {directory} is not a saved socialgan model; "
            f"known model types: {_known(expect)}"
        )
    if model_type not in MODEL_TYPES:
        raise DataError(f"{cfg_path}: unknown model_type {model_type!r}; known: {_known(expect)}")
    if not _wanted(model_type, expect):
        family = f"{expect}*" if str(expect).endswith(".") else expect
        raise DataError(
            f"{cfg_path}: holds a {model_type}, not a {family} model "
            f"(known: {_known(expect)}); socialgan.load opens any saved model"
        )
    return {**config, "model_type": model_type}


def read_safetensors(path: Path, load_file: Callable[[str], dict[str, _T]]) -> dict[str, _T]:
    """The tensors of ``path`` read by ``load_file`` (safetensors' numpy or torch one);
    ``DataError`` naming the file when it is missing, truncated or not safetensors."""
    if not path.is_file():
        raise DataError(f"{path}: missing; the model folder needs its weights")
    try:
        return load_file(str(path))
    except Exception as e:  # safetensors raises SafetensorError, OSError or its own types
        raise DataError(f"{path}: cannot read safetensors ({e})") from None


@contextlib.contextmanager
def weights_must_fit(weights: Path) -> Iterator[None]:
    """Turn the errors of weights that do not fit their config (``load_state_dict``'s shape
    ``RuntimeError``, a missing tensor's ``KeyError`` ...) into a ``DataError`` naming
    ``weights``; ``DataError`` passes unchanged."""
    try:
        yield
    except DataError:
        raise
    except (RuntimeError, KeyError, TypeError, ValueError, IndexError) as e:
        raise DataError(
            f"{weights}: the weights do not fit {weights.parent / CONFIG_FILE} "
            f"({type(e).__name__}: {e}); were the two files saved together?"
        ) from None


def model_class(model_type: str) -> type[Any]:
    """The class registered for ``model_type`` (imported now)."""
    try:
        module, name = MODEL_TYPES[model_type].split(":")
    except KeyError:
        raise DataError(f"unknown model_type {model_type!r}; known: {_known(None)}") from None
    cls: type[Any] = getattr(importlib.import_module(module), name)
    return cls


def load(directory: str | Path, *, expect: str | None = None) -> Any:
    """Open the model saved in ``directory`` (any registered model type).

    Args:
        directory: a folder written by a ``save_pretrained``.
        expect: only open a model of this type or family prefix (``"socialgan.image."``);
            another one raises ``DataError`` saying what the folder holds.

    Returns:
        The model, as its class's ``from_pretrained`` gives it.
    """
    directory = Path(directory)
    model_type = read_config(directory, expect)["model_type"]
    for marker, wrapper in WRAPPER_FILES.items():
        if (directory / marker).is_file() and _wanted(wrapper, expect):
            model_type = wrapper
    cls = model_class(model_type)
    with weights_must_fit(directory / MODEL_FILE):
        return cls.from_pretrained(directory)
