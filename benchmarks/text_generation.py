"""Machine-made posts: generate them with language models and text GANs, and detect them.

Protocol:

- Generators (section ``generators``): airline sentiment tweets, the seeded stratified
  80/10/10 split (``airline:train|validation|test``: 11,712 / 1,464 / 1,464), every model
  conditional on the sentiment (negative / neutral / positive), trained on train with its
  defaults until it stops by itself or has used ``--gen-minutes`` of process CPU time
  (the GANs' MLE pretraining included: by default it may use half, the adversarial phase
  the rest). ``--jobs 2`` trains two models at a time, each in its own process with one
  torch thread (the budget is per process). Temperatures 0.6, 0.8, 1.0, 1.2, 1.5 (top-p
  1): at each, 1,000 samples (seed 0); a model's temperature is the one whose samples have
  the lowest FBD against the validation tweets, and at it the same samples are scored
  against the test tweets: BLEU-2..5 (Texygen:
  nltk ``sentence_bleu`` against all test tweets, smoothing method1, 300 hypotheses),
  self-BLEU-2..5 (300 hypotheses, each against the other 999 samples), distinct-2, FBD and
  MAUVE in all-MiniLM-L6-v2 space, test NLL (nats per token, under each tweet's label),
  conditional accuracy (200 samples per class; share that a TF-IDF sentiment classifier
  fitted on train puts in the requested class) and detectability (5-fold CV ROC AUC of the
  default TF-IDF detector at telling 1,000 samples from 1,000 real test tweets). The
  real-vs-real floor scores the validation tweets in place of samples. The curve: BLEU-5
  against self-BLEU-5 over the temperatures on test (Caccia et al. 2020); a GAN is compared
  with the MLE model at matched self-BLEU-5 (``above`` / ``below`` / ``crosses``).

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
- Transfer (section ``transfer``): does a machine-text detector carry from one kind of
  machine text to another? The machine texts on the airline side are our own generators'
  samples (``--transfer-generators``, default the MLE Transformer and SeqGAN): the 1,000
  samples per model that the ``generators`` section saves at its validation-chosen
  temperature (``results/text_generation_samples/<model>.txt``); where a model's file is
  missing, this section trains it itself on airline train (its defaults,
  ``--transfer-cpu-minutes`` of process CPU time, a GAN's pretraining share included),
  chooses the temperature the same way (lowest FBD against the validation tweets) and
  saves the samples there. Each model's samples are split in half (seed 0): one half for
  training, the other held out. Airline train set: the training halves (label bot) and as
  many real airline train tweets (label human, seeded draw); held-out set: the held-out
  halves and as many real airline test tweets. (a) Detectors fitted on TweepFake's train
  split, scored on the airline held-out set: accuracy, AUC, recall on machine text (per
  model too) and false-positive rate on real tweets; (b) detectors fitted on the airline
  train set, scored on TweepFake's test split: accuracy, AUC, recall per generator family;
  (c) the in-domain references beside them: the TweepFake detector on TweepFake test, the
  airline detector on the airline held-out set. Detectors: TF-IDF (defaults) and
  all-MiniLM-L6-v2 fine-tuned, the latter fitted on a seeded ``--transfer-minilm-train``
  subsample of TweepFake train (a full fit costs about 27 CPU-minutes on one thread).

Published anchors on the same split: bag-of-words + LR 0.804, CharCNN 0.851, BERT
fine-tuned 0.896, RoBERTa fine-tuned 0.905; GPT-2-family recall 0.74-0.82.

Run: ``python benchmarks/text_generation.py`` (``--quick`` for a smoke version on slices;
``--sections tweepfake`` reruns a section and merges it into the results file).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    add_out_option,
    add_sections_option,
    git_commit,
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
    load_named,
    load_tweepfake,
)
from socialgan.text.data import TWEEPFAKE_FAMILIES, TextDataset  # noqa: E402
from socialgan.text.detect.evaluation import classification_metrics  # noqa: E402
from socialgan.text.detect.presets import preset_for  # noqa: E402

SECTIONS = ("generators", "tweepfake", "transfer")
GENERATORS = ("mle-gru", "mle-transformer", "seqgan", "relgan")
TEMPERATURES = (0.6, 0.8, 1.0, 1.2, 1.5)
DETECTORS = ("tfidf", "charcnn", "ssgan", "minilm")
#: The transfer section's defaults: the generators and detectors it uses.
TRANSFER_GENERATORS = ("mle-transformer", "seqgan")
TRANSFER_DETECTORS = ("tfidf", "minilm")
#: Where generated samples are kept (one text file per model, under the results folder).
SAMPLES_FOLDER = "text_generation_samples"
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


def family_recall(
    test: TextDataset, pred: np.ndarray, families: tuple[str, ...] = TWEEPFAKE_FAMILIES
) -> dict[str, float]:
    """Per family (``test.meta["family"]``): the share of its test tweets given their true
    label (bot for the generator families, human for ``human``)."""
    fam_of = np.asarray(test.meta["family"])
    out = {}
    for fam in families:
        rows = fam_of == fam
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


def tweepfake_splits(quick: bool) -> dict[str, TextDataset]:
    """TweepFake's official splits (``--quick``: seeded slices, a smoke run)."""
    splits = {s: load_tweepfake(split=s) for s in ("train", "validation", "test")}
    if quick:
        rng = np.random.default_rng(0)
        sizes = {"train": 600, "validation": 200, "test": 300}
        splits = {
            s: d.subset(np.sort(rng.permutation(len(d))[: sizes[s]])) for s, d in splits.items()
        }
    return splits


