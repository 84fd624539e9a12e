"""socialgan: generative adversarial networks for social media content.

Example:
    >>> import socialgan
    >>> model = socialgan.load("models/spam")  # doctest: +SKIP  (any saved model)
"""

from socialgan.loading import load

__version__ = "0.1.0"

__all__ = ["__version__", "load"]
