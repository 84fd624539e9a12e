"""Images: data loaders, nets, metrics, the image GAN and the GAN-made-image detectors."""

from .data import NAMED_SOURCES, load_source
from .dataset import ImageDataset
from .detect import CNNDetector, DiscriminatorDetector, SpectralDetector, load_detector
from .gan import ImageGAN
from .nets import build_nets

__all__ = [
    "NAMED_SOURCES",
    "CNNDetector",
    "DiscriminatorDetector",
    "ImageDataset",
    "ImageGAN",
    "SpectralDetector",
    "build_nets",
    "load_detector",
    "load_source",
]