def run_tweepfake(names: list[str], quick: bool, threads: int) -> dict[str, Any]:
    splits = tweepfake_splits(quick)
    train, val, test = splits["train"], splits["validation"], splits["test"]
    out: dict[str, Any] = {"n": {s: len(d) for s, d in splits.items()}, "detectors": {}}
    scores: dict[str, dict[str, np.ndarray]] = {}  # P(bot) per detector, for the combinations
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
            scores.setdefault(name, {})[split] = proba[:, 1]
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
    if len(scores) > 1:
        out["combinations"] = combine(scores, val, test)
    return out


def combine(
    scores: dict[str, dict[str, np.ndarray]], val: TextDataset, test: TextDataset
) -> dict[str, Any]:
    """Two ways to combine the fitted detectors, neither tuned on test: the plain mean of
    their P(bot) at threshold 0.5, and a logistic regression on their log-odds fitted on the
    validation split (stacking; scored on test only)."""
    from sklearn.linear_model import LogisticRegression

    names = list(scores)

    def logit(split: str) -> np.ndarray:
        p = np.clip(np.column_stack([scores[n][split] for n in names]), 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))

    mean_test = np.mean([scores[n]["test"] for n in names], axis=0)
    stack = LogisticRegression(C=1.0).fit(logit("validation"), val.labels)
    stack_test = stack.predict_proba(logit("test"))[:, 1]
    out: dict[str, Any] = {"members": names}
    for label, p in (("mean", mean_test), ("stacked on validation", stack_test)):
        pred = (p >= 0.5).astype(np.int64)
        row = classification_metrics(test.labels, np.column_stack([1 - p, p]), pred)
        row["test_family_recall"] = family_recall(test, pred)
        out[label] = {f"test_{k}" if k != "test_family_recall" else k: v for k, v in row.items()}
    out["stacked on validation"]["weights"] = dict(zip(names, stack.coef_[0].tolist(), strict=True))
    return out


def make_generator(name: str, cpu_seconds: float, quick: bool, progress: bool) -> Any:
    """A fresh generator with its defaults and the CPU budget (``--quick``: tiny sizes)."""
    from socialgan.text.generate.cli import generator_class

    kind, _, arch = name.partition("-")
    cls = generator_class(kind)
    small: dict[str, Any] = (
        {"max_epochs": 1, "embed_dim": 32, "hidden_dim": 32, "vocab_size": 500} if quick else {}
    )
    args = (arch,) if kind == "mle" else ()
    try:
        return cls(*args, cpu_seconds=cpu_seconds, progress=progress, **small)
    except (TypeError, ValueError):  # a GAN without one of the small-size options
        return cls(*args, cpu_seconds=cpu_seconds, progress=progress)


def sentiment_classifier(train: TextDataset) -> TfidfDetector:
    """The conditional-accuracy judge: TF-IDF defaults on the training tweets."""
    return TfidfDetector(positive_labels=["negative"]).fit(train)


def generator_data(quick: bool) -> dict[str, TextDataset]:
    """The airline splits (``--quick``: seeded slices)."""
    parts = {s: load_named(f"airline:{s}") for s in ("train", "validation", "test")}
    if quick:
        rng = np.random.default_rng(0)
        parts = {
            s: d.subset(np.sort(rng.permutation(len(d))[: 600 if s == "train" else 150]))
            for s, d in parts.items()
        }
    return parts


