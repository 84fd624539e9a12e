"""Save and load text detectors as ``config.json`` + ``model.safetensors`` + ``README.md``.

No pickles: vocabularies, label names and settings are JSON; idf vectors, linear
coefficients, calibration sigmoids and feature scalings are float64 safetensors. Loading
rebuilds the scikit-learn vectorizers from vocabulary + idf and scores with numpy.

Every text detector's ``config.json`` starts with the same fields (:func:`detector_config`,
read back by :func:`restore_common`): ``model_type`` (the key of :func:`socialgan.load`),
``format_version``, ``name``, ``category``, ``params``, ``classes``, ``label_names``,
``threshold``, ``data`` and ``metrics``. :func:`read_pretrained`, the checked reading of such
a folder, serves every text detector, and :class:`SavesPretrained` gives them one
``save_pretrained``.

Format versions: 1 (up to socialgan 0.1.0) named the class in ``format`` and stored no
threshold; it still loads, with the threshold 0.5 that predicted then. 2 writes
``model_type`` and ``threshold``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from safetensors.numpy import load_file, save_file

from socialgan.detector import DEFAULT_THRESHOLD, check_threshold
from socialgan.errors import DataError
from socialgan.loading import MODEL_FILE, read_config, read_safetensors
from socialgan.text.detect.linear_head import LinearHead
from socialgan.text.detect.model_card import write_model_card
from socialgan.text.features import (
    MetaEncoder,
    StyleEncoder,
    restore_vectorizer,
    vectorizer_state,
)

__all__ = [
    "FORMAT_VERSION",
    "MODEL_TYPE",
    "SavesPretrained",
    "detector_config",
    "json_params",
    "load_tfidf",
    "read_pretrained",
    "restore_common",
    "write_tfidf",
]

MODEL_TYPE = "socialgan.text.TfidfDetector"
#: Written by this socialgan; read: this one and every older one.
FORMAT_VERSION = 2
_TUPLE_PARAMS = ("word_ngrams", "char_ngrams", "style_weight")
_T = TypeVar("_T")


def detector_config(
    det: Any,
    default_name: str,
    *,
    category: str | None,
    name: str | None,
    data: str | None,
    metrics: dict[str, Any] | None,
) -> dict[str, Any]:
    """The fields every saved text detector's ``config.json`` starts with; ``det`` is
    fitted and has ``model_type``, ``json_params()``, ``classes_``, ``label_names_`` and
    ``threshold``. The name defaults to ``default_name`` + ``-category``."""
    return {
        "model_type": det.model_type,
        "format_version": FORMAT_VERSION,
        "name": name or "-".join(filter(None, (default_name, category))),
        "category": category,
        "params": det.json_params(),
        "classes": det.classes_.tolist(),
        "label_names": det.label_names_,
        "threshold": float(det.threshold),
        "data": data,
        "metrics": metrics or {},
    }


def restore_common(det: Any, config: dict[str, Any]) -> None:
    """Set what :func:`detector_config` saved on a rebuilt ``det``: ``classes_``,
    ``label_names_``, ``threshold`` (0.5 for format 1), ``name_``, ``category_``,
    ``metrics_``. Raises ``KeyError``/``ValueError`` for a broken config."""
    det.classes_ = np.asarray(config["classes"])
    det.label_names_ = [str(n) for n in config["label_names"]]
    det.threshold = check_threshold(config.get("threshold", DEFAULT_THRESHOLD))
    det.name_ = config.get("name")
    det.category_ = config.get("category")
    det.metrics_ = config.get("metrics", {})


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


class SavesPretrained:
    """The keyword-only ``save_pretrained`` of every text detector: check it is fitted,
    create the folder, build the common ``config.json`` fields (:func:`detector_config`)
    and hand them to the subclass's ``_write_pretrained``, which adds its own fields and
    writes the files. A subclass gives ``_check_fitted``, ``_default_name`` and
    ``_write_pretrained``."""

    def _check_fitted(self) -> None:
        """Raise ``ValueError`` unless fitted; implemented by subclasses."""
        raise NotImplementedError

    def _default_name(self) -> str:
        """The saved name when none is given (``-category`` is appended); subclasses."""
        raise NotImplementedError

    def _write_pretrained(self, directory: Path, config: dict[str, Any]) -> None:
        """Complete ``config`` and write the folder's files; implemented by subclasses."""
        raise NotImplementedError

    def save_pretrained(
        self,
        directory: str | Path,
        *,
        metrics: dict[str, Any] | None = None,
        data: str | None = None,
        category: str | None = None,
        name: str | None = None,
    ) -> Path:
        """Write ``config.json``, ``model.safetensors`` and a ``README.md`` model card
        (a stacked detector also its base models, in ``text/`` and ``meta/``) to
        ``directory``, created if needed; returns it.

        ``metrics`` (e.g. cross-validated accuracy), ``data`` (what it was trained on),
        ``category`` (the moderation category, e.g. ``spam``) and ``name`` go into the
        config and the card.
        """
        self._check_fitted()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = detector_config(
            self, self._default_name(), category=category, name=name, data=data, metrics=metrics
        )
        self._write_pretrained(directory, config)
        return directory


def write_tfidf(det: Any, directory: Path, config: dict[str, Any]) -> None:
    """Write a fitted ``TfidfDetector`` to the existing ``directory``; ``config`` holds
    the :func:`detector_config` fields."""
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
    config.update(
        head={"kind": det.head_.kind, "n_classes": det.head_.n_classes},
        n_features=int(det.n_features_),
        selected={"C": det.C_, "style_weight": det.style_weight_},
        selection_scores=det.selection_scores_,
        vectorizers=settings,
        vocabularies=vocabularies,
        meta_encoder=meta_config,
    )
    save_file(
        {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in arrays.items()},
        str(directory / "model.safetensors"),
    )
    (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
    write_model_card(directory / "README.md", config)


def read_pretrained(
    directory: Path, model_type: str, load_tensors: Callable[[str], dict[str, _T]]
) -> tuple[dict[str, Any], dict[str, _T]]:
    """``(config, tensors)`` of a saved text detector folder, as ``DataError``s a user can
    act on: a missing file, invalid JSON, another ``model_type``, a ``format_version``
    newer than this socialgan reads, unreadable safetensors. ``load_tensors`` is
    safetensors' numpy or torch ``load_file``."""
    config = read_config(directory, model_type)
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise DataError(
            f"{directory / 'config.json'}: format version {config['format_version']} is newer "
            f"than this socialgan reads ({FORMAT_VERSION}); upgrade socialgan"
        )
    return config, read_safetensors(directory / MODEL_FILE, load_tensors)


def load_tfidf(cls: type, directory: str | Path) -> Any:
    """Rebuild a ``cls`` (``TfidfDetector``) saved by :func:`write_tfidf`."""
    directory = Path(directory)
    config, arrays = read_pretrained(directory, MODEL_TYPE, load_file)
    try:
        params = dict(config["params"])
        for key in _TUPLE_PARAMS:
            if isinstance(params.get(key), list):
                params[key] = tuple(params[key])
        det = cls(**params)
        restore_common(det, config)
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
        raise DataError(
            f"{directory / MODEL_FILE}: coefficients do not match {det.n_features_} features"
        )
    det.estimator_ = None
    return det
