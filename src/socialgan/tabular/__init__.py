"""Account tables: metadata, the data transformer, the tabular GAN and the bot detector.

- :mod:`~socialgan.tabular.data`: read CSV / JSON lines in a stated encoding; the named
  tables ``twitter-bots`` and ``adult``.
- :mod:`~socialgan.tabular.metadata`: each column's kind (continuous, categorical,
  boolean, datetime; free text and identifiers are left out), inferred with overrides.
- :mod:`~socialgan.tabular.transformer`: mode-specific normalization and one-hot codes,
  exactly invertible, saved as JSON + arrays.
- :mod:`~socialgan.tabular.gan`: :class:`TabularGAN`, the CTGAN-class synthesizer.
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
