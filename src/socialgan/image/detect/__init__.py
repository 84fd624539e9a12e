"""Synthetic-image (GAN-made image) detectors.

Three detectors with one API (scikit-learn style, see :mod:`.base` for the conventions):

* :class:`SpectralDetector`: logistic regression on frequency features (azimuthal power
  spectrum, DCT bands);
* :class:`CNNDetector`: a small ResNet trained with blur/JPEG augmentation;
* :class:`DiscriminatorDetector`: the discriminator of a trained ImageGAN (baseline).

Images are float ``(N, C, H, W)`` in ``[0, 1]``; label 1 = generated. They follow the
detector contract of :mod:`socialgan.detector`: ``fit(X, y)`` (:func:`stack_real_fake`
makes ``X, y`` of real and generated images), ``predict_proba`` gives ``(N, 2)`` (column
1 = p(generated)), ``category_score`` that column alone, ``predict`` the labels at
:attr:`~ImageDetector.threshold`. :func:`socialgan.load` (or :func:`load_detector`, which
refuses other models) loads any of them.
Test-time perturbations for robustness tables live in :mod:`.perturb`; the attacker's side,
a differentiable spectral regularizer for generators (Durall et al., CVPR 2020), in
:mod:`.spectral_loss`.

Example:
    >>> import socialgan
    >>> from socialgan.image.detect import SpectralDetector, stack_real_fake
    >>> det = SpectralDetector().fit(*stack_real_fake(real, fake))  # doctest: +SKIP
    >>> det.calibrate_threshold(real_heldout, target_fpr=0.05)  # doctest: +SKIP
    >>> det.save_pretrained("models/gan-images")  # doctest: +SKIP
    >>> socialgan.load("models/gan-images").predict(images)  # doctest: +SKIP
"""

from .augment import AugmentConfig
from .base import CATEGORY, ImageDetector, load_detector, registered_kinds
from .cnn import CNNDetector
from .discriminator import DiscriminatorDetector
from .inputs import as_images, split_real_fake, stack_real_fake
from .perturb import PERTURBATIONS, perturb
from .spectral import SpectralDetector, azimuthal_spectrum
from .spectral_loss import SpectralRegularizer, reduced_spectrum, spectral_loss

__all__ = [
    "CATEGORY",
    "DETECTORS",
    "PERTURBATIONS",
    "AugmentConfig",
    "CNNDetector",
    "DiscriminatorDetector",
    "ImageDetector",
    "SpectralDetector",
    "SpectralRegularizer",
    "as_images",
    "azimuthal_spectrum",
    "load_detector",
    "perturb",
    "reduced_spectrum",
    "registered_kinds",
    "spectral_loss",
    "split_real_fake",
    "stack_real_fake",
]

#: Detector classes by kind (the ``kind`` field of their ``config.json``).
DETECTORS: dict[str, type[ImageDetector]] = {
    "spectral": SpectralDetector,
    "cnn": CNNDetector,
    "discriminator": DiscriminatorDetector,
}