def sizes(quick: bool) -> tuple[int, int, int]:
    """Samples per temperature, samples per class (conditional accuracy), BLEU hypotheses."""
    return (60, 20, 30) if quick else (1000, 200, 300)


def tfidf_maker(quick: bool) -> Any:
    return lambda: TfidfDetector(**({"C": 1.0} if quick else {}))


def evaluate_generator(
    name: str, quick: bool, minutes: float, threads: int, progress: bool
) -> dict[str, Any]:
    """Fit one generator on airline train within the CPU budget and score it (one process,
    ``threads`` torch threads, so that models can run side by side)."""
    from socialgan.text.generate.evaluation import (
        conditional_accuracy,
        detectability_auc,
        temperature_sweep,
    )
    from socialgan.text.generate.metrics import embed_texts, generation_report

    torch.set_num_threads(threads)
    parts = generator_data(quick)
    train, val, test = parts["train"], parts["validation"], parts["test"]
    n, n_class, hyps = sizes(quick)
    labels = [train.label_names[i] for i in train.labels]
    test_labels = [test.label_names[i] for i in test.labels]
    gen = make_generator(name, minutes * 60, quick, progress)
    c0 = time.process_time()
    gen.fit(train.texts, labels)
    cpu = (time.process_time() - c0) / 60
    val_feats, test_feats = embed_texts(val.texts), embed_texts(test.texts)
    temps = (0.8, 1.2) if quick else TEMPERATURES
    curve = temperature_sweep(
        gen,
        test.texts,
        temps,
        n=n,
        max_hypotheses=hyps,
        reference_features=test_feats,
        other_features={"validation": val_feats},
    )
    best_t = min(curve, key=lambda r: r["fbd_validation"])["temperature"]
    samples = gen.sample(n, seed=0, temperature=best_t)
    row: dict[str, Any] = {
        "cpu_minutes": cpu,
        "temperature": best_t,
        "curve": curve,
        **generation_report(samples, test.texts, max_hypotheses=hyps),
        "test_nll": float(gen.nll(test.texts, test_labels)),
        "conditional_accuracy": conditional_accuracy(
            gen,
            sentiment_classifier(train),
            train.label_names,
            n_per_class=n_class,
            temperature=best_t,
        ),
        "detectability_auc": detectability_auc(samples, test.texts, tfidf_maker(quick)),
        "examples": gen.sample(6, seed=1, temperature=best_t),
        "samples": samples,  # saved to their own file by the caller, not to the JSON
    }
    row["fit_metrics"] = dict(gen.metrics)  # epochs, validation NLL, adversarial steps...
    print(
        f"  {name}: T={best_t} FBD {row['fbd']:.4f} BLEU-5 {row['bleu5']:.3f} "
        f"self-BLEU-5 {row['self_bleu5']:.3f} NLL {row['test_nll']:.3f}, {cpu:.1f} CPU-min",
        flush=True,
    )
    return row


def samples_folder(out_dir: Path, quick: bool) -> Path:
    """Where a run keeps generated samples (``--quick``: a folder of its own, so a smoke run
    never replaces the committed samples)."""
    return out_dir / f"{SAMPLES_FOLDER}{'.quick' if quick else ''}"


def sample_info(row: dict[str, Any], section: str, minutes: float, quick: bool) -> dict[str, Any]:
    """What the index of a samples folder records of one model's samples."""
    return {
        "section": section,
        "quick": quick,
        "temperature": row["temperature"],
        "seed": 0,
        "n": sizes(quick)[0],
        "budget_cpu_minutes": minutes,
        "cpu_minutes": row["cpu_minutes"],
        "fbd_test": row.get("fbd"),
        "fit_metrics": row.get("fit_metrics", {}),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "commit": git_commit(),
    }


