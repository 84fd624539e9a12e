"""Synthetic account tables: socialgan's TabularGAN against the ``ctgan`` package.

Protocol:

- Adult (section ``adult``; UCI Adult, ``../shared/data/adult``): every synthesizer is fitted
  on ``adult.data`` (32,561 rows, 14 columns + the label ``Y``; ``?`` kept as a category)
  and samples as many rows; ``adult.test`` (16,281 rows) is the held-out real data.
  Synthesizers, in one run, same data, same epochs (``--epochs``, default 300, CTGAN's
  default), same batch (500) and one torch thread each: socialgan ``TabularGAN`` (its
  defaults), ``ctgan``'s ``CTGAN`` and ``TVAE`` (0.12.1, defaults; a benchmark-only
  dependency under the BSL-1.1 licence that the library never imports), independent
  marginals (each column drawn from its own empirical distribution), and SMOTE-NC
  (``imbalanced-learn``: new rows interpolated between same-class neighbours).
- ML efficacy: a gradient-boosting classifier (scikit-learn ``HistGradientBoosting``, native
  categories, tuned by 3-fold CV AUC over learning rate and leaves) and a logistic regression
  (one-hot + scaling, C tuned by 3-fold CV) are trained on each synthetic table (or the real
  training table) and tested on ``adult.test``: F1 of ``>50K`` at 0.5 and ROC AUC. The
  headline F1 is the mean of the two classifiers' (the CTGAN paper averages its classifiers
  the same way; its anchors: real 0.669, CTGAN 0.601, TVAE 0.626; SDGym 0.2.2: CTGAN 0.602,
  TVAE 0.619).
- Quality: ``sdmetrics`` QualityReport (column shapes, column-pair trends; overall score) and
  DiagnosticReport (validity, structure) of each synthetic table against ``adult.data``.
- Privacy, on a common encoding (numbers min-max scaled by the training range, categories
  one-hot): DCR, the distance from each of 2,000 synthetic rows to its closest training row,
  beside the same for 2,000 held-out real rows (a synthesizer that copies has a far smaller
  DCR than the held-out rows); the share of exact copies; and a distance membership attack:
  2,000 training rows (members) and 2,000 test rows (non-members) scored by minus their
  distance to the closest synthetic row, ROC AUC (0.5: the samples reveal no membership).
- Fit and sampling time: process CPU seconds (one torch thread; the transformer and mixture
  fits included).
- Bots (section ``bots``; ``../shared/data/twitter_bots``, cleaned by ``load_twitter_bots``:
  2,221 accounts, 1,051 bots, the 5 accounts labelled both ways dropped): 10-fold stratified
  CV (shuffled, seed 0) of ``AccountDetector`` with its defaults, ``gbm`` (LightGBM) and
  ``mlp``, and of the reference baseline, a random forest (500 trees, seed 0) on the five
  counts and four flags, on the same folds: accuracy and F1 at 0.5, ROC AUC, mean and std
  over folds; fit CPU seconds over all folds.
- Imbalance (section ``imbalance``; the same cleaned ``twitter_bots``): 5-fold stratified CV
  (shuffled, seed 0). In each training fold the bots are subsampled (seeded by seed, fold
  and ratio; the same rows for every method) to 5%, 10% and 25% of the training rows; the
  humans are all kept and the test fold is untouched (its natural ~47% bots). Methods, each
  ending in ``AccountDetector("gbm")`` with its defaults: none; class weights
  (``class_weight="balanced"``); SMOTE-NC to 50% bots (``socialgan.tabular.oversample``:
  imbalanced-learn's ``SMOTENC``, 5 neighbours, on the numbers, dates, flags and ``lang``;
  the text and id columns of each new row copied from its nearest real bot); TabularGAN
  oversampling to 50% (its defaults, batch 500, but ``--imbalance-epochs``, default 300,
  fitted on the subsampled training fold, both classes, sampled with ``conditions={"bot":
  1}``; text copied the same way); and the same GAN rows with their text left missing (an
  ablation that shares the GAN fit). F1 at 0.5 and PR-AUC (average precision) on the test
  folds, mean +- std over folds; per ratio, the winner by mean F1 (and by PR-AUC), with its
  paired per-fold F1 margin over the runner-up; ``imbalance_best_method``: the best mean F1
  over the three ratios. CPU seconds per method: oversampling (the GAN fit included, for both
  GAN rows) and the detector fits, over all folds and ratios.

- Adaptive bots (section ``adaptive``): see ``benchmarks/tabular_adaptive.py``, whose
  protocol the table prints beside it.

Run: ``python benchmarks/tabular.py`` (``--quick``: slices and one epoch, a smoke run;
``--sections adult`` reruns one section and merges it into the results file).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    add_out_option,
    add_sections_option,
    machine,
    machine_line,
    output_dir,
    parse_sections,
    quick_note,
    run_sections,
    write_results,
)
from socialgan.tabular import TabularGAN, load_adult  # noqa: E402
from socialgan.tabular.evaluate import efficacy as _efficacy  # noqa: E402
from socialgan.tabular.evaluate import privacy  # noqa: E402
from socialgan.tabular.evaluate import sdmetrics_scores as _sdmetrics_scores  # noqa: E402
from tabular_adaptive import print_adaptive, run_adaptive, summarize_adaptive  # noqa: E402

SECTIONS = ("adult", "bots", "imbalance", "adaptive")
SYNTHESIZERS = ("socialgan", "ctgan", "tvae", "marginals", "smote-nc")
LABEL, POSITIVE = "Y", ">50K"
ANCHORS = {"real": 0.669, "CTGAN (paper)": 0.601, "TVAE (paper)": 0.626, "CTGAN (SDGym)": 0.602}
IMBALANCE_RATIOS = (0.05, 0.10, 0.25)
IMBALANCE_METHODS = ("none", "class weights", "smote-nc", "gan", "gan, text missing")


# ------------------------------------------------------------------ synthesizers
def fit_sample(
    name: str, train: pd.DataFrame, epochs: int, batch: int, seed: int
) -> tuple[pd.DataFrame, float, float]:
    """``(samples, fit CPU s, sample CPU s)`` of one synthesizer, ``len(train)`` rows."""
    discrete = [c for c in train.columns if not pd.api.types.is_numeric_dtype(train[c])]
    n = len(train)
    c0 = time.process_time()
    if name == "socialgan":
        gan = TabularGAN(epochs=epochs, batch_size=batch, seed=seed, progress=False)
        gan.fit(train)
        fit_s = time.process_time() - c0
        c1 = time.process_time()
        out = gan.sample(n, seed=seed)
    elif name in ("ctgan", "tvae"):
        from ctgan import CTGAN, TVAE

        model = (
            CTGAN(epochs=epochs, batch_size=batch, verbose=False, enable_gpu=False)
            if name == "ctgan"
            else TVAE(epochs=epochs, batch_size=batch, enable_gpu=False)
        )
        model.set_random_state(seed)
        model.fit(train, discrete_columns=discrete)
        fit_s = time.process_time() - c0
        c1 = time.process_time()
        out = model.sample(n)
    elif name == "marginals":
        rng = np.random.default_rng(seed)
        fit_s = time.process_time() - c0
        c1 = time.process_time()
        out = pd.DataFrame({c: train[c].to_numpy()[rng.integers(0, n, n)] for c in train.columns})
    elif name == "smote-nc":
        from imblearn.over_sampling import SMOTENC

        x, y = train.drop(columns=[LABEL]), train[LABEL]
        cats = [i for i, c in enumerate(x.columns) if c in discrete]
        counts = y.value_counts()
        strategy = {k: int(2 * v) for k, v in counts.items()}  # doubles every class
        sm = SMOTENC(categorical_features=cats, sampling_strategy=strategy, random_state=seed)
        xs, ys = sm.fit_resample(x, y)
        fit_s = time.process_time() - c0
        c1 = time.process_time()
        new = pd.concat([xs, ys], axis=1).iloc[n:]  # only the interpolated rows
        out = new.sample(n=min(n, len(new)), random_state=seed).reset_index(drop=True)
    else:
        raise ValueError(name)
    return out[list(train.columns)], fit_s, time.process_time() - c1


# ------------------------------------------------------------------ ML efficacy, quality, privacy
# The library's (socialgan.tabular.evaluate, also behind `socialgan accounts evaluate`), bound
# to Adult's label: efficacy(train, test, seed, quick), sdmetrics_scores(real, synth) and
# privacy(train, test, synth, seed).
efficacy = partial(_efficacy, label=LABEL, positive=POSITIVE)
sdmetrics_scores = partial(_sdmetrics_scores, discrete_columns=[LABEL])


# ------------------------------------------------------------------ bots
def run_bots(quick: bool, seed: int) -> dict[str, Any]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    from socialgan.tabular import AccountDetector, load_twitter_bots
    from socialgan.tabular.data import TWITTER_BOOL_COLUMNS, TWITTER_COUNT_COLUMNS
    from socialgan.tabular.detect import cross_validate

    frame = load_twitter_bots()
    folds = 3 if quick else 10
    if quick:
        frame = frame.sample(n=400, random_state=0).reset_index(drop=True)
    out: dict[str, Any] = {"n": len(frame), "bots": int(frame["bot"].sum()), "folds": folds}
    out["models"] = {}
    for model in ("gbm", "mlp"):
        c0 = time.process_time()
        cv = cross_validate(AccountDetector(model, seed=seed), frame, folds=folds, seed=seed)
        out["models"][model] = {**cv, "fit_cpu_s": time.process_time() - c0}
    cols = list(TWITTER_COUNT_COLUMNS) + [c for c in TWITTER_BOOL_COLUMNS if c in frame]
    x = frame[cols].astype(float).fillna(-1).to_numpy()
    y = frame["bot"].to_numpy()
    scores: dict[str, list[float]] = {"accuracy": [], "f1": [], "roc_auc": []}
    c0 = time.process_time()
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for tr, te in splitter.split(x, y):
        rf = RandomForestClassifier(n_estimators=500, random_state=seed, n_jobs=1)
        p = rf.fit(x[tr], y[tr]).predict_proba(x[te])[:, 1]
        scores["accuracy"].append(accuracy_score(y[te], p >= 0.5))
        scores["f1"].append(f1_score(y[te], p >= 0.5))
        scores["roc_auc"].append(roc_auc_score(y[te], p))
    rf_row: dict[str, Any] = {"fit_cpu_s": time.process_time() - c0}
    for k, v in scores.items():
        rf_row[f"cv_{k}"], rf_row[f"cv_{k}_std"] = float(np.mean(v)), float(np.std(v))
    out["models"]["random forest (counts + flags)"] = rf_row
    for name, r in out["models"].items():
        print(f"  {name}: accuracy {r['cv_accuracy']:.4f} AUC {r['cv_roc_auc']:.4f}", flush=True)
    return out


# ------------------------------------------------------------------ imbalance
def subsample_bots(train: pd.DataFrame, ratio: float, seed: list[int]) -> pd.DataFrame:
    """``train`` with all its humans and as many of its bots (drawn with ``seed``) as make
    ``ratio`` of the rows, in the original row order."""
    bots = np.flatnonzero(train["bot"].to_numpy() == 1)
    humans = len(train) - len(bots)
    keep = min(len(bots), max(2, round(ratio * humans / (1 - ratio))))
    chosen = np.random.default_rng(seed).choice(bots, keep, replace=False)
    mask = train["bot"].to_numpy() == 0
    mask[chosen] = True
    return train[mask]


def imbalance_fold(
    train: pd.DataFrame, test: pd.DataFrame, epochs: int, batch: int, seed: int
) -> dict[str, dict[str, float]]:
    """Every method of the study on one subsampled training fold: F1 at 0.5, PR-AUC on
    ``test`` and CPU seconds."""
    from sklearn.metrics import average_precision_score, f1_score

    from socialgan.tabular import AccountDetector
    from socialgan.tabular.oversample import fit_synthesizer, oversample

    y = test["bot"].to_numpy()
    out: dict[str, dict[str, float]] = {}
    gan_fit_s, gan = 0.0, None
    for method in IMBALANCE_METHODS:
        c0 = time.process_time()
        weights = "balanced" if method == "class weights" else None
        rows = train
        if method == "smote-nc":
            rows = oversample(train, "bot", method="smote-nc", seed=seed)
        elif method.startswith("gan"):
            if gan is None:
                gan = fit_synthesizer(train, "bot", seed=seed, epochs=epochs, batch_size=batch)
                gan_fit_s = time.process_time() - c0
            text = "missing" if method == "gan, text missing" else "neighbour"
            rows = oversample(train, "bot", method="gan", synthesizer=gan, seed=seed, text=text)
        det = AccountDetector("gbm", seed=seed, class_weight=weights).fit(rows)
        p = det.category_score(test)
        out[method] = {
            "f1": float(f1_score(y, p >= 0.5, zero_division=0.0)),
            "pr_auc": float(average_precision_score(y, p)),
            "cpu_s": time.process_time() - c0 + (gan_fit_s if method == "gan, text missing" else 0),
            "train_rows": len(rows),
        }
    return out


def run_imbalance(quick: bool, seed: int, epochs: int) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedKFold

    from socialgan.tabular import load_twitter_bots

    frame = load_twitter_bots()
    folds, ratios, batch = 5, IMBALANCE_RATIOS, 500
    if quick:
        frame = frame.sample(n=800, random_state=0).reset_index(drop=True)
        folds, ratios, batch = 2, (0.10, 0.25), 100
    y = frame["bot"].to_numpy()
    per: dict[str, dict[str, dict[str, list[float]]]] = {
        f"{r:.2f}": {m: {} for m in IMBALANCE_METHODS} for r in ratios
    }
    kept: dict[str, list[int]] = {f"{r:.2f}": [] for r in ratios}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (tr, te) in enumerate(splitter.split(np.zeros(len(y)), y)):
        for ratio in ratios:
            key = f"{ratio:.2f}"
            train = subsample_bots(frame.iloc[tr], ratio, [seed, fold, round(ratio * 1000)])
            kept[key].append(int(train["bot"].sum()))
            torch.manual_seed(seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scores = imbalance_fold(train, frame.iloc[te], epochs, batch, seed)
            for method, row in scores.items():
                for k, v in row.items():
                    per[key][method].setdefault(k, []).append(v)
            line = ", ".join(f"{m} {r['f1']:.3f}" for m, r in scores.items())
            print(f"  fold {fold + 1}/{folds}, bots {ratio:.0%}: F1 {line}", flush=True)
    results: dict[str, Any] = {}
    for key, methods in per.items():
        rows: dict[str, Any] = {}
        for method, v in methods.items():
            rows[method] = {
                "f1": float(np.mean(v["f1"])),
                "f1_std": float(np.std(v["f1"])),
                "pr_auc": float(np.mean(v["pr_auc"])),
                "pr_auc_std": float(np.std(v["pr_auc"])),
                "cpu_s": float(np.sum(v["cpu_s"])),
                "train_rows": float(np.mean(v["train_rows"])),
                "f1_folds": v["f1"],
                "pr_auc_folds": v["pr_auc"],
            }
        ranked = sorted(rows, key=lambda m: -rows[m]["f1"])
        margin = np.subtract(rows[ranked[0]]["f1_folds"], rows[ranked[1]]["f1_folds"])
        results[key] = {
            "bots_kept": float(np.mean(kept[key])),
            "methods": rows,
            "winner_f1": ranked[0],
            "runner_up_f1": ranked[1],
            "margin_f1": float(margin.mean()),
            "margin_f1_std": float(margin.std()),
            "winner_pr_auc": max(rows, key=lambda m: rows[m]["pr_auc"]),
        }
    mean_f1 = {
        m: float(np.mean([results[k]["methods"][m]["f1"] for k in results]))
        for m in IMBALANCE_METHODS
    }
    return {
        "n": len(frame),
        "bots": int(y.sum()),
        "folds": folds,
        "ratios": list(ratios),
        "epochs": epochs,
        "batch_size": batch,
        "ratios_results": results,
        "mean_f1": mean_f1,
        "best_method": max(mean_f1, key=lambda m: mean_f1[m]),
    }


# ------------------------------------------------------------------ the section
def run_adult(names: list[str], epochs: int, quick: bool, seed: int) -> dict[str, Any]:
    train, test = load_adult(split="train"), load_adult(split="test")
    batch = 500
    if quick:
        train = train.sample(n=1500, random_state=0).reset_index(drop=True)
        test = test.sample(n=1000, random_state=0).reset_index(drop=True)
        batch = 100
    out: dict[str, Any] = {
        "n": {"train": len(train), "test": len(test)},
        "epochs": epochs,
        "batch_size": batch,
        "real": {"efficacy": efficacy(train, test, seed, quick)},
    }
    print(f"  real: F1 {out['real']['efficacy']['f1']:.4f}", flush=True)
    out["models"] = {}
    for name in names:
        torch.manual_seed(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            synth, fit_s, sample_s = fit_sample(name, train, epochs, batch, seed)
            row: dict[str, Any] = {"fit_cpu_s": fit_s, "sample_cpu_s": sample_s}
            row["efficacy"] = efficacy(synth, test, seed, quick)
            row.update(sdmetrics_scores(train, synth))
            row["privacy"] = privacy(train, test, synth, seed)
        out["models"][name] = row
        print(
            f"  {name}: F1 {row['efficacy']['f1']:.4f} quality {row['quality']:.4f} "
            f"fit {fit_s:.0f} CPU s",
            flush=True,
        )
    return out


def summarize(res: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "adult" in res:
        a, m = res["adult"], res["adult"]["models"]
        out["adult_f1_real"] = a["real"]["efficacy"]["f1"]
        for key, name in (("ours", "socialgan"), ("ctgan", "ctgan"), ("tvae", "tvae")):
            if name in m:
                out[f"adult_f1_{key}"] = m[name]["efficacy"]["f1"]
        if "socialgan" in m:
            out["quality_ours"], out["fit_s_ours"] = (
                m["socialgan"]["quality"],
                m["socialgan"]["fit_cpu_s"],
            )
        if "ctgan" in m:
            out["quality_ctgan"], out["fit_s_ctgan"] = (
                m["ctgan"]["quality"],
                m["ctgan"]["fit_cpu_s"],
            )
    if "bots" in res:
        out["bots_10fold_accuracy"] = res["bots"]["models"]["gbm"]["cv_accuracy"]
        out["bots_10fold_accuracy_baseline"] = res["bots"]["models"][
            "random forest (counts + flags)"
        ]["cv_accuracy"]
    if "imbalance" in res:
        i = res["imbalance"]
        out["imbalance_best_method"] = i["best_method"]
        out["imbalance_winners"] = {k: r["winner_f1"] for k, r in i["ratios_results"].items()}
        out["imbalance_winners_pr_auc"] = {
            k: r["winner_pr_auc"] for k, r in i["ratios_results"].items()
        }
        out["imbalance_mean_f1"] = i["mean_f1"]
    if "adaptive" in res:
        out.update(summarize_adaptive(res["adaptive"]))
    return out


def print_tables(out: dict[str, Any], res: dict[str, Any], quick: bool, path: Path) -> None:
    if "adult" in res:
        a = res["adult"]
        print(f"\nAdult: synthetic rows, tested on real adult.test{quick_note(quick)}")
        print(
            f"n = {a['n']}; {a['epochs']} epochs, batch {a['batch_size']}, one torch thread; "
            "F1 of >50K at 0.5 (mean of tuned GBM and LR)."
        )
        print(
            "| data | F1 | GBM F1 | LR F1 | GBM AUC | quality | shapes | pair trends | "
            "diagnostic | DCR syn / holdout | copies | MIA AUC | fit CPU s | sample CPU s |"
        )
        print("|" + "---|" * 15)
        e = a["real"]["efficacy"]
        print(
            f"| real (adult.data) | {e['f1']:.4f} | {e['gbm']['f1']:.4f} | {e['lr']['f1']:.4f} | "
            f"{e['gbm']['auc']:.4f} | - | - | - | - | - | - | - | - | - |"
        )
        for name, r in a["models"].items():
            e, p = r["efficacy"], r["privacy"]
            print(
                f"| {name} | {e['f1']:.4f} | {e['gbm']['f1']:.4f} | {e['lr']['f1']:.4f} | "
                f"{e['gbm']['auc']:.4f} | {r['quality']:.4f} | {r['column_shapes']:.4f} | "
                f"{r['column_pair_trends']:.4f} | {r['diagnostic']:.4f} | "
                f"{p['dcr_synthetic_median']:.3f} / {p['dcr_holdout_median']:.3f} | "
                f"{p['exact_copies']:.3f} | {p['membership_auc']:.3f} | {r['fit_cpu_s']:.0f} | "
                f"{r['sample_cpu_s']:.1f} |"
            )
        print(
            "Published F1 (CTGAN paper protocol): "
            + ", ".join(f"{k} {v}" for k, v in ANCHORS.items())
        )
        if "fit_s_ours" in out and "fit_s_ctgan" in out:
            print(
                f"Targets: F1 >= 0.64 and above ctgan's ({out.get('adult_f1_ours', 0):.4f} vs "
                f"{out.get('adult_f1_ctgan', 0):.4f}); quality above ctgan's "
                f"({out['quality_ours']:.4f} vs {out['quality_ctgan']:.4f}); fit time at most "
                f"half of ctgan's ({out['fit_s_ours'] / out['fit_s_ctgan']:.2f}x)"
            )
    if "bots" in res:
        b = res["bots"]
        print(f"\ntwitter_bots, {b['folds']}-fold stratified CV{quick_note(quick)}")
        print(f"n = {b['n']} accounts ({b['bots']} bots); threshold 0.5; mean +- std over folds.")
        print("| model | accuracy | F1 | ROC AUC | fit CPU s (all folds) |")
        print("|---|---|---|---|---|")
        for name, r in b["models"].items():
            print(
                f"| {name} | {r['cv_accuracy']:.4f} +- {r['cv_accuracy_std']:.4f} | "
                f"{r['cv_f1']:.4f} +- {r['cv_f1_std']:.4f} | {r['cv_roc_auc']:.4f} +- "
                f"{r['cv_roc_auc_std']:.4f} | {r['fit_cpu_s']:.1f} |"
            )
        print("Target: accuracy >= 0.95 (AccountDetector gbm).")
    if "imbalance" in res:
        print_imbalance(res["imbalance"], quick)
    if "adaptive" in res:
        print_adaptive(res["adaptive"], quick)
    print(machine_line(out["machine"], threads=True))
    stamps = ", ".join(f"{k} {v['date']} @ {v['commit']}" for k, v in out["sections"].items())
    print(f"Sections: {stamps}\nresults: {path}")


def print_imbalance(i: dict[str, Any], quick: bool) -> None:
    results = i["ratios_results"]
    print(
        f"\ntwitter_bots, imbalance: bots subsampled in the training folds, "
        f"{i['folds']}-fold stratified CV{quick_note(quick)}"
    )
    kept = ", ".join(
        f"{float(k):.0%}: {r['bots_kept']:.0f} bots of {r['methods']['none']['train_rows']:.0f}"
        for k, r in results.items()
    )
    print(
        f"n = {i['n']} accounts ({i['bots']} bots); training rows per fold ({kept}); test folds "
        f"untouched. AccountDetector gbm; oversampling to 50% bots; TabularGAN epochs "
        f"{i['epochs']}, batch {i['batch_size']}. F1 at 0.5 and PR-AUC, mean +- std over folds."
    )
    head = " | ".join(f"F1 @{float(k):.0%} | PR-AUC @{float(k):.0%}" for k in results)
    print(f"| method | {head} | mean F1 | CPU s |")
    print("|---" * (2 * len(results) + 3) + "|")
    for m in IMBALANCE_METHODS:
        cells = " | ".join(
            f"{r['methods'][m]['f1']:.4f} +- {r['methods'][m]['f1_std']:.4f} | "
            f"{r['methods'][m]['pr_auc']:.4f} +- {r['methods'][m]['pr_auc_std']:.4f}"
            for r in results.values()
        )
        cpu = sum(r["methods"][m]["cpu_s"] for r in results.values())
        print(f"| {m} | {cells} | {i['mean_f1'][m]:.4f} | {cpu:.1f} |")
    for k, r in results.items():
        print(
            f"Bots {float(k):.0%}: {r['winner_f1']} wins on F1 "
            f"({r['methods'][r['winner_f1']]['f1']:.4f}, {r['margin_f1']:+.4f} over "
            f"{r['runner_up_f1']}, paired fold std {r['margin_f1_std']:.4f}); "
            f"best PR-AUC: {r['winner_pr_auc']}."
        )
    print(f"Best over the ratios (mean F1): {i['best_method']}.")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke version on slices")
    ap.add_argument("--epochs", type=int, default=300, help="epochs of every synthesizer")
    ap.add_argument(
        "--synthesizers", default=",".join(SYNTHESIZERS), help="comma-separated synthesizers"
    )
    ap.add_argument(
        "--imbalance-epochs",
        type=int,
        default=300,
        help="TabularGAN epochs of the imbalance section's oversampling (default 300)",
    )
    ap.add_argument(
        "--adaptive-epochs",
        type=int,
        default=300,
        help="TabularGAN epochs of the adaptive-bot attacker's synthesizer (default 300)",
    )
    ap.add_argument("--seed", type=int, default=0)
    add_sections_option(ap, SECTIONS)
    add_out_option(ap)
    args = ap.parse_args()
    args.out = output_dir(args.out, args.quick, "tabular")
    torch.set_num_threads(1)
    names = [n.strip() for n in args.synthesizers.split(",") if n.strip()]
    unknown = [n for n in names if n not in SYNTHESIZERS]
    if unknown:
        ap.error(f"unknown synthesizer(s) {unknown}; choose from {', '.join(SYNTHESIZERS)}")
    sections = parse_sections(args.sections, SECTIONS, ap)
    epochs = 1 if args.quick else args.epochs
    imbalance_epochs = 1 if args.quick else args.imbalance_epochs
    adaptive_epochs = 1 if args.quick else args.adaptive_epochs
    t_start = time.perf_counter()
    runners = {
        "adult": lambda: run_adult(names, epochs, args.quick, args.seed),
        "bots": lambda: run_bots(args.quick, args.seed),
        "imbalance": lambda: run_imbalance(args.quick, args.seed, imbalance_epochs),
        "adaptive": lambda: run_adaptive(args.quick, args.seed, adaptive_epochs),
    }
    stamp = {
        "synthesizers": names,
        "epochs": epochs,
        "imbalance_epochs": imbalance_epochs,
        "adaptive_epochs": adaptive_epochs,
    }
    res, stamps, merge = run_sections(
        "tabular", SECTIONS, sections, runners, args.quick, args.out, stamp
    )
    out: dict[str, Any] = summarize(res)
    out["results"], out["sections"], out["machine"] = res, stamps, machine()
    out["minutes"] = (time.perf_counter() - t_start) / 60
    if merge:
        out["merged_sections"] = sections
    path = write_results("tabular", out, args.quick, args.out)
    print_tables(out, res, args.quick, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
