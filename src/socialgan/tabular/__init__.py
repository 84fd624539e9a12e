"""Account tables: metadata, the data transformer, the tabular GAN and the bot detector.

- :mod:`~socialgan.tabular.data`: read CSV / JSON lines in a stated encoding; the named
  tables ``twitter-bots`` and ``adult``.
- :mod:`~socialgan.tabular.metadata`: each column's kind (continuous, categorical,
  boolean, datetime; free text and identifiers are left out), inferred with overrides.
- :mod:`~socialgan.tabular.transformer`: mode-specific normalization and one-hot codes,
  exactly invertible, saved as JSON + arrays.
- :mod:`~socialgan.tabular.gan`: :class:`TabularGAN`, the CTGAN-class synthesizer.
- :mod:`~socialgan.tabular.evaluate`: quality, ML efficacy, privacy and plots of synthetic
  rows (``socialgan accounts evaluate``).
- :mod:`~socialgan.tabular.features` and :mod:`~socialgan.tabular.detect`:
  :class:`AccountDetector`, the bot / fake-account detector.
- :mod:`~socialgan.tabular.oversample`: SMOTE-NC or synthesizer rows for the rare class.
- :mod:`~socialgan.tabular.adaptive`: adaptive bots, a generator fine-tuned to evade a
  frozen detector, and hardening against it.
"""

from socialgan.tabular.data import (
    LABEL_COLUMNS,
    NAMED_TABLES,
    load_adult,
    load_table,
    load_twitter_bots,
    read_table,
)
from socialgan.tabular.detect import AccountDetector
from socialgan.tabular.gan import TabularGAN
from socialgan.tabular.metadata import ColumnMeta, TableMetadata
from socialgan.tabular.oversample import oversample
from socialgan.tabular.transformer import TableTransformer

__all__ = [
    "LABEL_COLUMNS",
    "NAMED_TABLES",
    "AccountDetector",
    "ColumnMeta",
    "TableMetadata",
    "TableTransformer",
    "TabularGAN",
    "load_adult",
    "load_table",
    "load_twitter_bots",
    "oversample",
    "read_table",
]