def save_samples(folder: Path, name: str, samples: list[str], info: dict[str, Any]) -> None:
    """``<folder>/<name>.txt`` (one sample per line; line breaks inside a sample become
    spaces) and the model's entry in ``<folder>/index.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [" ".join(t.splitlines()) for t in samples]
    (folder / f"{name}.txt").write_text("".join(f"{t}\n" for t in lines), encoding="utf-8")
    index = sample_index(folder)
    index[name] = {**info, "n": len(lines)}
    (folder / "index.json").write_text(json.dumps(index, indent=2) + "\n")


def sample_index(folder: Path) -> dict[str, Any]:
    """``<folder>/index.json``: per model, where and how its samples were made."""
    path = folder / "index.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def load_samples(folder: Path, name: str) -> list[str] | None:
    """The samples :func:`save_samples` wrote for ``name`` (None when there are none)."""
    path = folder / f"{name}.txt"
    return path.read_text(encoding="utf-8").splitlines() if path.is_file() else None


def run_generators(
    names: list[str], quick: bool, minutes: float, out_dir: Path, jobs: int, threads: int
) -> dict[str, Any]:
    from socialgan.text.generate.evaluation import curve_relation, detectability_auc
    from socialgan.text.generate.metrics import generation_report

    parts = generator_data(quick)
    train, val, test = parts["train"], parts["validation"], parts["test"]
    n, _, hyps = sizes(quick)
    judge = sentiment_classifier(train)
    floor = generation_report(val.texts[:n], test.texts, max_hypotheses=hyps)
    floor["detectability_auc"] = detectability_auc(val.texts, test.texts, tfidf_maker(quick))
    floor["conditional_accuracy"] = float(
        (np.asarray(judge.predict(test.texts)) == test.labels).mean()
    )
    out: dict[str, Any] = {"n": {s: len(d) for s, d in parts.items()}, "floor": floor}
    per_job = max(1, threads // jobs)
    out["jobs"], out["threads_per_model"] = jobs, per_job
    if jobs == 1:
        rows = [evaluate_generator(m, quick, minutes, per_job, not quick) for m in names]
    else:  # models side by side, one process each: the CPU budget is per process
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            futures = [
                pool.submit(evaluate_generator, m, quick, minutes, per_job, False) for m in names
            ]
            rows = [f.result() for f in futures]
    for name, row in zip(names, rows, strict=True):
        save_samples(
            samples_folder(out_dir, quick),
            name,
            row.pop("samples"),
            sample_info(row, "generators", minutes, quick),
        )
    out["models"] = dict(zip(names, rows, strict=True))
    mle = [m for m in out["models"] if m.startswith("mle")]
    gans = [m for m in out["models"] if not m.startswith("mle")]
    if mle and gans:
        base = min(mle, key=lambda m: val_fbd(out["models"][m]))
        out["relations"] = {
            g: curve_relation(out["models"][g]["curve"], out["models"][base]["curve"]) for g in gans
        }
        out["relation_baseline"] = base
    plot_curves(out, out_dir / f"text_generation_curve{'.quick' if quick else ''}.png")
    return out


def train_and_sample(name: str, quick: bool, minutes: float) -> tuple[list[str], dict[str, Any]]:
    """Fit one generator on airline train within ``minutes`` of CPU time and draw its 1,000
    samples (seed 0) at the temperature with the lowest FBD against the validation tweets:
    the samples the ``generators`` section saves, without the rest of its scoring."""
    from socialgan.text.generate.metrics import embed_texts, fbd

    parts = generator_data(quick)
    train, val, test = parts["train"], parts["validation"], parts["test"]
    gen = make_generator(name, minutes * 60, quick, not quick)
    c0 = time.process_time()
    gen.fit(train.texts, [train.label_names[i] for i in train.labels])
    cpu = (time.process_time() - c0) / 60
    val_feats = embed_texts(val.texts)
    n = sizes(quick)[0]
    by_t = {}
    for t in (0.8, 1.2) if quick else TEMPERATURES:
        by_t[t] = fbd(embed_texts(gen.sample(n, seed=0, temperature=t)), val_feats)
    best_t = min(by_t, key=lambda t: by_t[t])
    samples = gen.sample(n, seed=0, temperature=best_t)
    row = {
        "temperature": best_t,
        "cpu_minutes": cpu,
        "fbd": fbd(embed_texts(samples), embed_texts(test.texts)),
        "fit_metrics": {**gen.metrics, "fbd_validation": {str(t): v for t, v in by_t.items()}},
    }
    print(f"  {name}: T={best_t}, test FBD {row['fbd']:.4f}, {cpu:.1f} CPU-min", flush=True)
    return samples, sample_info(row, "transfer", minutes, quick)


def transfer_samples(
    names: list[str], quick: bool, minutes: float, out_dir: Path
) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Per generator, its saved samples, or (none saved) samples it is trained for here and
    that are then saved; with the index entry saying where they came from."""
    folder = samples_folder(out_dir, quick)
    samples: dict[str, list[str]] = {}
    for name in names:
        texts = load_samples(folder, name)
        if texts is None:
            texts, info = train_and_sample(name, quick, minutes)
            save_samples(folder, name, texts, info)
        samples[name] = texts
    index = sample_index(folder)
    return samples, {n: {**index.get(n, {}), "file": str(folder / f"{n}.txt")} for n in names}


