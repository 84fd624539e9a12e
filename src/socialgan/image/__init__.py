"""Images: data loaders, nets, the image GAN and its offline metrics."""

from .data import NAMED_SOURCES, load_source
from .dataset import ImageDataset
from .gan import ImageGAN
from .nets import build_nets

__all__ = ["NAMED_SOURCES", "ImageDataset", "ImageGAN", "build_nets", "load_source"]
