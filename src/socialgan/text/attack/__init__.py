"""Attacks on text detectors and the defences against them.

* Evasion: :mod:`.attacks` (the character- and word-level disguises) and :mod:`.evasion`
  (black-box drivers, attack reports, robustness tables).
* Hardening: :mod:`.normalize` (undoing the disguises) and :mod:`.hardening`
  (``NormalizingDetector``, adversarial training data).
* The generator attack: :mod:`.spam_lm` (tokenizer, payloads, the spam language model),
  :mod:`.generator_attack` (``GeneratorAttack``, policy-gradient fine-tuning against a
  detector) and :mod:`.generator_report` (attack, harden, attack again).

The public names are importable from :mod:`socialgan.text`.
"""