def airline_transfer_sets(
    samples: dict[str, list[str]], quick: bool
) -> tuple[TextDataset, TextDataset]:
    """The airline side of the transfer, labelled ``human`` / ``bot`` like TweepFake, with the
    generator of each bot text as its ``family``: ``(train, held_out)``. Each model's
    samples are halved (seed 0); the real tweets are a seeded draw of as many airline train
    (for ``train``) and test (for ``held_out``) tweets."""
    parts = generator_data(quick)
    rng = np.random.default_rng(0)
    halves: dict[str, tuple[list[str], list[str]]] = {"train": ([], []), "held_out": ([], [])}
    for name, texts in samples.items():
        order = rng.permutation(len(texts))
        cut = len(texts) // 2
        for half, idx in (("train", order[:cut]), ("held_out", order[cut:])):
            halves[half][0].extend(texts[i] for i in idx)
            halves[half][1].extend([name] * len(idx))
    out = []
    for half, split in (("train", "train"), ("held_out", "test")):
        fake, fams = halves[half]
        pool = parts[split].texts
        real = [pool[i] for i in rng.permutation(len(pool))[: min(len(fake), len(pool))]]
        out.append(
            TextDataset(
                real + fake,
                np.array([0] * len(real) + [1] * len(fake)),
                ["human", "bot"],
                meta=pd.DataFrame({"family": ["human"] * len(real) + fams}),
                name=f"airline-transfer:{half}",
            )
        )
    return out[0], out[1]


def transfer_scores(det: Any, data: TextDataset, families: tuple[str, ...]) -> dict[str, Any]:
    """A fitted machine-text detector on ``data`` (``bot`` = 1): accuracy, macro F1, AUC,
    machine recall, false-positive rate on human texts, recall and AUC (that family against
    the human texts) per family."""
    from sklearn.metrics import roc_auc_score

    proba = det.predict_proba(data)
    pred = np.asarray(det.predict(data))
    row: dict[str, Any] = classification_metrics(data.labels, proba, pred)
    bot = data.labels == 1
    row["machine_recall"] = float(pred[bot].mean())
    row["false_positive_rate"] = float(pred[~bot].mean())
    row["family_recall"] = family_recall(data, pred, families)
    fam_of = np.asarray(data.meta["family"])
    row["family_auc"] = {}
    for fam in families:
        rows = (fam_of == fam) | ~bot  # that family's texts and every human one
        if fam != "human" and (rows & bot).any():
            row["family_auc"][fam] = float(roc_auc_score(bot[rows], proba[rows, 1]))
    row["n"] = len(data)
    return row


def run_transfer(
    det_names: list[str],
    gen_names: list[str],
    quick: bool,
    minutes: float,
    out_dir: Path,
    threads: int,
    minilm_train: int,
) -> dict[str, Any]:
    """TweepFake -> our airline samples and back, each beside its in-domain reference."""
    samples, sources = transfer_samples(gen_names, quick, minutes, out_dir)
    splits = tweepfake_splits(quick)
    tw_train, tw_test = splits["train"], splits["test"]
    air_train, air_test = airline_transfer_sets(samples, quick)
    air_families = ("human", *gen_names)
    out: dict[str, Any] = {
        "samples": sources,
        "budget_cpu_minutes": minutes,
        "n": {
            "tweepfake_train": len(tw_train),
            "tweepfake_test": len(tw_test),
            "airline_train": air_train.class_counts(),
            "airline_held_out": air_test.class_counts(),
        },
        "detectors": {},
    }
    for name in det_names:
        train_sets = {"tweepfake": tw_train, "airline": air_train}
        if name == "minilm" and 0 < minilm_train < len(tw_train):  # its CPU cost: a subsample
            pick = np.random.default_rng(0).permutation(len(tw_train))[:minilm_train]
            train_sets["tweepfake"] = tw_train.subset(np.sort(pick))
        rows: dict[str, Any] = {}
        for source, train in train_sets.items():
            det = make_detector(name, quick, threads)
            t0, c0 = time.perf_counter(), time.process_time()
            det.fit(train)
            rows[source] = {
                "n_train": len(train),
                "train_minutes": (time.perf_counter() - t0) / 60,
                "train_cpu_minutes": (time.process_time() - c0) / 60,
                "epochs": len(getattr(det, "history_", [])) or None,
                "on_tweepfake": transfer_scores(det, tw_test, TWEEPFAKE_FAMILIES),
                "on_airline": transfer_scores(det, air_test, air_families),
                "detector": repr(det),
            }
            print(
                f"  {name} trained on {source}: AUC on TweepFake test "
                f"{rows[source]['on_tweepfake']['auc']:.3f}, on airline held-out "
                f"{rows[source]['on_airline']['auc']:.3f} "
                f"({rows[source]['train_cpu_minutes']:.1f} CPU-min)",
                flush=True,
            )
        if len(train_sets["tweepfake"]) < len(tw_train):
            fit = rows["tweepfake"]
            fit["full_train_cpu_minutes_estimate"] = (
                fit["train_cpu_minutes"] * len(tw_train) / fit["n_train"]
            )
        out["detectors"][name] = rows
    return out


