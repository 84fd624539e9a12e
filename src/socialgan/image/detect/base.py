"""What every synthetic-image detector shares: input checks, scoring API, thresholds, files.

Conventions (the same for :class:`~.spectral.SpectralDetector`, :class:`~.cnn.CNNDetector`
and :class:`~.discriminator.DiscriminatorDetector`):

* **Images** are float tensors ``(N, C, H, W)`` (or ``(N, H, W)``) with values in ``[0, 1]``:
  what :func:`socialgan.image.data.load_source` and :meth:`ImageGAN.sample` return. ``C`` is
  1 or 3 and any ``H, W`` is accepted; each detector converts the channels and crops or
  resizes to its own input size (:func:`.inputs.fit_to_size`). ``uint8`` arrays are divided by 255.
* **Labels**: 1 = generated (fake), 0 = real.
* ``predict_proba(images)`` returns ``(N, 2)`` like scikit-learn and the text detectors:
  column 0 = p(real), column 1 = p(generated). ``category_score(images)`` is column 1 alone
  (what moderation reports); ``predict(images, threshold)`` is ``category_score >= threshold``;
  ``decision_function(images)`` gives the log-odds, which keep their ranking where the
  probabilities saturate at 0 or 1 (:meth:`ImageDetector.evaluate` computes AUC from them).
* **Files** (Hugging Face style): ``config.json`` (with ``"kind"``, used by
  :func:`load_detector` to pick the class) + ``model.safetensors`` + a ``README.md`` model
  card. Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch
from safetensors.torch import load_file
from torch import Tensor

from ...engine.checkpoint import atomic_write_bytes, atomic_write_json, save_tensors
from ...errors import DataError
from .inputs import _sigmoid, binary_auc

__all__ = [
    "CATEGORY",
    "CONFIG_FILE",
    "MODEL_FILE",
    "MODEL_TYPE",
    "ImageDetector",
    "load_detector",
    "registered_kinds",
]

CONFIG_FILE = "config.json"
MODEL_FILE = "model.safetensors"
MODEL_TYPE = "socialgan.ImageDetector"
#: Moderation category reported by the image detectors.
CATEGORY = "gan_generated"
_REGISTRY: dict[str, type[ImageDetector]] = {}

D = TypeVar("D", bound="ImageDetector")


# ---------------------------------------------------------------------------- base class
class ImageDetector(ABC):
    """Base class: scores images as generated (1) vs real (0). See the module docstring.

    Subclasses implement :meth:`fit`, :meth:`preprocess` (checked ``[0, 1]`` images -> the
    model's fixed input), :meth:`_logit` (preprocessed batch -> log-odds of generated) and the
    persistence hooks :meth:`_params`, :meth:`_state` and :meth:`_restore`.

    Attributes:
        threshold: score at or above which an image is flagged (default 0.5); set it with
            :meth:`calibrate_threshold`.
        name_: the model name reported in moderation output.
        metrics: held-out metrics recorded with the model (written to the model card).
    """

    kind: ClassVar[str] = ""

    def __init__(self, *, threshold: float = 0.5, batch_size: int = 256) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.threshold = float(threshold)
        self.batch_size = batch_size
        self.name_ = f"socialgan-image-{self.kind}"
        self.metrics: dict[str, Any] = {}
        self.data_info: dict[str, Any] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            _REGISTRY[cls.kind] = cls

    # ------------------------------------------------------------------ to implement
    @abstractmethod
    def fit(self: D, real: Any, fake: Any) -> D:
        """Learn from ``real`` (label 0) and ``fake`` (label 1) images; returns ``self``."""

    @abstractmethod
    def preprocess(self, images: Any) -> Tensor:
        """Images -> the model's fixed-size input (idempotent on its own output)."""

    @abstractmethod
    def _logit(self, batch: Tensor) -> Tensor:
        """Log-odds of generated ``(n,)`` for a preprocessed batch (called under no_grad)."""

    @abstractmethod
    def _params(self) -> dict[str, Any]:
        """Constructor arguments as JSON-ready values."""

    @abstractmethod
    def _state(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        """Learned state: ``(tensors for safetensors, JSON-ready extras)``."""

    @abstractmethod
    def _restore(self, tensors: dict[str, Tensor], state: dict[str, Any]) -> None:
        """Inverse of :meth:`_state`."""

    @property
    @abstractmethod
    def is_fitted(self) -> bool:
        """True once the detector can score images."""

    @property
    def input_channels(self) -> int | None:
        """Channels the model looks at (1 or 3), to decode files to; None if unknown."""
        return None

    # ------------------------------------------------------------------------ scoring
    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise RuntimeError(
                f"this {type(self).__name__} is not fitted: call fit() or from_pretrained()"
            )

    def decision_function(self, images: Any) -> np.ndarray:
        """Log-odds of generated ``(N,)`` as float64, scored in batches of ``batch_size``."""
        self._check_fitted()
        x = self.preprocess(images)
        out = [np.zeros(0)]
        with torch.no_grad():
            for i in range(0, len(x), self.batch_size):
                out.append(self._logit(x[i : i + self.batch_size]).double().numpy())
        return np.concatenate(out)

    def category_score(self, images: Any) -> np.ndarray:
        """p(generated) ``(N,)`` as float64: the sigmoid of :meth:`decision_function`."""
        return _sigmoid(self.decision_function(images))

    def predict_proba(self, images: Any) -> np.ndarray:
        """``(N, 2)``: column 0 = p(real), column 1 = p(generated)."""
        p = self.category_score(images)
        return np.stack([1.0 - p, p], axis=1)

    def predict(self, images: Any, threshold: float | None = None) -> np.ndarray:
        """Labels ``(N,)`` int64: 1 (generated) when p(generated) >= ``threshold``.

        ``threshold`` defaults to the detector's :attr:`threshold`.
        """
        t = self.threshold if threshold is None else float(threshold)
        return (self.category_score(images) >= t).astype(np.int64)

    def calibrate_threshold(self: D, real_images: Any, target_fpr: float = 0.05) -> D:
        """Set :attr:`threshold` so that at most ``target_fpr`` of ``real_images`` are flagged.

        Use held-out real images (not the ones the detector was trained on). The threshold
        is the lowest value that flags at most ``floor(target_fpr * N)`` of them, so the
        false positive rate on this set is as close to the target as ties allow, never above.
        The achieved rate is stored in ``metrics["calibration_fpr"]``.
        """
        if not 0.0 <= target_fpr < 1.0:
            raise ValueError(f"target_fpr must be in [0, 1), got {target_fpr}")
        scores = np.sort(self.category_score(real_images))[::-1]
        if len(scores) == 0:
            raise DataError("real images: need at least one image to calibrate a threshold")
        k = int(math.floor(target_fpr * len(scores) + 1e-9))
        if k >= len(scores):
            t = 0.0
        else:
            t = float(np.nextafter(scores[k], np.inf))
        self.threshold = float(min(max(t, 0.0), 1.0))
        self.metrics["calibration_fpr"] = float(np.mean(scores >= self.threshold))
        self.metrics["calibration_target_fpr"] = float(target_fpr)
        self.metrics["calibration_n"] = len(scores)
        return self

    def evaluate(self, real: Any, fake: Any) -> dict[str, float]:
        """ROC AUC (of the log-odds), accuracy, FPR and TPR at :attr:`threshold` on labelled
        held-out images."""
        l_real, l_fake = self.decision_function(real), self.decision_function(fake)
        s_real, s_fake = _sigmoid(l_real), _sigmoid(l_fake)
        y = np.r_[np.zeros(len(s_real)), np.ones(len(s_fake))]
        pred = np.r_[s_real, s_fake] >= self.threshold
        return {
            "auc": binary_auc(y, np.r_[l_real, l_fake]),
            "accuracy": float(np.mean(pred == y.astype(bool))),
            "fpr": float(np.mean(s_real >= self.threshold)),
            "tpr": float(np.mean(s_fake >= self.threshold)),
            "n_real": len(s_real),
            "n_fake": len(s_fake),
        }

    # -------------------------------------------------------------------- persistence
    def config_dict(self) -> dict[str, Any]:
        """Everything but the tensors, JSON-ready (what ``config.json`` holds)."""
        _, state = self._state()
        return {
            "model_type": MODEL_TYPE,
            "kind": self.kind,
            "name": self.name_,
            "params": self._params(),
            "threshold": self.threshold,
            "state": state,
            "data": self.data_info,
            "metrics": self.metrics,
        }

    def save_pretrained(self, directory: str | Path, metrics: dict[str, Any] | None = None) -> Path:
        """Write ``config.json``, ``model.safetensors`` and a ``README.md`` model card."""
        self._check_fitted()
        if metrics:
            self.metrics.update(metrics)
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensors, _ = self._state()
        atomic_write_bytes(directory / MODEL_FILE, save_tensors(tensors))
        atomic_write_json(directory / CONFIG_FILE, self.config_dict())
        atomic_write_bytes(directory / "README.md", self._model_card().encode())
        return directory

    @classmethod
    def from_pretrained(cls: type[D], directory: str | Path) -> D:
        """Load a detector written by :meth:`save_pretrained` (JSON + safetensors only)."""
        config, tensors = _read_dir(directory)
        if config["kind"] != cls.kind and cls.kind:
            raise DataError(
                f"{Path(directory) / CONFIG_FILE}: holds a {config['kind']!r} detector, not "
                f"{cls.kind!r}; use socialgan.image.detect.load_detector"
            )
        return _build(cls, config, tensors, directory)  # type: ignore[return-value]

    def _model_card(self) -> str:
        lines = [
            f"# {self.name_}",
            "",
            f"A socialgan synthetic-image detector (`{self.kind}`, {type(self).__name__}).",
            "It scores images: p(generated by a GAN) in [0, 1]; flagged at >= "
            f"{self.threshold:.4g}.",
            "",
            f"- Parameters: `{json.dumps(self._params(), sort_keys=True)}`",
            f"- Training data: `{json.dumps(self.data_info, sort_keys=True)}`",
            "",
            "## Metrics",
        ]
        if self.metrics:
            lines += [f"- {k}: {v}" for k, v in self.metrics.items()]
        else:
            lines.append("- none recorded")
        lines += [
            "",
            "## Intended use and limits",
            "Triage of likely GAN-made images for a moderation queue, with a human in the loop.",
            "It recognises the generators it was trained against; other generators, heavy",
            "re-compression, resizing or filtering lower its accuracy (measure it on your own",
            "traffic). Calibrate the threshold on held-out real images from your platform.",
            "",
        ]
        return "\n".join(lines)


def _read_dir(directory: str | Path) -> tuple[dict[str, Any], dict[str, Tensor]]:
    directory = Path(directory)
    cfg_path, model_path = directory / CONFIG_FILE, directory / MODEL_FILE
    for p in (cfg_path, model_path):
        if not p.is_file():
            raise DataError(f"{p}: missing; is {directory} a saved image detector?")
    try:
        config = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{cfg_path}: not valid JSON ({e})") from e
    if not isinstance(config, dict) or config.get("model_type") != MODEL_TYPE:
        found = config.get("model_type") if isinstance(config, dict) else None
        raise DataError(f"{cfg_path}: model_type is {found!r}, not {MODEL_TYPE!r}")
    kind = config.get("kind")
    if kind not in _REGISTRY:
        raise DataError(
            f"{cfg_path}: unknown detector kind {kind!r}; expected one of {sorted(_REGISTRY)}"
        )
    try:
        tensors = load_file(str(model_path))
    except Exception as e:  # safetensors raises its own error types
        raise DataError(f"{model_path}: cannot read safetensors ({e})") from e
    return config, tensors


def _build(
    cls: type[ImageDetector], config: dict[str, Any], tensors: dict[str, Tensor], where: Any
) -> ImageDetector:
    try:
        det = cls(**config["params"])
        det.threshold = float(config["threshold"])
        det._restore(tensors, config["state"])
    except (KeyError, TypeError, RuntimeError) as e:
        raise DataError(f"{where}: config and weights do not match a {cls.__name__}: {e}") from e
    det.name_ = str(config.get("name") or det.name_)
    det.metrics = dict(config.get("metrics") or {})
    det.data_info = dict(config.get("data") or {})
    return det


def load_detector(directory: str | Path) -> ImageDetector:
    """Load any image detector saved with ``save_pretrained``; ``config.json["kind"]`` picks
    the class (``spectral``, ``cnn`` or ``discriminator``)."""
    config, tensors = _read_dir(directory)
    return _build(_REGISTRY[config["kind"]], config, tensors, directory)


def registered_kinds() -> list[str]:
    """Detector kinds known to :func:`load_detector`."""
    return sorted(_REGISTRY)
