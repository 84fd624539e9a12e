"""socialgan: generative adversarial networks for social media content."""

__version__ = "0.1.0"
