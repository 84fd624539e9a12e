"""Section ``adaptive`` of ``benchmarks/tabular.py``: adaptive bots against the account
detector, before the attack, under it, and after hardening.

Protocol (printed with the table):

- Data: the cleaned ``twitter_bots`` (2,221 accounts, 1,051 bots), one stratified 70 / 30
  split per seed (seeds 0, 1, 2). The defender's detector: ``AccountDetector("gbm")`` with
  its defaults, fitted on the 70% and frozen; detected = p(bot) >= 0.5.
- The attacker holds the same 70% (a strong attacker) and a ``TabularGAN`` fitted on it
  (``fit_synthesizer``: its defaults, ``--adaptive-epochs`` = 300 epochs), and runs
  ``AdaptiveBots`` with its defaults: 10 rounds of 1,000 queries to the frozen detector (its
  scores only, a black box), a surrogate MLP refitted on every answer, and 100 generator
  steps of the synthesizer's own WGAN-GP game against real bots with the evasion term.
  Text and id columns of every generated profile come from its nearest real bot.
- Detection rates on fresh profiles (1,000 each, seeds disjoint from the queries): the
  held-out real bots (reference), the synthesizer's bots before the attack, the adapted
  bots under the attack; after hardening (a fresh copy of the detector refitted on the 70%
  plus 1,000 adapted bots), on 1,000 other adapted bots; and a second attack, against the
  hardened detector, starting from the adapted synthesizer (the arms race's next move).
  The hardened detector's accuracy on the real 30% is reported beside the original's.
- Realism: the classifier two-sample test (``realism_auc``: 5-fold ROC AUC of LightGBM on
  the detector's features of the modeled columns) of each set of bots against the
  held-out real bots, and the sdmetrics-style quality score (column shapes and pair
  trends, ``socialgan.tabular.evaluate_quality``) against the same bots; the reference is
  the training split's real bots (AUC 0.5: indistinguishable).
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from common import quick_note

SEEDS = (0, 1, 2)
N_EVAL = 1000
RATES = ("real_bots", "before", "under", "after", "reattack")


def run_seed(frame: pd.DataFrame, seed: int, epochs: int, quick: bool) -> dict[str, Any]:
    from sklearn.model_selection import train_test_split

    from socialgan.tabular import AccountDetector
    from socialgan.tabular.adaptive import AdaptiveBots, harden, realism_auc
    from socialgan.tabular.evaluate_quality import quality_scores, sdtypes_of
    from socialgan.tabular.oversample import complete_rows, fit_synthesizer

    train, test = train_test_split(frame, test_size=0.3, stratify=frame["bot"], random_state=seed)
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    c0 = time.process_time()
    detector = AccountDetector("gbm", seed=seed).fit(train)
    detect_s = time.process_time() - c0
    small = {"rounds": 1, "steps_per_round": 2, "queries": 50} if quick else {}
    n = 100 if quick else N_EVAL
    c0 = time.process_time()
    gan = fit_synthesizer(train, "bot", seed=seed, epochs=epochs, batch_size=100 if quick else 500)
    gan_s = time.process_time() - c0
    before = complete_rows(
        gan.sample(n, seed=10_000 + seed, conditions={"bot": 1}), train, "bot", 1
    )
    c0 = time.process_time()
    attack = AdaptiveBots(gan, detector, train, seed=seed, **small).fit()
    attack_s = time.process_time() - c0
    under = attack.sample(n, seed=20_000 + seed)
    hardened = harden(detector, train, attack.sample(n, seed=30_000 + seed))
    after = attack.sample(n, seed=40_000 + seed)
    c0 = time.process_time()
    again = AdaptiveBots(attack.synthesizer_, hardened, train, seed=seed + 100, **small).fit()
    reattack_s = time.process_time() - c0
    reattacked = again.sample(n, seed=50_000 + seed)

    real_bots = test[test["bot"] == 1]
    rates = {
        "real_bots": float(np.mean(detector.predict(real_bots))),
        "before": float(np.mean(detector.predict(before))),
        "under": float(np.mean(detector.predict(under))),
        "after": float(np.mean(hardened.predict(after))),
        "reattack": float(np.mean(hardened.predict(reattacked))),
        "hardened_on_before": float(np.mean(hardened.predict(before))),
    }
    y = test["bot"].to_numpy()
    accuracy = {
        "original": float(np.mean(detector.predict(test) == y)),
        "hardened": float(np.mean(hardened.predict(test) == y)),
    }
    assert gan.transformer is not None and gan.metadata is not None
    cols = [c for c in gan.transformer.columns if c != "bot"]
    folds = 3 if quick else 5
    sets = (
        ("real_train_bots", train[train["bot"] == 1]),
        ("before", before),
        ("under", under),
        ("reattack", reattacked),
    )
    realism = {
        name: realism_auc(real_bots, rows, cols, folds=folds, seed=seed) for name, rows in sets
    }
    kinds = sdtypes_of({c.name: c.kind for c in gan.metadata.columns if c.name in cols})
    quality = {
        name: quality_scores(real_bots, rows, kinds, seed=seed, backend="socialgan")["quality"]
        for name, rows in sets
    }
    return {
        "seed": seed,
        "detection": rates,
        "accuracy": accuracy,
        "realism_auc": realism,
        "quality": quality,
        "best_round": attack.best_round_,
        "reattack_best_round": again.best_round_,
        "queries": attack.history_[-1]["queries"],
        "history": attack.history_,
        "reattack_history": again.history_,
        "cpu_s": {
            "detector": detect_s,
            "synthesizer": gan_s,
            "attack": attack_s,
            "reattack": reattack_s,
        },
    }


def run_adaptive(quick: bool, seed: int, epochs: int) -> dict[str, Any]:
    from socialgan.tabular import load_twitter_bots

    frame = load_twitter_bots()
    if quick:
        frame = frame.sample(n=400, random_state=0).reset_index(drop=True)
    seeds = (seed,) if quick else tuple(seed + s for s in SEEDS)
    runs = []
    for s in seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            runs.append(run_seed(frame, s, epochs, quick))
        d = runs[-1]["detection"]
        print(
            f"  seed {s}: detected before {d['before']:.3f}, under {d['under']:.3f}, "
            f"after {d['after']:.3f}, re-attack {d['reattack']:.3f}",
            flush=True,
        )
    out: dict[str, Any] = {"n": len(frame), "epochs": epochs, "seeds": list(seeds), "runs": runs}
    for group in ("detection", "accuracy", "realism_auc", "quality"):
        keys = runs[0][group]
        out[group] = {
            k: {
                "mean": float(np.mean([r[group][k] for r in runs])),
                "std": float(np.std([r[group][k] for r in runs])),
            }
            for k in keys
        }
    return out


def summarize_adaptive(a: dict[str, Any]) -> dict[str, Any]:
    d = a["detection"]
    return {
        "adaptive_detection_before": d["before"]["mean"],
        "adaptive_detection_under": d["under"]["mean"],
        "adaptive_detection_after": d["after"]["mean"],
        "adaptive_detection_reattack": d["reattack"]["mean"],
        "adaptive_realism_auc_before": a["realism_auc"]["before"]["mean"],
        "adaptive_realism_auc_under": a["realism_auc"]["under"]["mean"],
        "adaptive_quality_before": a["quality"]["before"]["mean"],
        "adaptive_quality_under": a["quality"]["under"]["mean"],
    }


def print_adaptive(a: dict[str, Any], quick: bool) -> None:
    def ms(x: dict[str, float]) -> str:
        return f"{x['mean']:.3f} +- {x['std']:.3f}"

    d, r, q = a["detection"], a["realism_auc"], a["quality"]
    print(
        "\nAdaptive bots: the frozen gbm detector against a fine-tuned generator"
        + quick_note(quick)
    )
    print(
        f"n = {a['n']}; 70/30 split per seed, seeds {a['seeds']}; TabularGAN {a['epochs']} "
        f"epochs; AdaptiveBots defaults (black box, {a['runs'][0]['queries']:.0f} queries); "
        "detected = p(bot) >= 0.5; mean +- std over seeds."
    )
    print(
        "| bots | detector | detection rate | two-sample AUC vs real held-out bots | "
        "quality vs real held-out bots |"
    )
    print("|---|---|---|---|---|")
    rows = (
        ("real, held out (realism: the training bots)", "original", "real_bots", "real_train_bots"),
        ("synthesizer, before the attack", "original", "before", "before"),
        ("adapted, under the attack", "original", "under", "under"),
        ("adapted, after hardening", "hardened", "after", None),
        ("re-adapted to the hardened detector", "hardened", "reattack", "reattack"),
    )
    for label, det, rate, real in rows:
        tail = f"{ms(r[real])} | {ms(q[real])}" if real else "- | -"
        print(f"| {label} | {det} | {ms(d[rate])} | {tail} |")
    best = [run["best_round"] for run in a["runs"]]
    print(f"Rounds kept by the attacker (lowest queried detection rate): {best}.")
    acc = a["accuracy"]
    print(
        f"Accuracy on the real 30%: original {ms(acc['original'])}, hardened "
        f"{ms(acc['hardened'])}; the hardened detector flags {ms(d['hardened_on_before'])} "
        "of the un-adapted synthetic bots."
    )
