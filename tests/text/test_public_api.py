"""Every public name of ``socialgan.text`` from before the split into ``detect/``,
``attack/`` and ``generate/`` is still importable from ``socialgan.text``."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import socialgan.text

#: ``socialgan.text.__all__`` before the split (issue 11).
NAMES = """
    ATTACKS NAMED_SOURCES AttackReport CharCNNDetector GeneratorAttack
    NormalizingDetector SSGANDetector StackedDetector TextDataset TfidfDetector
    adaptive_attack adversarial_augment attack_report attack_success_rate
    classification_metrics cross_validate evaluate_robustness evaluate_split
    find_data_dir generator_attack_report load_airline load_liar load_named load_ott
    load_source load_text_detector load_text_file load_youtube_spam low_label_curve
    moderate nested_group_selection normalize_text
""".split()


@pytest.mark.parametrize("name", NAMES)
def test_name_importable_from_socialgan_text(name: str) -> None:
    # what ``from socialgan.text import name`` reads: an attribute set by its __init__
    assert name in vars(socialgan.text)


def test_all_keeps_every_old_name() -> None:
    assert set(NAMES) <= set(socialgan.text.__all__)


@pytest.mark.parametrize("package", ["detect", "attack", "generate"])
def test_subpackages_import(package: str) -> None:
    assert importlib.import_module(f"socialgan.text.{package}").__doc__


def test_detect_and_attack_do_not_import_each_other() -> None:
    """Attacks use a detector's ``predict_proba`` (and ``socialgan.loading``), never a
    detector module; detectors never import an attack."""
    root = Path(socialgan.text.__file__).parent
    for package, other in (("detect", "attack"), ("attack", "detect")):
        for path in sorted((root / package).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom):
                    targets = ["." * node.level + (node.module or "")]
                elif isinstance(node, ast.Import):
                    targets = [alias.name for alias in node.names]
                else:
                    continue
                for target in targets:
                    assert not target.startswith((f"socialgan.text.{other}", f"..{other}")), (
                        f"{path.name} imports {target}"
                    )
