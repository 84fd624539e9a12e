"""Black-box evasion of text detectors, and the adversarial training data that hardens them.

The drivers use only a detector's ``predict_proba(list[str]) -> (n, 2)`` (column 1 =
flagged) and its optional ``threshold`` attribute (default 0.5), so they work for any
detector, including a :class:`socialgan.text.attack.hardening.NormalizingDetector`:

- :func:`attack_report` / :func:`attack_success_rate`: apply one attack of
  :data:`~socialgan.text.attack.attacks.ATTACKS` to every correctly flagged text and count how
  many are no longer flagged;
- :func:`adaptive_attack`: a greedy attacker that disguises the most important words
  first (those whose removal lowers the score most), trying every word-level move and
  keeping the best, until the text passes or its query budget is spent;
- :func:`evaluate_robustness`: all of the above in one table.

The defences are in :mod:`socialgan.text.attack.hardening`.

Queries are batched: all candidate texts of a round, over all attacked texts, are scored
in a few ``predict_proba`` calls.

Example:
    >>> from socialgan.text import TfidfDetector, load_youtube_spam
    >>> from socialgan.text.attack.evasion import adaptive_attack, attack_report
    >>> data = load_youtube_spam()
    >>> det = TfidfDetector().fit(data)
    >>> attack_report(det, data.texts, "homoglyph", labels=data.labels).success_rate
    >>> adaptive_attack(det, data.texts, labels=data.labels, max_queries=50).summary()
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from socialgan.errors import DataError
from socialgan.text.attack.attacks import (
    ATTACKS,
    WORD_ATTACKS,
    Attack,
    WordAttack,
    check_labels,
    check_text_list,
    get_attack,
    join_parts,
    word_segments,
)

__all__ = [
    "ADAPTIVE_MOVES",
    "ATTACKS",
    "AttackReport",
    "adaptive_attack",
    "attack_report",
    "attack_success_rate",
    "evaluate_robustness",
]

#: Word-level moves the adaptive attacker tries on each word, in this order.
ADAPTIVE_MOVES = ("homoglyph", "zero_width", "leet", "spacing", "synonym")


@dataclass
class AttackReport:
    """Outcome of an attack on the texts a detector flags.

    Attributes:
        attack: the attack's name (``"adaptive"`` for :func:`adaptive_attack`).
        n_targets: texts considered (the positives when labels were given, else all).
        n_flagged: targets the detector flagged before the attack: the ones attacked.
        n_evaded: attacked texts that are no longer flagged.
        success_rate: ``n_evaded / n_flagged`` (NaN when nothing was flagged).
        mean_queries: detector queries per attacked text, not counting the one that
            found it flagged (1 for a one-shot attack).
        mean_score_before, mean_score_after: mean flagged-class score of the attacked texts.
        mean_words_changed: disguised words per attacked text.
        threshold: the score at or above which a text is flagged.
        indices: position in the input of each attacked text.
        adversarial: the attacked texts, in the order of ``indices``.
        evaded: whether each attacked text got through.
    """

    attack: str
    n_targets: int
    n_flagged: int
    n_evaded: int
    success_rate: float
    mean_queries: float
    mean_score_before: float
    mean_score_after: float
    mean_words_changed: float
    threshold: float
    indices: np.ndarray = field(repr=False)
    adversarial: list[str] = field(repr=False)
    evaded: np.ndarray = field(repr=False)

    def summary(self) -> dict[str, Any]:
        """The scalar fields, JSON-ready."""
        keys = (
            "attack n_targets n_flagged n_evaded success_rate mean_queries "
            "mean_score_before mean_score_after mean_words_changed threshold"
        ).split()
        return {k: getattr(self, k) for k in keys}


# --------------------------------------------------------------------------- helpers
def _scores(detector: Any, texts: list[str], batch_size: int) -> np.ndarray:
    """Flagged-class probability of each text, ``batch_size`` texts per query call."""
    out = [np.zeros(0)]
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        proba = np.asarray(detector.predict_proba(batch), dtype=np.float64)
        if proba.shape != (len(batch), 2):
            raise DataError(
                f"{type(detector).__name__}.predict_proba returned shape {proba.shape}; "
                f"expected ({len(batch)}, 2) with column 1 the flagged class"
            )
        out.append(proba[:, 1])
    return np.concatenate(out)


def _targets(
    detector: Any, texts: list[str], labels: Any, threshold: float | None, batch_size: int
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """``(flagged indices, their scores, threshold, number of targets)``."""
    thr = float(getattr(detector, "threshold", 0.5) if threshold is None else threshold)
    pool = np.arange(len(texts))
    if labels is not None:
        pool = np.flatnonzero(check_labels(labels, len(texts)) == 1)
    scores = _scores(detector, [texts[i] for i in pool], batch_size)
    hit = scores >= thr
    return pool[hit], scores[hit], thr, len(pool)


def _words_changed(original: str, attacked: str) -> int:
    """Whitespace-separated words of ``original`` that do not survive into ``attacked``."""
    a, b = original.split(), attacked.split()
    kept = sum(
        m.size for m in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
    )
    return len(a) - kept


def _report(
    name: str,
    targets: tuple[np.ndarray, np.ndarray, float, int],
    after: np.ndarray,
    adversarial: list[str],
    queries: np.ndarray,
    changed: np.ndarray,
) -> AttackReport:
    idx, before, thr, n_targets = targets
    evaded = after < thr
    n = len(idx)

    def mean(x: np.ndarray) -> float:
        return float(np.mean(x)) if n else float("nan")

    return AttackReport(
        attack=name,
        n_targets=n_targets,
        n_flagged=n,
        n_evaded=int(evaded.sum()),
        success_rate=mean(evaded),
        mean_queries=mean(queries),
        mean_score_before=mean(before),
        mean_score_after=mean(after),
        mean_words_changed=mean(changed),
        threshold=thr,
        indices=idx,
        adversarial=adversarial,
        evaded=evaded,
    )


# --------------------------------------------------------------------------- one-shot
def attack_report(
    detector: Any,
    texts: Sequence[str],
    attack: str | Attack,
    *,
    labels: Any = None,
    strength: float = 0.3,
    seed: int = 0,
    threshold: float | None = None,
    batch_size: int = 2048,
) -> AttackReport:
    """Apply ``attack`` once to every text the detector flags and count how many get through.

    Args:
        detector: anything with ``predict_proba(list[str]) -> (n, 2)``, column 1 flagged.
        texts: the texts to attack.
        attack: a name in :data:`ATTACKS` or an :class:`~socialgan.text.attack.attacks.Attack`.
        labels: optional ``(n,)`` labels: then only positives (label 1) that the detector
            flags are attacked (true positives), since spammers disguise only spam.
        strength: fraction of the eligible words to disguise. Default 0.3.
        seed: text ``i`` is attacked with ``numpy.random.default_rng((seed, i))``, so a
            text's attack does not depend on the others.
        threshold: flagged when the score is at or above it. Default: the detector's
            ``threshold`` attribute, else 0.5.
        batch_size: texts per ``predict_proba`` call. Default 2048.
    """
    texts = check_text_list(texts)
    name, fn = get_attack(attack)
    targets = _targets(detector, texts, labels, threshold, batch_size)
    idx = targets[0]
    adversarial = [fn(texts[i], np.random.default_rng((seed, int(i))), strength) for i in idx]
    after = _scores(detector, adversarial, batch_size)
    changed = np.array([_words_changed(texts[i], a) for i, a in zip(idx, adversarial, strict=True)])
    return _report(name, targets, after, adversarial, np.ones(len(idx)), changed)


def attack_success_rate(
    detector: Any, texts: Sequence[str], attack: str | Attack, **kwargs: Any
) -> float:
    """Share of the flagged texts that are no longer flagged after ``attack``
    (``kwargs`` as in :func:`attack_report`; NaN when nothing is flagged)."""
    return attack_report(detector, texts, attack, **kwargs).success_rate


# --------------------------------------------------------------------------- adaptive
@dataclass(eq=False)  # hashed by identity
class _Greedy:
    """One text under the adaptive attack."""

    parts: list[str]
    words: list[int]
    score: float
    rng: np.random.Generator
    order: list[int] = field(default_factory=list)
    pos: int = 0
    queries: int = 0
    changed: int = 0

    def text(self, word: int | None = None, new: str = "") -> str:
        """The current text, with ``parts[word]`` replaced by ``new`` when given."""
        if word is None:
            return join_parts(self.parts)
        return join_parts([*self.parts[:word], new, *self.parts[word + 1 :]])


def _moves(names: Sequence[str]) -> list[WordAttack]:
    if isinstance(names, str) or not names:
        raise DataError(f"moves must be a non-empty list of names from {list(WORD_ATTACKS)}")
    unknown = [m for m in names if m not in WORD_ATTACKS]
    if unknown:
        raise DataError(f"unknown word moves {unknown}; known: {', '.join(WORD_ATTACKS)}")
    return [WORD_ATTACKS[m] for m in names]


def _rank_words(
    detector: Any, states: list[_Greedy], moves: list[WordAttack], budget: int, batch_size: int
) -> None:
    """Set each state's word order: most important first, by the score of the text with
    the word deleted. Texts with more than ``budget // 2`` candidate words keep text order
    rather than spend most of their budget on ranking."""
    texts: list[str] = []
    owners: list[tuple[_Greedy, int]] = []  # (text, word) of each deletion query
    for s in states:
        s.order = [w for w in s.words if any(m.eligible(s.parts[w]) for m in moves)]
        if 1 < len(s.order) <= budget // 2:
            texts += [s.text(w, "") for w in s.order]
            owners += [(s, w) for w in s.order]
            s.queries += len(s.order)
    without = dict(zip(owners, _scores(detector, texts, batch_size).tolist(), strict=True))
    for s in states:
        if s.queries:
            rank = {w: without[(s, w)] for w in s.order}
            s.order.sort(key=rank.__getitem__)


def adaptive_attack(
    detector: Any,
    texts: Sequence[str],
    *,
    labels: Any = None,
    moves: Sequence[str] = ADAPTIVE_MOVES,
    max_queries: int = 100,
    seed: int = 0,
    threshold: float | None = None,
    batch_size: int = 4096,
    progress: bool = False,
) -> AttackReport:
    """Greedy black-box attack: disguise word by word until the detector lets the text pass.

    For each flagged text: rank the words by how much the score drops when the word is
    deleted (one query per word); then, most important word first, try every eligible
    move of ``moves`` on it (one query each), keep the lowest-scoring variant if it lowers
    the score, and stop once the score is under the threshold or the budget is spent.

    Args:
        detector: anything with ``predict_proba(list[str]) -> (n, 2)``, column 1 flagged.
        texts: the texts to attack.
        labels: optional labels: then only flagged positives (label 1) are attacked.
        moves: names in :data:`~socialgan.text.attack.attacks.WORD_ATTACKS`. Default: all five.
        max_queries: detector queries allowed per text, ranking included. Default 100.
        seed: text ``i`` draws its disguises from ``numpy.random.default_rng((seed, i))``.
        threshold: flagged when the score is at or above it. Default: the detector's
            ``threshold`` attribute, else 0.5.
        batch_size: texts per ``predict_proba`` call. Default 4096.
        progress: show a progress bar of finished texts.

    Returns:
        An :class:`AttackReport` named ``"adaptive"``; ``mean_queries`` is the mean budget
        spent, ``mean_words_changed`` the mean number of disguised words.
    """
    texts = check_text_list(texts)
    word_moves = _moves(moves)
    if max_queries < 1:
        raise DataError(f"max_queries must be at least 1, got {max_queries}")
    targets = _targets(detector, texts, labels, threshold, batch_size)
    idx, before, thr, _ = targets
    states = [
        _Greedy(*word_segments(texts[i]), float(b), np.random.default_rng((seed, int(i))))
        for i, b in zip(idx, before, strict=True)
    ]
    _rank_words(detector, states, word_moves, max_queries, batch_size)
    active = [s for s in states if s.order and s.queries < max_queries]
    with tqdm(total=len(states), desc="adaptive attack", disable=not progress) as bar:
        bar.update(len(states) - len(active))
        while active:
            candidates: list[str] = []
            owners: list[tuple[_Greedy, int, str]] = []
            for s in active:
                w = s.order[s.pos]
                options = [m for m in word_moves if m.eligible(s.parts[w])]
                for m in options[: max_queries - s.queries]:
                    new = m.fn(s.parts[w], s.rng)
                    if new != s.parts[w]:
                        candidates.append(s.text(w, new))
                        owners.append((s, w, new))
                        s.queries += 1
            best: dict[_Greedy, tuple[float, int, str]] = {}
            for (s, w, new), score in zip(
                owners, _scores(detector, candidates, batch_size), strict=True
            ):
                if score < best.get(s, (s.score,))[0]:
                    best[s] = (float(score), w, new)
            still = []
            for s in active:
                if s in best:
                    s.score, w, new = best[s]
                    s.parts[w] = new
                    s.changed += 1
                s.pos += 1
                if s.score >= thr and s.pos < len(s.order) and s.queries < max_queries:
                    still.append(s)
            bar.update(len(active) - len(still))
            active = still
    after = np.array([s.score for s in states])
    adversarial = [s.text() for s in states]
    queries = np.array([s.queries for s in states], dtype=np.float64)
    changed = np.array([s.changed for s in states], dtype=np.float64)
    return _report("adaptive", targets, after, adversarial, queries, changed)


def evaluate_robustness(
    detector: Any,
    texts: Sequence[str],
    labels: Any = None,
    attacks: Sequence[str | Attack] | None = None,
    *,
    strength: float = 0.3,
    seed: int = 0,
    adaptive: bool = True,
    max_queries: int = 100,
    threshold: float | None = None,
) -> dict[str, AttackReport]:
    """``{attack name: report}`` for each one-shot attack (default: all of :data:`ATTACKS`)
    and, when ``adaptive``, the adaptive attack under ``"adaptive"``."""
    reports: dict[str, AttackReport] = {}
    for attack in ATTACKS if attacks is None else attacks:
        report = attack_report(
            detector,
            texts,
            attack,
            labels=labels,
            strength=strength,
            seed=seed,
            threshold=threshold,
        )
        reports[report.attack] = report
    if adaptive:
        reports["adaptive"] = adaptive_attack(
            detector,
            texts,
            labels=labels,
            max_queries=max_queries,
            seed=seed,
            threshold=threshold,
        )
    return reports
