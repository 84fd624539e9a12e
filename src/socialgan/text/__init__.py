"""Text moderation: data loaders, the classic TF-IDF detector, neural and semi-supervised
GAN detectors, low-label curves and moderation output.

Shared here: :mod:`.data` and :mod:`.readers` (loaders), :mod:`.features` (text cleaning
and features), :mod:`.cli` (``socialgan text ...``). The detectors and what only they use
are in :mod:`.detect`; evasion, hardening and the generator attack in :mod:`.attack`;
:mod:`.generate` will hold the language models and text GANs. Their public names are
importable from here.

Example:
    >>> from socialgan.text import TfidfDetector, load_youtube_spam, moderate
    >>> data = load_youtube_spam()
    >>> spam = TfidfDetector().fit(data)
    >>> moderate(["subscribe to my channel"], {"spam": spam})[0]["flagged"]
"""

from socialgan.text.attack.evasion import (
    ATTACKS,
    AttackReport,
    adaptive_attack,
    attack_report,
    attack_success_rate,
    evaluate_robustness,
)
from socialgan.text.attack.generator_attack import GeneratorAttack
from socialgan.text.attack.generator_report import generator_attack_report
from socialgan.text.attack.hardening import (
    NormalizingDetector,
    adversarial_augment,
    load_text_detector,
)
from socialgan.text.attack.normalize import normalize_text
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
    load_tweepfake,
    load_youtube_spam,
)
from socialgan.text.detect.classic import TfidfDetector
from socialgan.text.detect.evaluation import (
    classification_metrics,
    cross_validate,
    evaluate_split,
    nested_group_selection,
)
from socialgan.text.detect.finetuned import MiniLMDetector
from socialgan.text.detect.lowlabel import low_label_curve
from socialgan.text.detect.moderation import moderate
from socialgan.text.detect.neural import CharCNNDetector
from socialgan.text.detect.ssgan import SSGANDetector
from socialgan.text.detect.stacked import StackedDetector
from socialgan.text.generate import MLETextGenerator, TextTokenizer

__all__ = [
    "ATTACKS",
    "NAMED_SOURCES",
    "AttackReport",
    "CharCNNDetector",
    "GeneratorAttack",
    "MLETextGenerator",
    "MiniLMDetector",
    "NormalizingDetector",
    "SSGANDetector",
    "StackedDetector",
    "TextDataset",
    "TextTokenizer",
    "TfidfDetector",
    "adaptive_attack",
    "adversarial_augment",
    "attack_report",
    "attack_success_rate",
    "classification_metrics",
    "cross_validate",
    "evaluate_robustness",
    "evaluate_split",
    "find_data_dir",
    "generator_attack_report",
    "load_airline",
    "load_liar",
    "load_named",
    "load_ott",
    "load_source",
    "load_text_detector",
    "load_text_file",
    "load_tweepfake",
    "load_youtube_spam",
    "low_label_curve",
    "moderate",
    "nested_group_selection",
    "normalize_text",
]
