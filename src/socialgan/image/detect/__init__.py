"""Synthetic-image (GAN-made image) detectors.

Three detectors with one API (scikit-learn style, see :mod:`.base` for the conventions):

* :class:`SpectralDetector`: logistic regression on frequency features (azimuthal power
  spectrum, DCT bands);
* :class:`CNNDetector`: a small ResNet trained with blur/JPEG augmentation;
* :class:`DiscriminatorDetector`: the discriminator of a trained ImageGAN (baseline).

Images are float ``(N, C, H, W)`` in ``[0, 1]``; label 1 = generated. ``predict_proba`` gives
``(N, 2)`` (column 1 = p(generated)), ``category_score`` that column alone, ``predict`` the
labels at :attr:`~ImageDetector.threshold`. :func:`load_detector` loads any of them.
Test-time perturbations for robustness tables live in :mod:`.perturb`.

Example:
    >>> from socialgan.image.detect import SpectralDetector, load_detector
    >>> det = SpectralDetector().fit(real, fake)  # doctest: +SKIP
    >>> det.calibrate_threshold(real_heldout, target_fpr=0.05)  # doctest: +SKIP
    >>> det.save_pretrained("models/gan-images")  # doctest: +SKIP
    >>> load_detector("models/gan-images").predict(images)  # doctest: +SKIP
"""

from .augment import AugmentConfig
from .base import CATEGORY, ImageDetector, load_detector, registered_kinds
from .cnn import CNNDetector
from .discriminator import DiscriminatorDetector
from .inputs import as_images
from .perturb import PERTURBATIONS, perturb
from .spectral import SpectralDetector, azimuthal_spectrum

__all__ = [
    "CATEGORY",
    "DETECTORS",
    "PERTURBATIONS",
    "AugmentConfig",
    "CNNDetector",
    "DiscriminatorDetector",
    "ImageDetector",
    "SpectralDetector",
    "as_images",
    "azimuthal_spectrum",
    "load_detector",
    "perturb",
    "registered_kinds",
]

#: Detector classes by kind (the ``kind`` field of their ``config.json``).
DETECTORS: dict[str, type[ImageDetector]] = {
    "spectral": SpectralDetector,
    "cnn": CNNDetector,
    "discriminator": DiscriminatorDetector,
}
