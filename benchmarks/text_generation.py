"""Machine-made posts: detect them on TweepFake (and, next, generate them).

Protocol:

- TweepFake (Fagni et al. 2021; ``../shared/data/tweepfake``): the official splits, 20,712
  train / 2,302 validation / 2,558 test tweets, half by 17 human accounts and half by 23
  bots imitating them (GPT-2, RNN and "others": Markov chains, LSTM/char models, ...).
  Every detector is fitted on train with its defaults (early stopping, where it has one, on
  its own 10% split of train), scored on validation and test at its stored threshold (0.5):
  accuracy, macro F1, AUC, and recall per generator family (share of that family's test
  tweets flagged as bot; "human" is the share of human tweets passed). Nothing is tuned on
  test; "selected on validation" is the detector with the best validation accuracy.
  Detectors: TF-IDF (word + char n-grams, linear model; defaults), CharCNN (byte CNN +
  hashed n-grams, from scratch), the semi-supervised GAN discriminator (SSGAN, labelled
  rows only), and all-MiniLM-L6-v2 fine-tuned end to end (the only pretrained transformer
  that ships offline here; 6 layers, 22.7M parameters).
- Throughput: ``predict_proba`` on the 2,558 test tweets in one call (texts/second) and the
  median latency of a single-text call (100 calls after a warm-up), same torch threads.

Published anchors on the same split: bag-of-words + LR 0.804, CharCNN 0.851, BERT
fine-tuned 0.896, RoBERTa fine-tuned 0.905; GPT-2-family recall 0.74-0.82.

Run: ``python benchmarks/text_generation.py`` (``--quick`` for a smoke version on slices;
``--sections tweepfake`` reruns a section and merges it into the results file).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
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
from socialgan.text import (  # noqa: E402
    CharCNNDetector,
    MiniLMDetector,
    SSGANDetector,
    TfidfDetector,
    load_tweepfake,
)
from socialgan.text.data import TWEEPFAKE_FAMILIES, TextDataset  # noqa: E402
from socialgan.text.detect.evaluation import classification_metrics  # noqa: E402
from socialgan.text.detect.presets import preset_for  # noqa: E402

SECTIONS = ("tweepfake",)
DETECTORS = ("tfidf", "charcnn", "ssgan", "minilm")
#: Published TweepFake test accuracies (Fagni et al. 2021, Table 4).
ANCHORS = {
    "bag-of-words + LR": 0.804,
    "CharCNN": 0.851,
    "BERT fine-tuned": 0.896,
    "RoBERTa fine-tuned": 0.905,
}


def make_detector(name: str, quick: bool, threads: int) -> Any:
    """A fresh detector with the defaults a user gets (``--quick``: one epoch, a smoke run)."""
    if name == "tfidf":
        params = dict(preset_for("tweepfake").get("detector", {}))
        return TfidfDetector(**params, **({"C": 1.0} if quick else {}))
    if name == "charcnn":
        return CharCNNDetector(**({"max_epochs": 1} if quick else {}))
    if name == "ssgan":
        return SSGANDetector(**({"max_epochs": 1, "lsa_dim": 32} if quick else {}))
    if name == "minilm":
        quick_opts: dict[str, Any] = {"max_epochs": 1, "max_train_seconds": 30} if quick else {}
        return MiniLMDetector(threads=threads, progress=not quick, **quick_opts)
    raise ValueError(name)


def family_recall(test: TextDataset, pred: np.ndarray) -> dict[str, float]:
    """Per family: the share of its test tweets given their true label (bot for the
    generator families, human for ``human``)."""
    families = np.asarray(test.meta["family"])
    out = {}
    for fam in TWEEPFAKE_FAMILIES:
        rows = families == fam
        if rows.any():
            out[fam] = float((pred[rows] == test.labels[rows]).mean())
    return out


def throughput(det: Any, texts: list[str]) -> dict[str, float]:
    det.predict_proba(texts[:32])
    t0 = time.perf_counter()
    det.predict_proba(texts)
    batch = time.perf_counter() - t0
    lat = []
    for t in texts[:100]:
        s = time.perf_counter()
        det.predict_proba([t])
        lat.append(time.perf_counter() - s)
    return {
        "texts_per_second": len(texts) / batch,
        "latency_ms_median": 1000 * float(np.median(lat)),
    }


def run_tweepfake(names: list[str], quick: bool, threads: int) -> dict[str, Any]:
    splits = {s: load_tweepfake(split=s) for s in ("train", "validation", "test")}
    if quick:  # slices: a smoke run, not a measurement
        rng = np.random.default_rng(0)
        sizes = {"train": 600, "validation": 200, "test": 300}
        splits = {
            s: d.subset(np.sort(rng.permutation(len(d))[: sizes[s]])) for s, d in splits.items()
        }
    train, val, test = splits["train"], splits["validation"], splits["test"]
    out: dict[str, Any] = {"n": {s: len(d) for s, d in splits.items()}, "detectors": {}}
    for name in names:
        det = make_detector(name, quick, threads)
        t0, c0 = time.perf_counter(), time.process_time()
        det.fit(train)
        row: dict[str, Any] = {
            "train_minutes": (time.perf_counter() - t0) / 60,
            "train_cpu_minutes": (time.process_time() - c0) / 60,
        }
        for split, data in (("validation", val), ("test", test)):
            proba = det.predict_proba(data)
            pred = det.predict(data)
            for k, v in classification_metrics(data.labels, proba, pred).items():
                row[f"{split}_{k}"] = v
            row[f"{split}_family_recall"] = family_recall(data, np.asarray(pred))
        row.update(throughput(det, list(test.texts)))
        row["detector"] = repr(det)
        if hasattr(det, "best_epoch_"):
            row["best_epoch"] = det.best_epoch_
        out["detectors"][name] = row
        fam = row["test_family_recall"]
        print(
            f"  {name}: test accuracy {row['test_accuracy']:.4f}, gpt2 recall "
            f"{fam.get('gpt2', float('nan')):.3f}, {row['train_minutes']:.1f} min",
            flush=True,
        )
    return out


def summarize(res: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "tweepfake" in res:
        rows = res["tweepfake"]["detectors"]
        best = max(rows, key=lambda n: rows[n]["validation_accuracy"])
        out["tweepfake_best_detector"] = best
        out["tweepfake_test_accuracy"] = rows[best]["test_accuracy"]
        out["tweepfake_gpt2_recall"] = rows[best]["test_family_recall"]["gpt2"]
    return out


def print_tables(out: dict[str, Any], res: dict[str, Any], quick: bool, path: Path) -> None:
    print(f"\nTweepFake test split{quick_note(quick)}")
    if "tweepfake" in res:
        t = res["tweepfake"]
        print(f"n = {t['n']}; fitted on train, threshold 0.5, nothing tuned on test.")
        fams = [f for f in TWEEPFAKE_FAMILIES if f != "human"]
        head = "| detector | val acc | test acc | macro F1 | AUC | human | " + " | ".join(fams)
        print(head + " | train min | texts/s | latency ms |")
        print("|" + "---|" * (head.count("|") + 3))
        for name, r in t["detectors"].items():
            fr = r["test_family_recall"]
            cells = " | ".join(f"{fr.get(f, float('nan')):.3f}" for f in fams)
            print(
                f"| {name} | {r['validation_accuracy']:.4f} | {r['test_accuracy']:.4f} | "
                f"{r['test_macro_f1']:.4f} | {r['test_auc']:.4f} | {fr['human']:.3f} | {cells} | "
                f"{r['train_minutes']:.1f} | {r['texts_per_second']:.0f} | "
                f"{r['latency_ms_median']:.1f} |"
            )
        print("Published (same split): " + ", ".join(f"{k} {v}" for k, v in ANCHORS.items()))
        if "tweepfake_best_detector" in out:
            print(
                f"Selected on validation: {out['tweepfake_best_detector']}, test accuracy "
                f"{out['tweepfake_test_accuracy']:.4f} (target >= 0.91), GPT-2 recall "
                f"{out['tweepfake_gpt2_recall']:.3f} (target >= 0.85)"
            )
    print(machine_line(out["machine"], threads=True))
    stamps = ", ".join(f"{k} {v['date']} @ {v['commit']}" for k, v in out["sections"].items())
    print(f"Sections: {stamps}\nresults: {path}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke version on slices")
    ap.add_argument("--detectors", default=",".join(DETECTORS), help="comma-separated detectors")
    add_sections_option(ap, SECTIONS)
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    add_out_option(ap)
    args = ap.parse_args()
    args.out = output_dir(args.out, args.quick, "text_generation")
    torch.set_num_threads(args.threads)
    names = [n.strip() for n in args.detectors.split(",") if n.strip()]
    unknown = [n for n in names if n not in DETECTORS]
    if unknown:
        ap.error(f"unknown detector(s) {unknown}; choose from {', '.join(DETECTORS)}")
    sections = parse_sections(args.sections, SECTIONS, ap)
    t_start = time.perf_counter()
    runners = {"tweepfake": lambda: run_tweepfake(names, args.quick, args.threads)}
    res, stamps, merge = run_sections(
        "text_generation", SECTIONS, sections, runners, args.quick, args.out, {"detectors": names}
    )
    out: dict[str, Any] = summarize(res)
    out["results"] = res
    out["sections"] = stamps
    out["machine"] = machine()
    out["minutes"] = (time.perf_counter() - t_start) / 60
    if merge:
        out["merged_sections"] = sections
    path = write_results("text_generation", out, args.quick, args.out)
    print_tables(out, res, args.quick, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
