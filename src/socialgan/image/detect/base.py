"""What every synthetic-image detector shares: input checks, scoring API, thresholds, files.

The contract is the one of every socialgan detector (:class:`socialgan.detector.Detector`,
``docs/DETECTORS.md``). Conventions (the same for :class:`~.spectral.SpectralDetector`,
:class:`~.cnn.CNNDetector` and :class:`~.discriminator.DiscriminatorDetector`):

* **Images** are float tensors ``(N, C, H, W)`` (or ``(N, H, W)``) with values in ``[0, 1]``:
  what :func:`socialgan.image.data.load_source` and :meth:`ImageGAN.sample` return. ``C`` is
  1 or 3 and any ``H, W`` is accepted; each detector converts the channels and crops or
  resizes to its own input size (:func:`.inputs.fit_to_size`). ``uint8`` arrays are divided by 255.
* **Labels**: 1 = generated (fake), 0 = real. ``fit(X, y)`` takes images and their labels;
  :func:`~.inputs.stack_real_fake` builds ``(X, y)`` from a set of real and a set of
  generated images.
* ``predict_proba(images)`` returns ``(N, 2)`` like scikit-learn and the text detectors:
  column 0 = p(real), column 1 = p(generated). ``category_score(images)`` is column 1 alone
  (what moderation reports); ``predict(images, threshold=None)`` is ``category_score >= t``
  with ``t`` the given threshold or the stored :attr:`ImageDetector.threshold`;
  ``decision_function(images)`` gives the log-odds, which keep their ranking where the
  probabilities saturate at 0 or 1 (:meth:`ImageDetector.evaluate` computes AUC from them).
* **Files** (Hugging Face style): ``config.json`` (with the class's ``model_type``, by
  which :func:`socialgan.load` picks the class, and its ``kind``) + ``model.safetensors`` + a
  ``README.md`` model card. Nothing is ever unpickled. Folders written before each class had
  its own ``model_type`` (``"socialgan.ImageDetector"`` + ``kind``) still load.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch
from safetensors.torch import load_file
from torch import Tensor

from ...detector import DEFAULT_THRESHOLD, check_threshold, fpr_threshold
from ...engine.checkpoint import atomic_write_bytes, atomic_write_json, save_tensors
from ...errors import DataError
from ...loading import CONFIG_FILE, MODEL_FILE, load, model_class, read_config, read_safetensors
from ..model_card import model_card
from .inputs import _sigmoid, binary_auc

__all__ = [
    "CATEGORY",
    "CONFIG_FILE",
    "MODEL_FILE",
    "MODEL_FAMILY",
    "ImageDetector",
    "load_detector",
    "registered_kinds",
]

#: The prefix of the image detectors' model types (``socialgan.image.CNNDetector`` ...).
MODEL_FAMILY = "socialgan.image."
#: Moderation category reported by the image detectors.
CATEGORY = "gan_generated"
_REGISTRY: dict[str, type[ImageDetector]] = {}

D = TypeVar("D", bound="ImageDetector")


# ---------------------------------------------------------------------------- base class
class ImageDetector(ABC):
    """Base class: scores images as generated (1) vs real (0). See the module docstring.

    Subclasses set ``kind`` and ``model_type`` and implement :meth:`fit`,
    :meth:`preprocess` (checked ``[0, 1]`` images -> the model's fixed input), :meth:`_logit`
    (preprocessed batch -> log-odds of generated) and the persistence hooks
    :meth:`_params`, :meth:`_state` and :meth:`_restore`.

    Attributes:
        threshold: score at or above which an image is flagged (default 0.5); set it with
            :meth:`calibrate_threshold`.
        name_: the model name reported in moderation output.
        metrics: held-out metrics recorded with the model (written to the model card).
    """

    kind: ClassVar[str] = ""
    model_type: ClassVar[str] = ""

    def __init__(
        self,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        batch_size: int = 256,
        size: int | None = None,
    ) -> None:
        """Check and store ``threshold`` and ``batch_size``; check ``size``, the input side
        of the detectors that take one (``None``, chosen by ``fit``, or at least 4), which
        they store themselves."""
        check_threshold(threshold)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if size is not None and size < 4:
            raise ValueError(f"size must be >= 4, got {size}")
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
    def fit(self: D, X: Any, y: Any) -> D:
        """Learn from images ``X`` with labels ``y`` (0 real, 1 generated); returns ``self``."""

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
        t = self.threshold if threshold is None else check_threshold(threshold)
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
        scores = self.category_score(real_images)
        if len(scores) == 0:
            raise DataError("real images: need at least one image to calibrate a threshold")
        self.threshold, achieved = fpr_threshold(scores, target_fpr)
        self.metrics["calibration_fpr"] = achieved
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
            "model_type": self.model_type,
            "kind": self.kind,
            "name": self.name_,
            "params": self._params(),
            "threshold": self.threshold,
            "state": state,
            "data": self.data_info,
            "metrics": self.metrics,
        }

    def save_pretrained(
        self, directory: str | Path, *, metrics: dict[str, Any] | None = None
    ) -> Path:
        """Write ``config.json``, ``model.safetensors`` and a ``README.md`` model card;
        ``metrics`` are added to :attr:`metrics` first."""
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
        """Load a detector written by :meth:`save_pretrained` (JSON + safetensors only);
        ``ImageDetector.from_pretrained`` opens any image detector."""
        config, tensors = _read_dir(directory, cls.model_type or MODEL_FAMILY)
        found = model_class(config["model_type"])
        if not issubclass(found, cls):
            raise DataError(f"{Path(directory) / CONFIG_FILE}: not a {cls.__name__}")
        return _build(found, config, tensors, Path(directory))  # type: ignore[return-value]

    def _model_card(self) -> str:
        about = [
            f"A socialgan synthetic-image detector (`{self.kind}`, {type(self).__name__}).",
            "It scores images: p(generated by a GAN) in [0, 1]; flagged at >= "
            f"{self.threshold:.4g}.",
            "",
            f"- Parameters: `{json.dumps(self._params(), sort_keys=True)}`",
            f"- Training data: `{json.dumps(self.data_info, sort_keys=True)}`",
        ]
        return model_card(self.name_, about, self.metrics, DETECTOR_USE)


#: The Intended use and limits section of a saved image detector's card.
DETECTOR_USE = (
    "Triage of likely GAN-made images for a moderation queue, with a human in the loop.",
    "It recognises the generators it was trained against; other generators, heavy",
    "re-compression, resizing or filtering lower its accuracy (measure it on your own",
    "traffic). Calibrate the threshold on held-out real images from your platform.",
)


def _read_dir(directory: str | Path, expect: str) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """The checked config (of model type or family ``expect``) and tensors of a folder."""
    config = read_config(directory, expect)
    return config, read_safetensors(Path(directory) / MODEL_FILE, load_file)


def _build(
    cls: type[ImageDetector], config: dict[str, Any], tensors: dict[str, Tensor], where: Path
) -> ImageDetector:
    try:
        det = cls(**config["params"])
        det.threshold = check_threshold(config["threshold"])
    except (KeyError, TypeError, ValueError) as e:
        raise DataError(f"{where / CONFIG_FILE}: not the config of a {cls.__name__} ({e})") from e
    try:
        det._restore(tensors, config["state"])
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise DataError(
            f"{where / MODEL_FILE}: the weights do not fit the {cls.__name__} of "
            f"{CONFIG_FILE} ({e}); were the two files saved together?"
        ) from e
    det.name_ = str(config.get("name") or det.name_)
    det.metrics = dict(config.get("metrics") or {})
    det.data_info = dict(config.get("data") or {})
    return det


def load_detector(directory: str | Path) -> ImageDetector:
    """Load any image detector saved with ``save_pretrained``: :func:`socialgan.load`
    limited to image detectors, so another model's folder says what it holds."""
    det: ImageDetector = load(directory, expect=MODEL_FAMILY)
    return det


def registered_kinds() -> list[str]:
    """Detector kinds known to :func:`load_detector`."""
    return sorted(_REGISTRY)
