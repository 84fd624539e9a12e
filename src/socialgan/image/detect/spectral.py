"""Frequency-domain detector: GAN up-sampling leaves periodic traces in the spectrum.

Features per image (grayscale):

* the azimuthally averaged log power spectrum, a 1-D profile over spatial frequency
  (Durall et al., "Watch your up-convolution", CVPR 2020);
* optionally, the log magnitude of the 2-D DCT-II averaged over a ``bands x bands`` grid of
  frequency bands (after Frank et al., "Leveraging frequency analysis for deep fake image
  recognition", ICML 2020), which keeps the direction of the artefacts that the azimuthal
  average discards.

They are standardized and fed to an L2 logistic regression whose ``C`` is chosen by inner
stratified cross-validation (log loss).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.fft
import torch
import torch.nn.functional as F
from torch import Tensor

from ...errors import DataError
from ...model_selection import lowest_log_loss
from .base import ImageDetector
from .inputs import as_images, fit_to_size, split_real_fake, to_grayscale

__all__ = [
    "SpectralDetector",
    "azimuthal_spectrum",
    "dct2",
    "dct_band_features",
    "log_power_spectrum",
    "n_radial_bins",
    "radial_mean",
]

_EPS = 1e-8
DEFAULT_CS: tuple[float, ...] = (1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0)


@functools.lru_cache(maxsize=32)
def _radius_bins(h: int, w: int) -> tuple[Tensor, Tensor]:
    """Integer radius (distance to the centred zero frequency) of every shifted FFT bin,
    flattened, and the number of bins at each radius (float64): the one definition of the
    azimuthal bins, shared by the detector's features and :mod:`.spectral_loss`.

    Cached; callers must not modify the returned tensors.
    """
    yy = torch.arange(h, dtype=torch.float64)[:, None] - h // 2
    xx = torch.arange(w, dtype=torch.float64)[None, :] - w // 2
    r = torch.sqrt(yy**2 + xx**2).round().long().flatten()
    counts = torch.bincount(r, minlength=int(r.max()) + 1).to(torch.float64)
    return r, counts


def n_radial_bins(h: int, w: int) -> int:
    """Length ``R`` of the azimuthal profile of ``H x W`` images."""
    return len(_radius_bins(h, w)[1])


def radial_mean(maps: Tensor) -> Tensor:
    """Average ``(N, H, W)`` maps laid out like a centred (``fftshift``-ed) spectrum over the
    rings of integer radius around the zero frequency: ``(N, R)``, in the maps' dtype.

    Differentiable (an ``index_add`` and a division), so the same binning serves the
    detector's features and the generator-side spectral regularizer.
    """
    if maps.ndim != 3:
        raise ValueError(f"expected (N, H, W) maps, got shape {tuple(maps.shape)}")
    n, h, w = maps.shape
    r, counts = _radius_bins(h, w)
    sums = torch.zeros(n, len(counts), dtype=maps.dtype).index_add(1, r, maps.reshape(n, -1))
    return sums / counts.to(maps.dtype)


def log_power_spectrum(x: Tensor, eps: float = _EPS) -> Tensor:
    """Centred log power spectrum ``log(|FFT|^2 / (H W) + eps)`` of ``(N, H, W)`` planes."""
    h, w = x.shape[-2:]
    power = torch.fft.fftshift(torch.fft.fft2(x).abs() ** 2 / (h * w), dim=(-2, -1))
    return torch.log(power + eps)


def azimuthal_spectrum(images: Tensor) -> Tensor:
    """Azimuthally averaged log power spectrum ``(N, R)`` of grayscale-converted images.

    Bin ``k`` averages ``log(|FFT|^2 / (H W) + 1e-8)`` over the frequencies at integer
    distance ``k`` from zero frequency; ``R = round(sqrt((H/2)^2 + (W/2)^2)) + 1``, so the
    last bins hold the corner (highest, diagonal) frequencies where a checkerboard lives.
    Computed in float64, returned as float32.
    """
    x = to_grayscale(images)[:, 0].double()
    return radial_mean(log_power_spectrum(x)).float()


def dct2(images: Tensor) -> Tensor:
    """Orthonormal 2-D DCT-II of grayscale-converted images, ``(N, H, W)`` (``scipy.fft``)."""
    x = to_grayscale(images)[:, 0].detach().cpu().double().numpy()
    return torch.from_numpy(scipy.fft.dctn(x, type=2, axes=(-2, -1), norm="ortho")).float()


def dct_band_features(images: Tensor, bands: int = 8) -> Tensor:
    """``log(|DCT| + 1e-8)`` averaged over a ``bands x bands`` grid: ``(N, bands**2)``."""
    logc = torch.log(dct2(images).abs() + _EPS)[:, None]
    return F.adaptive_avg_pool2d(logc, bands).flatten(1)


class SpectralDetector(ImageDetector):
    """Logistic regression on spectral features (see the module docstring).

    Args:
        size: square side the images are brought to (see ``resize_mode``); ``None`` uses the
            smallest side of the training images.
        resize_mode: ``"crop"`` (central patch when the image is large enough, else resize)
            or ``"resize"`` (always resize).
        dct_bands: add the DCT band features on a ``dct_bands x dct_bands`` grid; 0 = only
            the azimuthal spectrum.
        Cs: inverse regularization strengths tried by the inner cross-validation.
        cv: folds of the inner cross-validation.
        seed: seed of the fold shuffling.
        threshold: flagging threshold on p(generated) (0.5).
        batch_size: images per batch when computing features.

    Example:
        >>> X, y = stack_real_fake(real_images, fake_images)  # doctest: +SKIP
        >>> det = SpectralDetector().fit(X, y)  # doctest: +SKIP
        >>> det.predict_proba(test_images)[:, 1]  # p(generated)  # doctest: +SKIP
    """

    kind = "spectral"
    model_type = "socialgan.image.SpectralDetector"

    def __init__(
        self,
        size: int | None = None,
        *,
        resize_mode: str = "crop",
        dct_bands: int = 8,
        Cs: Sequence[float] = DEFAULT_CS,
        cv: int = 5,
        seed: int = 0,
        threshold: float = 0.5,
        batch_size: int = 256,
    ) -> None:
        super().__init__(threshold=threshold, batch_size=batch_size, size=size)
        if resize_mode not in ("crop", "resize"):
            raise ValueError(f"resize_mode must be 'crop' or 'resize', got {resize_mode!r}")
        if dct_bands < 0:
            raise ValueError(f"dct_bands must be >= 0, got {dct_bands}")
        if not Cs or any(c <= 0 for c in Cs):
            raise ValueError(f"Cs must be a non-empty list of positive numbers, got {Cs}")
        if cv < 2:
            raise ValueError(f"cv must be >= 2, got {cv}")
        self.size = size
        self.resize_mode = resize_mode
        self.dct_bands = dct_bands
        self.Cs = [float(c) for c in Cs]
        self.cv = cv
        self.seed = seed
        self.size_: int | None = None
        self.coef_: Tensor | None = None
        self.intercept_: Tensor | None = None
        self.mean_: Tensor | None = None
        self.scale_: Tensor | None = None
        self.C_: float | None = None

    # ------------------------------------------------------------------- features
    def preprocess(self, images: Any) -> Tensor:
        """Grayscale ``(N, 1, size, size)`` images in [0, 1]."""
        size = self.size_ or self.size
        if size is None:
            raise RuntimeError("SpectralDetector: size unknown before fit()")
        x = to_grayscale(as_images(images))
        return fit_to_size(x, size, self.resize_mode)

    def _features_of(self, x: Tensor) -> Tensor:
        parts = [azimuthal_spectrum(x)]
        if self.dct_bands:
            parts.append(dct_band_features(x, min(self.dct_bands, x.shape[-1])))
        return torch.cat(parts, dim=1)

    def features(self, images: Any) -> Tensor:
        """Raw (unstandardized) feature matrix ``(N, F)`` of ``images``."""
        x = self.preprocess(images)
        if len(x) == 0:
            return self._features_of(torch.zeros(1, 1, *x.shape[-2:]))[:0]
        step = self.batch_size
        return torch.cat([self._features_of(x[i : i + step]) for i in range(0, len(x), step)])

    # ------------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any) -> SpectralDetector:
        """Choose ``C`` by inner CV on images ``X`` with labels ``y`` (0 real, 1 generated),
        then refit on all."""
        from sklearn.linear_model import LogisticRegression

        r, f = split_real_fake(X, y)
        self.size_ = self.size or min(r.shape[-2], r.shape[-1], f.shape[-2], f.shape[-1])
        if self.size_ < 4:
            raise DataError(f"images are {self.size_} pixels wide; need at least 4")
        # real first, then fake: the order (hence the CV folds) of fit(real, fake) before
        feats = torch.cat([self.features(r), self.features(f)]).double().numpy()
        labels = np.r_[np.zeros(len(r), dtype=np.int64), np.ones(len(f), dtype=np.int64)]
        mean = feats.mean(axis=0)
        scale = feats.std(axis=0)
        scale[scale < 1e-12] = 1.0
        Z = (feats - mean) / scale
        self.C_ = self._select_C(Z, labels)
        model = LogisticRegression(C=self.C_, class_weight="balanced", max_iter=5000)
        model.fit(Z, labels)
        self.coef_ = torch.tensor(model.coef_[0], dtype=torch.float64)
        self.intercept_ = torch.tensor([float(model.intercept_[0])], dtype=torch.float64)
        self.mean_ = torch.tensor(mean, dtype=torch.float64)
        self.scale_ = torch.tensor(scale, dtype=torch.float64)
        self.data_info = {"n_real": len(r), "n_fake": len(f), "size": self.size_}
        return self

    def _select_C(self, Z: np.ndarray, y: np.ndarray) -> float:
        """The ``C`` of ``Cs`` with the lowest out-of-fold log loss (ties: the smallest C)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        folds = min(self.cv, int(np.bincount(y).min()))
        if len(self.Cs) == 1 or folds < 2:
            return self.Cs[0]
        skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.seed)

        def oof(C: float) -> np.ndarray:
            m = LogisticRegression(C=C, class_weight="balanced", max_iter=5000)
            return cross_val_predict(m, Z, y, cv=skf, method="predict_proba")

        return lowest_log_loss(sorted(self.Cs), oof, y, 2)[0]

    # -------------------------------------------------------------------- scoring
    @property
    def input_channels(self) -> int | None:
        """Always 1: the features are computed on the luma channel."""
        return 1

    @property
    def is_fitted(self) -> bool:
        """True after :meth:`fit` or :meth:`from_pretrained`."""
        return self.coef_ is not None

    def _logit(self, batch: Tensor) -> Tensor:
        assert self.coef_ is not None and self.mean_ is not None and self.scale_ is not None
        assert self.intercept_ is not None
        z = (self._features_of(batch).double() - self.mean_) / self.scale_
        return z @ self.coef_ + self.intercept_

    # ---------------------------------------------------------------- persistence
    def _params(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "resize_mode": self.resize_mode,
            "dct_bands": self.dct_bands,
            "Cs": self.Cs,
            "cv": self.cv,
            "seed": self.seed,
            "batch_size": self.batch_size,
        }

    def _state(self) -> tuple[dict[str, Tensor], dict[str, Any]]:
        tensors: dict[str, Tensor] = {}
        if self.is_fitted:
            assert self.intercept_ is not None and self.mean_ is not None
            assert self.scale_ is not None and self.coef_ is not None
            tensors = {
                "coef": self.coef_,
                "intercept": self.intercept_,
                "scaler_mean": self.mean_,
                "scaler_scale": self.scale_,
            }
        return tensors, {"size": self.size_, "C": self.C_}

    def _restore(self, tensors: dict[str, Tensor], state: dict[str, Any]) -> None:
        self.size_ = int(state["size"])
        self.C_ = state.get("C")
        # clones: safetensors hands out views at unaligned offsets, and SIMD kernels sum in
        # an alignment-dependent order; aligned copies give the same bits as before saving
        self.coef_ = tensors["coef"].double().clone()
        self.intercept_ = tensors["intercept"].double().clone()
        self.mean_ = tensors["scaler_mean"].double().clone()
        self.scale_ = tensors["scaler_scale"].double().clone()
        n_feat = len(self._features_of(torch.zeros(1, 1, self.size_, self.size_))[0])
        shapes = {k: tuple(v.shape) for k, v in tensors.items()}
        if any(len(t) != n_feat for t in (self.coef_, self.mean_, self.scale_)):
            raise RuntimeError(f"expected {n_feat} features for size {self.size_}, got {shapes}")