def plot_curves(res: dict[str, Any], path: Path) -> None:
    """BLEU-5 against self-BLEU-5 (left) and FBD against temperature (right), per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, row in res["models"].items():
        c = row["curve"]
        a.plot([r["self_bleu5"] for r in c], [r["bleu5"] for r in c], "o-", label=name)
        for r in c:
            a.annotate(f"{r['temperature']:g}", (r["self_bleu5"], r["bleu5"]), fontsize=7)
        b.plot([r["temperature"] for r in c], [r["fbd"] for r in c], "o-", label=name)
    fl = res["floor"]
    a.plot([fl["self_bleu5"]], [fl["bleu5"]], "k*", markersize=12, label="real (validation)")
    b.axhline(fl["fbd"], color="k", linestyle="--", label="real-vs-real floor")
    a.set(xlabel="self-BLEU-5 (lower = more diverse)", ylabel="BLEU-5 vs test (quality)")
    b.set(xlabel="temperature", ylabel="FBD vs test (lower is better)")
    a.set_title("quality-diversity over temperature")
    b.set_title("Frechet distance, all-MiniLM-L6-v2")
    a.legend(fontsize=8)
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def val_fbd(row: dict[str, Any]) -> float:
    """A generator's best validation FBD over the temperatures (how models are chosen)."""
    return min(r["fbd_validation"] for r in row["curve"])


