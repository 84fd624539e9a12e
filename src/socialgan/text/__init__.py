"""Text moderation: data loaders, the classic TF-IDF detector and moderation output.

Example:
    >>> from socialgan.text import TfidfDetector, load_youtube_spam, moderate
    >>> data = load_youtube_spam()
    >>> spam = TfidfDetector().fit(data)
    >>> moderate(["subscribe to my channel"], {"spam": spam})[0]["flagged"]
"""

from socialgan.text.classic import TfidfDetector
from socialgan.text.data import (
    NAMED_SOURCES,
    TextDataset,
    find_data_dir,
    load_airline,
    load_liar,
    load_named,
    load_ott,
    load_source,
    load_text_file,
    load_youtube_spam,
)
from socialgan.text.evaluation import classification_metrics, cross_validate, evaluate_split
from socialgan.text.moderation import moderate

__all__ = [
    "NAMED_SOURCES",
    "TextDataset",
    "TfidfDetector",
    "classification_metrics",
    "cross_validate",
    "evaluate_split",
    "find_data_dir",
    "load_airline",
    "load_liar",
    "load_named",
    "load_ott",
    "load_source",
    "load_text_file",
    "load_youtube_spam",
    "moderate",
]
