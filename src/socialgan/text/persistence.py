"""Save and load text detectors as ``config.json`` + ``model.safetensors`` + ``README.md``.

No pickles: vocabularies, label names and settings are JSON; idf vectors, linear
coefficients, calibration sigmoids and feature scalings are float64 safetensors. Loading
rebuilds the scikit-learn vectorizers from vocabulary + idf and scores with numpy.
:func:`read_pretrained`, the checked reading of such a folder, serves the PyTorch
detectors too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from socialgan.errors import DataError
from socialgan.text.features import (
    MetaEncoder,
    StyleEncoder,
    restore_vectorizer,
    vectorizer_state,
)
from socialgan.text.linear_head import LinearHead
from socialgan.text.model_card import write_model_card

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "json_params",
    "load_detector",
    "read_pretrained",
    "save_detector",
]

FORMAT = "socialgan.text.TfidfDetector"
FORMAT_VERSION = 1
_TUPLE_PARAMS = ("word_ngrams", "char_ngrams", "style_weight")
_T = TypeVar("_T")


def json_params(det: Any) -> dict[str, Any]:
    """``det.get_params()`` with tuples and arrays as JSON lists."""
    params = det.get_params()
    for key in ("C", "style_weight"):
        if np.ndim(params[key]):
            params[key] = [float(v) for v in params[key]]
    for key in ("word_ngrams", "char_ngrams", "meta_columns", "positive_labels"):
        if params[key] is not None:
            params[key] = list(params[key])
    return params


def save_detector(
    det: Any,
    directory: str | Path,
    *,
    metrics: dict[str, Any] | None = None,
    data: str | None = None,
    category: str | None = None,
    name: str | None = None,
) -> Path:
    """Write a fitted ``TfidfDetector`` to ``directory`` (created if needed)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = det.head_.arrays()
    vocabularies, settings = {}, {}
    for key, vec in det.vectorizers_.items():
        vocabularies[key], arrays[f"idf.{key}"] = vectorizer_state(vec)
        ngrams = det.word_ngrams if key == "word" else det.char_ngrams
        settings[key] = det._vectorizer_settings(ngrams, vec.analyzer)
    if det.style_encoder_ is not None:
        arrays.update(det.style_encoder_.arrays())
    meta_config = None
    if det.meta_encoder_ is not None:
        meta_config, meta_arrays = det.meta_encoder_.state()
        arrays.update(meta_arrays)
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name or "-".join(filter(None, ("socialgan-tfidf", det.model, category))),
        "category": category,
        "params": json_params(det),
        "classes": det.classes_.tolist(),
        "label_names": det.label_names_,
        "head": {"kind": det.head_.kind, "n_classes": det.head_.n_classes},
        "n_features": int(det.n_features_),
        "selected": {"C": det.C_, "style_weight": det.style_weight_},
        "selection_scores": det.selection_scores_,
        "vectorizers": settings,
        "vocabularies": vocabularies,
        "meta_encoder": meta_config,
        "data": data,
        "metrics": metrics or {},
    }
    save_file(
        {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in arrays.items()},
        str(directory / "model.safetensors"),
    )
    (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
    write_model_card(directory / "README.md", config)
    return directory


def read_pretrained(
    directory: Path,
    what: str,
    fmt: str,
    version: int,
    load_tensors: Callable[[str], dict[str, _T]],
) -> tuple[dict[str, Any], dict[str, _T]]:
    """``(config, tensors)`` of a saved detector folder, as ``DataError``s a user can act on:
    a missing file, invalid JSON, another ``format`` than ``fmt``, a ``format_version``
    newer than ``version``, unreadable safetensors. ``what`` names the detector class in
    the message; ``load_tensors`` is safetensors' numpy or torch ``load_file``."""
    cfg_path, weights = directory / "config.json", directory / "model.safetensors"
    for path in (cfg_path, weights):
        if not path.is_file():
            raise DataError(f"{directory}: not a saved {what} ({path.name} missing)")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{cfg_path}: not valid JSON ({e})") from None
    found = config.get("format") if isinstance(config, dict) else None
    if found != fmt:
        raise DataError(f"{cfg_path}: not a {fmt} config (format={found!r})")
    if config.get("format_version", 0) > version:
        raise DataError(
            f"{cfg_path}: format version {config['format_version']} is newer than this "
            f"socialgan reads ({version}); upgrade socialgan"
        )
    try:
        tensors = load_tensors(str(weights))
    except (SafetensorError, OSError) as e:
        raise DataError(f"{weights}: cannot read safetensors ({e})") from None
    return config, tensors


def load_detector(cls: type, directory: str | Path) -> Any:
    """Rebuild a ``cls`` (``TfidfDetector``) saved by :func:`save_detector`."""
    directory = Path(directory)
    config, arrays = read_pretrained(directory, "TfidfDetector", FORMAT, FORMAT_VERSION, load_file)
    try:
        params = dict(config["params"])
        for key in _TUPLE_PARAMS:
            if isinstance(params.get(key), list):
                params[key] = tuple(params[key])
        det = cls(**params)
        det.classes_ = np.asarray(config["classes"])
        det.label_names_ = list(config["label_names"])
        det.vectorizers_ = {
            key: restore_vectorizer(settings, config["vocabularies"][key], arrays[f"idf.{key}"])
            for key, settings in config["vectorizers"].items()
        }
        det.style_encoder_ = StyleEncoder.from_arrays(arrays) if "style.mean" in arrays else None
        det.meta_encoder_ = None
        if config.get("meta_encoder"):
            det.meta_encoder_ = MetaEncoder.from_state(config["meta_encoder"], arrays)
        det.head_ = LinearHead.from_arrays(
            config["head"]["kind"], config["head"]["n_classes"], arrays
        )
        det.n_features_ = int(config["n_features"])
        det.C_ = float(config["selected"]["C"])
        det.style_weight_ = float(config["selected"]["style_weight"])
        det.selection_scores_ = dict(config.get("selection_scores") or {})
    except (KeyError, TypeError, ValueError) as e:
        raise DataError(f"{directory}: incomplete or inconsistent saved detector ({e})") from None
    if det.head_.n_features != det.n_features_:
        raise DataError(f"{directory}: coefficients do not match {det.n_features_} features")
    det.estimator_ = None
    det.name_ = config.get("name")
    det.category_ = config.get("category")
    det.metrics_ = config.get("metrics", {})
    return det
