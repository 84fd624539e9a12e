"""Save and load ``AccountDetector`` folders, and their model card.

A folder holds ``config.json`` (``model_type``, the hyperparameters, ``classes``,
``threshold``, the features' JSON state, data, metrics), a ``README.md`` model card and the
classifier:

- gbm: ``lightgbm.txt``, LightGBM's own text model format (``Booster.model_to_string``),
  read back with ``lightgbm.Booster(model_str=...)``: a parser of tree definitions, not a
  pickle, so a folder from someone else cannot run code when it is opened;
- mlp: ``model.safetensors`` with the net's weights and the standardization
  (``standardize.mean`` / ``standardize.std``).

Whatever is wrong with a folder is a :class:`~socialgan.errors.DataError` naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from socialgan.detector import check_threshold
from socialgan.errors import DataError
from socialgan.loading import (
    CONFIG_FILE,
    MODEL_FILE,
    read_config,
    read_safetensors,
    weights_must_fit,
)
from socialgan.tabular.detect_mlp import AccountMLP
from socialgan.tabular.features import AccountFeatures
from socialgan.text.detect.model_card import metrics_section

__all__ = [
    "FORMAT_VERSION",
    "LIGHTGBM_FILE",
    "lightgbm_module",
    "load_detector",
    "save_detector",
    "write_card",
]

FORMAT_VERSION = 1
LIGHTGBM_FILE = "lightgbm.txt"
_TUPLES = ("exclude", "hidden_sizes")
_MEAN, _STD = "standardize.mean", "standardize.std"


def lightgbm_module() -> Any:
    """The ``lightgbm`` package; ``DataError`` with the install line when it is missing."""
    try:
        import lightgbm
    except ImportError:
        raise DataError(
            "AccountDetector(model='gbm') needs LightGBM: pip install 'socialgan[tabular]' "
            "(or use model='mlp')"
        ) from None
    return lightgbm


def _plain(value: Any) -> Any:
    """NumPy scalars and tuples as JSON values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def save_detector(
    det: Any,
    directory: Path,
    *,
    metrics: dict[str, Any] | None,
    data: str | None,
    name: str | None,
) -> Path:
    """Write a fitted ``AccountDetector`` to ``directory`` (created if needed)."""
    directory.mkdir(parents=True, exist_ok=True)
    metrics = dict(metrics if metrics is not None else getattr(det, "metrics_", {}) or {})
    config: dict[str, Any] = {
        "model_type": det.model_type,
        "format_version": FORMAT_VERSION,
        "name": name or det.name_,
        "category": "bot",
        "params": _plain(det.get_params()),
        "classes": _plain(list(det.classes_)),
        "threshold": float(det.threshold),
        "calibration": getattr(det, "calibration_", None),
        "data": data,
        "metrics": _plain(metrics),
        "features": det.features_.to_dict(),
    }
    if det.model == "gbm":
        config["model_file"] = LIGHTGBM_FILE
        (directory / LIGHTGBM_FILE).write_text(det.booster_.model_to_string(), encoding="utf-8")
    else:
        config["model_file"] = MODEL_FILE
        config["training"] = _plain(det.training_)
        tensors = {k: v.detach().contiguous() for k, v in det.net_.state_dict().items()}
        tensors[_MEAN] = torch.as_tensor(det.mean_, dtype=torch.float64)
        tensors[_STD] = torch.as_tensor(det.std_, dtype=torch.float64)
        save_file(tensors, str(directory / MODEL_FILE))
    (directory / CONFIG_FILE).write_text(json.dumps(config), encoding="utf-8")
    write_card(directory / "README.md", config)
    return directory


def load_detector(cls: type, directory: Path) -> Any:
    """Rebuild the ``cls`` (``AccountDetector``) saved in ``directory``."""
    config = read_config(directory, cls.model_type)  # type: ignore[attr-defined]
    cfg_path = directory / CONFIG_FILE
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise DataError(
            f"{cfg_path}: format version {config['format_version']} is newer than this "
            f"socialgan reads ({FORMAT_VERSION}); upgrade socialgan"
        )
    try:
        params = dict(config["params"])
        for key in _TUPLES:
            if isinstance(params.get(key), list):
                params[key] = tuple(params[key])
        det = cls(**params)
        det._check_params()
        det.classes_ = np.asarray(config["classes"])
        det.threshold = check_threshold(config["threshold"])
        det.name_ = config.get("name") or f"socialgan-accounts-{det.model}"
        det.metrics_ = dict(config.get("metrics") or {})
        if config.get("calibration"):
            det.calibration_ = dict(config["calibration"])
        features = AccountFeatures.from_dict(config["features"])
    except DataError as e:
        raise DataError(f"{cfg_path}: {e}") from None
    except (KeyError, TypeError, ValueError) as e:
        raise DataError(f"{cfg_path}: incomplete or inconsistent saved detector ({e})") from None
    det.features_ = features
    if det.model == "gbm":
        det.booster_ = _read_booster(directory / LIGHTGBM_FILE, features.n_features_)
    else:
        _read_mlp(det, directory / MODEL_FILE, features.n_features_)
    return det


