"""Measuring the generator attack of :mod:`socialgan.text.attack.generator_attack`: success rates
of the pretrained LM and of the RL-tuned attacker, then hardening the detector on the
attacker's outputs and attacking it again, with clean accuracy before and after.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from socialgan.errors import DataError
from socialgan.text.attack.attacks import check_labels, check_text_list
from socialgan.text.attack.generator_attack import GeneratorAttack, _spam_scores
from socialgan.text.attack.spam_lm import extract_payloads

__all__ = ["generator_attack_report"]


def _texts_labels(data: Any, what: str) -> tuple[list[str], np.ndarray]:
    """``(texts, labels)`` from a ``(texts, labels)`` pair or a TextDataset."""
    if hasattr(data, "texts") and hasattr(data, "labels"):
        texts, labels = list(data.texts), data.labels
    elif isinstance(data, tuple) and len(data) == 2:
        texts, labels = data
    else:
        raise DataError(f"{what} must be a (texts, labels) pair or a TextDataset")
    texts = check_text_list(texts)
    return texts, check_labels(labels, len(texts))


def _public(metrics: dict[str, Any], n_examples: int = 5) -> dict[str, Any]:
    out = {k: v for k, v in metrics.items() if k != "texts"}
    out["examples"] = metrics["texts"][:n_examples]
    return out


def generator_attack_report(
    detector: Any,
    spam_train: Sequence[str],
    *,
    n: int = 300,
    train: Any = None,
    test: Any = None,
    make_detector: Callable[[], Any] | None = None,
    n_harden: int | None = None,
    spam_label: Any = 1,
    seed: int = 0,
    lm: GeneratorAttack | None = None,
    **attack_params: Any,
) -> dict[str, Any]:
    """The generator attack on ``detector``, before and (optionally) after hardening.

    Args:
        detector: the fitted detector under attack (used black-box, never refitted).
        spam_train: the training spam the attacker's LM learns from.
        n: messages generated per measurement. Default 300.
        train: ``(texts, labels)`` or a TextDataset: the detector's training data. With
            ``make_detector``, enables hardening: ``make_detector().fit(train texts +
            n_harden attacker outputs, labels + spam_label)``.
        test: ``(texts, labels)`` or a TextDataset: clean accuracy before/after hardening.
        make_detector: builds a fresh, unfitted detector of the same kind.
        n_harden: attacker outputs added to the training data. Default ``n``.
        spam_label: the label given to the attacker's outputs. Default 1.
        seed: the attack's seed; measurements use other seeds than training. Default 0.
        lm: a pretrained :class:`GeneratorAttack` whose LM and vocabulary to reuse (skips
            pretraining, e.g. to attack with another payload kind).
        attack_params: hyperparameters of :class:`GeneratorAttack` (``payload``,
            ``payloads``, ``rl_steps`` ...).

    Returns:
        A JSON-ready dict: ``lm_only``, ``attack`` (after RL) and, when hardening,
        ``hardened`` (``replayed``: the pre-hardening attack's measured messages rescored by
        the hardened detector; ``attack``: a fresh RL phase against it), each with
        ``success_rate``, ``distinct_2``, ``lm_logprob_per_token`` and a few examples; the
        headline rates ``success_lm_only``, ``success_before_hardening``,
        ``success_after_hardening``; ``clean_accuracy_before``/``_after`` when ``test``
        is given; the threshold, RL reward curve ends and seconds.
    """
    if int(n) < 1:
        raise DataError(f"n must be at least 1, got {n}")
    if (train is None) != (make_detector is None):
        raise DataError("hardening needs both train and make_detector (or neither)")
    t0 = time.perf_counter()
    eval_seed, harden_seed = seed + 1000, seed + 2000
    if lm is None:
        attack = GeneratorAttack(detector, seed=seed, **attack_params).pretrain(spam_train)
    else:
        params = dict(attack_params)
        pool = params.pop("payloads", None)
        if pool is None:
            pool = extract_payloads(spam_train, params.get("payload", "link"))
        attack = lm.with_detector(detector, payloads=pool, seed=seed, **params)
    lm_only = attack.evaluate(n, eval_seed, pretrained=True)
    attack.reinforce()
    after_rl = attack.evaluate(n, eval_seed)
    out: dict[str, Any] = {
        "threshold": attack.threshold,
        "payload": "given" if "payloads" in attack_params else attack_params.get("payload", "link"),
        "n_payloads": len(attack.payloads_),
        "vocab_size": len(attack.vocab_),
        "rl_steps": attack.rl_steps,
        "lm_only": _public(lm_only),
        "attack": {**_public(after_rl), **_reward_ends(attack)},
        "success_lm_only": lm_only["success_rate"],
        "success_before_hardening": after_rl["success_rate"],
    }
    if test is not None:
        test_texts, test_labels = _texts_labels(test, "test")
        out["clean_accuracy_before"] = _accuracy(detector, test_texts, test_labels)
    if train is not None and make_detector is not None:
        texts, labels = _texts_labels(train, "train")
        adversarial = attack.generate(n if n_harden is None else int(n_harden), harden_seed)
        y = np.concatenate([labels, np.full(len(adversarial), spam_label, dtype=labels.dtype)])
        hardened = make_detector().fit(texts + adversarial, y)
        replay = _spam_scores(hardened, after_rl["texts"])
        again = attack.with_detector(hardened).reinforce()
        after_h = again.evaluate(n, eval_seed)
        out["hardened"] = {
            "n_adversarial": len(adversarial),
            "threshold": again.threshold,
            "replayed_success_rate": float(np.mean(replay < again.threshold)),
            "attack": {**_public(after_h), **_reward_ends(again)},
        }
        out["success_after_hardening"] = after_h["success_rate"]
        if test is not None:
            out["clean_accuracy_after"] = _accuracy(hardened, test_texts, test_labels)
    out["seconds"] = time.perf_counter() - t0
    return out


def _reward_ends(attack: GeneratorAttack, k: int = 10) -> dict[str, float]:
    """Mean RL reward over the first and last ``k`` steps."""
    r = [h["reward"] for h in attack.history_]
    if not r:
        return {}
    return {"reward_first": float(np.mean(r[:k])), "reward_last": float(np.mean(r[-k:]))}


def _accuracy(detector: Any, texts: list[str], labels: np.ndarray) -> float:
    return float(np.mean(np.asarray(detector.predict(texts)) == labels))