def summarize(res: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "generators" in res:
        g = res["generators"]
        out["floor_fbd"] = g["floor"]["fbd"]
        mle = {k: v for k, v in g["models"].items() if k.startswith("mle")}
        gans = {k: v for k, v in g["models"].items() if not k.startswith("mle")}
        if mle:
            best = min(mle, key=lambda m: mle[m]["fbd"])
            out["mle_model"], out["mle_fbd"], out["mle_bleu5"] = (
                best,
                mle[best]["fbd"],
                mle[best]["bleu5"],
            )
        if gans:
            best = min(gans, key=lambda m: gans[m]["fbd"])
            out["best_gan"], out["best_gan_fbd"] = best, gans[best]["fbd"]
            out["best_gan_bleu5"] = gans[best]["bleu5"]
            out["gan_vs_mle_curve"] = g.get("relations", {}).get(best)
    if "tweepfake" in res:
        rows = res["tweepfake"]["detectors"]
        best = max(rows, key=lambda n: rows[n]["validation_accuracy"])
        out["tweepfake_best_detector"] = best
        out["tweepfake_test_accuracy"] = rows[best]["test_accuracy"]
        out["tweepfake_gpt2_recall"] = rows[best]["test_family_recall"]["gpt2"]
    if "transfer" in res:
        for det, rows in res["transfer"]["detectors"].items():
            for key, source, target in (
                ("tweepfake_to_airline", "tweepfake", "on_airline"),
                ("airline_to_tweepfake", "airline", "on_tweepfake"),
                ("tweepfake_in_domain", "tweepfake", "on_tweepfake"),
                ("airline_in_domain", "airline", "on_airline"),
            ):
                for metric in ("auc", "accuracy"):
                    out[f"transfer_{key}_{metric}_{det}"] = rows[source][target][metric]
    return out


def print_generator_table(g: dict[str, Any], quick: bool) -> None:
    print(f"\nGenerators on airline tweets, test split{quick_note(quick)}")
    print(f"n = {g['n']}; temperature chosen by validation FBD; 1,000 samples unless quick.")
    if "jobs" in g:
        print(f"{g['jobs']} model(s) at a time, {g['threads_per_model']} torch thread(s) each.")
    cols = ("bleu2", "bleu3", "bleu4", "bleu5", "self_bleu2", "self_bleu5", "distinct2", "fbd")
    print("| model | T | " + " | ".join(cols) + " | MAUVE | test NLL | cond. acc | detect AUC "
          "| CPU min |")  # fmt: skip
    print("|" + "---|" * (len(cols) + 7))
    rows = {**g["models"], "real (floor)": g["floor"]}
    for name, r in rows.items():
        cells = " | ".join(f"{r[c]:.4f}" for c in cols)
        cond = r["conditional_accuracy"]
        cond = cond["mean"] if isinstance(cond, dict) else cond
        nll = f"{r['test_nll']:.3f}" if "test_nll" in r else "-"
        cpu = f"{r['cpu_minutes']:.1f}" if "cpu_minutes" in r else "-"
        t = f"{r['temperature']:g}" if "temperature" in r else "-"
        print(
            f"| {name} | {t} | {cells} | {r['mauve']:.4f} | {nll} | {cond:.3f} | "
            f"{r['detectability_auc']:.3f} | {cpu} |"
        )
    if "relations" in g:
        print(
            f"At matched self-BLEU-5 against {g['relation_baseline']}: "
            + ", ".join(f"{k} {v}" for k, v in g["relations"].items())
        )


def print_transfer_tables(t: dict[str, Any], quick: bool) -> None:
    """The transfer section: one table per test set, transfer rows beside in-domain ones."""
    gens = list(t["samples"])
    print(f"\nTransfer of machine-text detectors{quick_note(quick)}")
    for name, info in t["samples"].items():
        fit = info.get("fit_metrics", {})
        made = (
            f"made by the {info.get('section', '?')} section at {info.get('commit', '?')}, "
            f"budget {info.get('budget_cpu_minutes', float('nan')):g} CPU-min "
            f"(used {info.get('cpu_minutes', float('nan')):.1f})"
        )
        steps = ", ".join(
            f"{k} {fit[k]}" for k in ("epochs", "best_epoch", "adversarial_rounds") if k in fit
        )
        print(
            f"Samples {name}: {info.get('n', '?')} at T={info.get('temperature', '?')} "
            f"(chosen by validation FBD), test FBD {info.get('fbd_test') or float('nan'):.4f}; "
            f"{made}; {steps}"
        )
    n = t["n"]
    print(
        f"n: TweepFake train {n['tweepfake_train']}, test {n['tweepfake_test']}; airline train "
        f"{n['airline_train']}, held-out {n['airline_held_out']} (each model's samples halved)."
    )
    for det, rows in t["detectors"].items():
        fit = rows["tweepfake"]
        if "full_train_cpu_minutes_estimate" in fit:
            print(
                f"{det}: fitted on a seeded {fit['n_train']}-tweet subsample of TweepFake train "
                f"({fit['train_cpu_minutes']:.1f} CPU-min; the full train split would take "
                f"about {fit['full_train_cpu_minutes_estimate']:.0f}, scaled linearly)."
            )
    labels = {"tweepfake": "TweepFake train", "airline": "airline gen. vs real"}
    tables = (
        ("on_airline", "airline held-out (our samples vs real test tweets)", gens, "airline"),
        ("on_tweepfake", "TweepFake test", [f for f in TWEEPFAKE_FAMILIES if f != "human"],
         "tweepfake"),
    )  # fmt: skip
    for target, title, fams, home in tables:
        print(f"\nScored on {title}; threshold 0.5")
        head = "| detector | trained on | n train | acc | AUC | machine recall | FPR on real | "
        head += " | ".join(f"{f} recall" for f in fams) + " | "
        head += " | ".join(f"{f} AUC" for f in fams) + " |"
        print(head)
        print("|" + "---|" * (head.count("|") - 1))
        for det, rows in t["detectors"].items():
            for source in ("tweepfake", "airline"):
                r = rows[source][target]
                kind = "in-domain" if source == home else "transfer"
                rec = " | ".join(f"{r['family_recall'].get(f, float('nan')):.3f}" for f in fams)
                auc = " | ".join(f"{r['family_auc'].get(f, float('nan')):.3f}" for f in fams)
                print(
                    f"| {det} | {labels[source]} ({kind}) | {rows[source]['n_train']} | "
                    f"{r['accuracy']:.4f} | {r['auc']:.4f} | {r['machine_recall']:.3f} | "
                    f"{r['false_positive_rate']:.3f} | {rec} | {auc} |"
                )


def print_tables(out: dict[str, Any], res: dict[str, Any], quick: bool, path: Path) -> None:
    if "generators" in res:
        print_generator_table(res["generators"], quick)
    if "tweepfake" in res:
        print(f"\nTweepFake test split{quick_note(quick)}")
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
        for label, r in t.get("combinations", {}).items():
            if label == "members":
                continue
            fr = r["test_family_recall"]
            cells = " | ".join(f"{fr.get(f, float('nan')):.3f}" for f in fams)
            print(
                f"| {label} ({'+'.join(t['combinations']['members'])}) | - | "
                f"{r['test_accuracy']:.4f} | {r['test_macro_f1']:.4f} | {r['test_auc']:.4f} | "
                f"{fr['human']:.3f} | {cells} | - | - | - |"
            )
        print("Published (same split): " + ", ".join(f"{k} {v}" for k, v in ANCHORS.items()))
        if "tweepfake_best_detector" in out:
            print(
                f"Selected on validation: {out['tweepfake_best_detector']}, test accuracy "
                f"{out['tweepfake_test_accuracy']:.4f} (target >= 0.91), GPT-2 recall "
                f"{out['tweepfake_gpt2_recall']:.3f} (target >= 0.85)"
            )
    if "transfer" in res:
        print_transfer_tables(res["transfer"], quick)
    print(machine_line(out["machine"], threads=True))
    stamps = ", ".join(f"{k} {v['date']} @ {v['commit']}" for k, v in out["sections"].items())
    print(f"Sections: {stamps}\nresults: {path}")


def split_names(
    text: str, known: tuple[str, ...], what: str, ap: argparse.ArgumentParser
) -> list[str]:
    """The comma-separated names in ``text``; an unknown one is a usage error."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        ap.error(f"unknown or no {what}(s) {unknown}; choose from {', '.join(known)}")
    return names


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke version on slices")
    ap.add_argument(
        "--detectors",
        default=None,
        help=f"comma-separated detectors (default {','.join(DETECTORS)}; the transfer "
        f"section's default: {','.join(TRANSFER_DETECTORS)})",
    )
    ap.add_argument("--generators", default=",".join(GENERATORS), help="comma-separated generators")
    ap.add_argument(
        "--gen-minutes", type=float, default=30.0, help="CPU minutes per generator (budget)"
    )
    ap.add_argument(
        "--transfer-generators",
        default=",".join(TRANSFER_GENERATORS),
        help="comma-separated generators whose samples the transfer section uses",
    )
    ap.add_argument(
        "--transfer-cpu-minutes",
        type=float,
        default=10.0,
        help="CPU minutes per generator the transfer section trains itself (only for models "
        "with no saved samples; --quick: 0.2)",
    )
    ap.add_argument(
        "--transfer-minilm-train",
        type=int,
        default=8000,
        help="TweepFake train tweets the transfer section fine-tunes MiniLM on (a seeded "
        "subsample; 0: all)",
    )
    add_sections_option(ap, SECTIONS)
    ap.add_argument("--threads", type=int, default=2, help="torch threads")
    ap.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="generators trained side by side (each in its own process with threads/jobs "
        "torch threads)",
    )
    add_out_option(ap)
    args = ap.parse_args()
    args.out = output_dir(args.out, args.quick, "text_generation")
    torch.set_num_threads(args.threads)
    names = split_names(args.detectors or ",".join(DETECTORS), DETECTORS, "detector", ap)
    transfer_dets = split_names(
        args.detectors or ",".join(TRANSFER_DETECTORS), DETECTORS, "detector", ap
    )
    gen_names = split_names(args.generators, GENERATORS, "generator", ap)
    transfer_gens = split_names(args.transfer_generators, GENERATORS, "generator", ap)
    transfer_minutes = 0.2 if args.quick else args.transfer_cpu_minutes
    sections = parse_sections(args.sections, SECTIONS, ap)
    t_start = time.perf_counter()
    minutes = 0.5 if args.quick else args.gen_minutes
    runners = {
        "generators": lambda: run_generators(
            gen_names, args.quick, minutes, args.out, args.jobs, args.threads
        ),
        "tweepfake": lambda: run_tweepfake(names, args.quick, args.threads),
        "transfer": lambda: run_transfer(
            transfer_dets,
            transfer_gens,
            args.quick,
            transfer_minutes,
            args.out,
            args.threads,
            args.transfer_minilm_train,
        ),
    }
    stamp = {"detectors": names, "generators": gen_names, "gen_minutes": minutes}
    if "transfer" in sections:
        stamp["transfer"] = {
            "detectors": transfer_dets,
            "generators": transfer_gens,
            "cpu_minutes_per_generator": transfer_minutes,
            "minilm_train": args.transfer_minilm_train,
        }
    res, stamps, merge = run_sections(
        "text_generation", SECTIONS, sections, runners, args.quick, args.out, stamp
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