def _read_booster(path: Path, n_features: int) -> Any:
    lightgbm = lightgbm_module()
    if not path.is_file():
        raise DataError(f"{path}: missing; the model folder needs its LightGBM model")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not a LightGBM text model ({e})") from None
    if not text.startswith("tree\n") or "end of trees" not in text:  # truncated, or other
        raise DataError(f"{path}: not a complete LightGBM text model")
    try:
        booster = lightgbm.Booster(model_str=text)
    except (lightgbm.basic.LightGBMError, ValueError) as e:
        raise DataError(f"{path}: not a LightGBM text model ({e})") from None
    if booster.num_feature() != n_features:
        raise DataError(
            f"{path}: the model reads {booster.num_feature()} features, "
            f"{path.parent / CONFIG_FILE} describes {n_features}; were they saved together?"
        )
    return booster


def _read_mlp(det: Any, path: Path, n_features: int) -> None:
    tensors = read_safetensors(path, load_file)
    with weights_must_fit(path):
        mean, std = tensors.pop(_MEAN), tensors.pop(_STD)
        if mean.shape != (n_features,) or std.shape != (n_features,):
            raise ValueError(f"standardization of {tuple(mean.shape)} features, not {n_features}")
        net = AccountMLP(n_features, [int(h) for h in det.hidden_sizes], det.dropout)
        net.load_state_dict(tensors, strict=True)
    net.eval()
    det.net_, det.mean_, det.std_ = net, mean.numpy(), std.numpy()
    det.training_ = {}


def write_card(path: Path, config: dict[str, Any]) -> Path:
    """The ``README.md`` of a saved account detector (``config`` as in ``config.json``)."""
    params = config["params"]
    state = config["features"]["state"]
    if params["model"] == "gbm":
        model = (
            f"LightGBM gradient-boosted trees ({params['n_estimators']} trees, "
            f"{params['num_leaves']} leaves, learning rate {params['learning_rate']:g}), "
            f"saved as `{LIGHTGBM_FILE}` (LightGBM's text model format; never a pickle)."
        )
    else:
        model = (
            f"PyTorch MLP (hidden {params['hidden_sizes']}, dropout {params['dropout']:g}) on "
            "standardized features, early-stopped on a validation split; `model.safetensors`."
        )
    used = AccountFeatures.from_dict(config["features"]).columns_
    lines = [
        f"# {config['name']}",
        "",
        f"Fake-account / bot detector from `socialgan` ({config['model_type']}). Category: "
        f"`bot` (label `{params['label_column']}` = {params['positive_label']!r}); flagged at "
        f"p(bot) >= {config['threshold']:.4g}"
        + (f"; class weights: {params['class_weight']}." if params["class_weight"] else "."),
        "",
        "## Model",
        model,
        "",
        "## Features",
        f"{len(state['feature_names']):,} features from the columns: {', '.join(used)}. "
        "Counts are log-scaled; account age in days at the newest date of the training "
        "table; follower / activity ratios; screen-name patterns; profile and status text "
        f"(hashed TF-IDF, {state['hash_features']} columns); one-hot categories.",
        "",
        "## Data",
        config.get("data") or "Not recorded.",
        "",
        "## Metrics",
    ]
    lines += metrics_section(config.get("metrics"))
    lines += [
        "",
        "## Intended use",
        "Ranking accounts for review in a trust-and-safety queue, with a human in the loop, "
        "on account tables like the training one. Load it with `socialgan.load(dir)` or "
        "`socialgan.tabular.AccountDetector.from_pretrained(dir)`; score a file with "
        "`socialgan accounts detect DIR accounts.jsonl`.",
        "",
        "## Limits",
        "- It scores profile metadata: an operator who sets counts, names and descriptions "
        "to look human (or generates them, for example with a tabular GAN) can pass.\n"
        "- Account age is measured from the newest account of the training table; on data "
        "collected much later the age features shift.\n"
        "- Probabilities are not calibrated to your traffic's base rate; set the threshold "
        "on held-out genuine accounts (`calibrate_threshold`).\n"
        "- Trained on a small public research table: not a substitute for human review.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
