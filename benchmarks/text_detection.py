"""Text moderation on real data: classic, neural and semi-supervised GAN detectors.

Protocol (each detector is fitted from scratch on every training fold; nothing is tuned on
a test fold or on the LIAR test split):

- YouTube spam (1,956 comments, 5 videos): stratified 10-fold CV (shuffled, seed 0) and
  leave-one-video-out (mean of the 5 held-out videos' accuracies). Leave-one-video-out
  also transductively (unsupervised domain adaptation): the held-out video's comments are
  given to the detector without their labels, as a platform has a new video's comments
  before anyone labels them. TF-IDF uses them by self-training (2 rounds: pseudo-label the
  comments it scores with probability >= threshold, refit); the semi-supervised GAN as its
  unlabeled rows. The threshold row picks the threshold from (0.75, 0.9, 0.95, 0.99) per
  held-out video by an inner leave-one-video-out over the other four (nested, honest); the
  plain transductive row uses the default 0.9, which was set after a first look at
  leave-one-video-out, so only the nested row is a headline. Inductively, one more row
  chooses TF-IDF's min_df from (1, 2, 3) by the same nested leave-one-video-out (terms seen
  in a single comment are often specific to one video).
- Ott deceptive reviews (1,600): stratified 5-fold CV (shuffled, seed 0).
- LIAR (6 labels): fit on train (10,269), score valid and test. "honest" uses the
  statement and the metadata columns subject, speaker, job, state, party, context; the
  five credit-history counts are left out because, as distributed, they include the
  statement's own label. The leaky variant is printed beside it, marked as such.
  "stacked": a word n-gram TF-IDF logistic regression of the statement and a logistic
  regression of the metadata, combined by a logistic regression on their 5-fold
  out-of-fold log-probabilities; every C is chosen by out-of-fold log-loss on train
  (preset ``liar``/``stacked``). "tfidf (honest meta)": statement and metadata in one linear
  model, the metadata block weighted 0.4 (chosen on valid).
- Low-label curve (YouTube, one stratified 70/30 split, seed 0): each detector trained
  with 5%, 10%, 25%, 100% of the training labels (nested subsets); the semi-supervised
  GAN and TF-IDF with self-training get the other training texts as unlabeled data.
- Evasion (YouTube, the same 70/30 split): the TF-IDF detector, attacked on the test spam
  it flags. One-shot attacks (leet, homoglyph, zero-width, spacing, synonym, mixed; 30% of
  words) and an adaptive black-box attacker (word importance by deletion, then every
  disguise move per word, at most 100 queries per text). Success rate = share of flagged
  spam no longer flagged. Then hardened (Unicode/look-alike/leet normalization +
  adversarial training on attacked copies of the training spam) and attacked again.
- Generator attack (YouTube, the same 70/30 split): a word-level GRU language model
  pretrained (MLE) on the training spam, then fine-tuned by REINFORCE (batch-mean baseline,
  KL penalty to the pretrained LM) against the frozen TF-IDF detector used black-box, reward
  P(not spam). Every message carries a payload from the training spam: a link ("link") or
  the channel/site name in a link ("handle"); success = share of payload-carrying generated
  messages not flagged. LM only = the pretrained LM before RL. Hardening: a fresh TF-IDF
  detector fitted on the training split plus a batch of the attacker's messages labelled
  spam, then a fresh RL phase from the pretrained LM against it. Distinct-2 and the mean
  per-token log-likelihood under the pretrained LM show whether the attacker degenerated.
- Neural seeds: the CharCNN and the semi-supervised GAN on YouTube 10-fold, Ott 5-fold and
  LIAR test with ``random_state`` 0, 1, 2 (weights, dropout, batch order, validation split;
  the CV folds stay those of seed 0): mean and sample standard deviation. TF-IDF has no
  random state that changes its figures (liblinear on one thread, fixed folds).
- Throughput: ``predict_proba`` on 10,000 comments in one call (texts/second) and the
  median latency of one single-text call, after a warm-up, 1 torch thread.

Run: ``python benchmarks/text_detection.py`` (``--quick`` for a smoke version;
``--sections generator_attack,evasion`` reruns some sections and merges them into the
existing results file, each section stamped with its date and git commit).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    add_out_option,
    add_sections_option,
    machine,
    output_dir,
    parse_sections,
    run_sections,
    write_results,
)
from socialgan.text import (  # noqa: E402
    CharCNNDetector,
    NormalizingDetector,
    SSGANDetector,
    StackedDetector,
    TfidfDetector,
    adaptive_attack,
    attack_report,
    cross_validate,
    evaluate_split,
    load_named,
    low_label_curve,
    nested_group_selection,
)
from socialgan.text.attack.generator_attack import GeneratorAttack  # noqa: E402
from socialgan.text.attack.generator_report import generator_attack_report  # noqa: E402
from socialgan.text.detect.presets import (  # noqa: E402
    LIAR_HONEST_META_COLUMNS,
    preset_for,
    with_leaky_counts,
)

ONE_SHOT = ("leet", "homoglyph", "zero_width", "spacing", "synonym", "mixed")
FRACTIONS = (0.05, 0.1, 0.25, 1.0)
SELF_TRAINING_THRESHOLDS = (0.75, 0.9, 0.95, 0.99)
MIN_DFS = (1, 2, 3)
SECTIONS = (
    "youtube_10fold",
    "youtube_lovo",
    "ott_5fold",
    "liar",
    "low_label",
    "evasion",
    "generator_attack",
    "throughput",
    "neural_seeds",
)
PAYLOADS = ("link", "handle")
#: Seeds of the neural detectors' spread (``neural_seeds`` section).
SEEDS = (0, 1, 2)


def make_factories(quick: bool) -> dict[str, Any]:
    """Detector name -> ``factory(source)`` building a fresh detector for that data set."""
    # --quick: one epoch each and a small LSA space (a smoke run, not a measurement)
    cnn_quick: dict[str, Any] = {"max_epochs": 1} if quick else {}
    ssgan_quick: dict[str, Any] = {"max_epochs": 1, "lsa_dim": 32} if quick else {}

    def tfidf(source: str, **over: Any) -> TfidfDetector:
        params = dict(preset_for(source).get("detector", {}))
        params.update(over)
        if quick:
            params.setdefault("C", 1.0)
        return TfidfDetector(**params)

    def charcnn(source: str, **over: Any) -> CharCNNDetector:
        return CharCNNDetector(**{**cnn_quick, **over})

    def ssgan(source: str, **over: Any) -> SSGANDetector:
        return SSGANDetector(**{**ssgan_quick, **over})

    return {"tfidf": tfidf, "charcnn": charcnn, "ssgan": ssgan}


def best(results: dict[str, float]) -> tuple[str, float]:
    name = max(results, key=lambda k: results[k])
    return name, results[name]


def cv_row(r: dict[str, Any], t0: float) -> dict[str, Any]:
    """The saved part of a ``cross_validate``-shaped result (per held-out group when the
    folds are groups), with the seconds since ``t0``."""
    row = {k: r[k] for k in ("accuracy", "accuracy_std", "macro_f1", "auc", "protocol")}
    row["seconds"] = time.perf_counter() - t0
    if r["folds"] and "group" in r["folds"][0]:
        row["per_group"] = {f["group"]: f["accuracy"] for f in r["folds"]}
    return row


def run_cv(data, factories, names, source, cv, groups=False, transductive=False) -> dict[str, Any]:
    out = {}
    for name in names:
        t0 = time.perf_counter()
        make = lambda n=name: factories[n](source)  # noqa: E731
        r = cross_validate(
            data, make, cv=cv, groups=groups, transductive=transductive, progress=False
        )
        out[name] = cv_row(r, t0)
        print(f"  {source} {name}: {r['accuracy']:.4f} ({out[name]['seconds']:.0f}s)", flush=True)
    return out


def run_nested(data, make, candidates, transductive: bool) -> dict[str, Any]:
    """Leave-one-video-out with one hyperparameter chosen per held-out video by an inner
    leave-one-video-out over the other videos."""
    t0 = time.perf_counter()
    r = nested_group_selection(data, make, candidates, transductive=transductive, progress=False)
    print(f"  youtube-spam nested over {candidates}: {r['accuracy']:.4f} {r['chosen']}")
    return {**cv_row(r, t0), "candidates": list(candidates), "chosen": r["chosen"]}


def run_lovo(data, factories, names, quick: bool) -> dict[str, Any]:
    """Leave-one-video-out: inductive, then transductive (the held-out video's comments
    given unlabeled: self-training for TF-IDF, the unlabeled rows of the GAN)."""
    out = run_cv(data, factories, names, "youtube-spam", 0, groups=True)
    semi = {f"{n} (transductive)": n for n in names if n in ("tfidf", "ssgan")}
    if semi:
        trans = run_cv(data, factories, list(semi.values()), "youtube-spam", 0, True, True)
        out.update({label: trans[n] for label, n in semi.items()})
    if "tfidf" in names:
        tfidf = factories["tfidf"]
        out["tfidf (min_df by nested LOVO)"] = run_nested(
            data,
            lambda m: tfidf("youtube-spam", min_df=m),
            (1, 2) if quick else MIN_DFS,
            transductive=False,
        )
        out["tfidf (transductive, threshold by nested LOVO)"] = run_nested(
            data,
            lambda t: tfidf("youtube-spam", self_training_threshold=t),
            (0.9,) if quick else SELF_TRAINING_THRESHOLDS,
            transductive=True,
        )
    return out


def run_liar(factories, names) -> dict[str, Any]:
    train = load_named("liar:train")
    tests = {"valid": load_named("liar:valid"), "test": load_named("liar:test")}
    out: dict[str, Any] = {}
    variants: list[tuple[str, Any]] = [
        ("stacked (honest meta)", lambda: StackedDetector(**preset_for("liar")["stacked"])),
        ("tfidf (honest meta)", lambda: factories["tfidf"]("liar")),  # the preset's default
        ("tfidf (text only)", lambda: factories["tfidf"]("liar", meta_columns=None)),
    ]
    for name in names:
        if name != "tfidf":  # the neural detectors read the statement only
            variants.append((f"{name} (text only)", lambda n=name: factories[n]("liar")))
    leaky = with_leaky_counts(LIAR_HONEST_META_COLUMNS)  # --leaky-credit-counts in the CLI
    variants.append(
        ("tfidf (leaky credit counts)", lambda: factories["tfidf"]("liar", meta_columns=leaky))
    )
    for label, make in variants:
        r = evaluate_split(train, tests, make)
        out[label] = {
            "valid_accuracy": r["splits"]["valid"]["accuracy"],
            "test_accuracy": r["splits"]["test"]["accuracy"],
            "test_macro_f1": r["splits"]["test"]["macro_f1"],
            "seconds": r["seconds"],
            "selected": r["selected"],
        }
        print(
            f"  liar {label}: valid {out[label]['valid_accuracy']:.4f}, "
            f"test {out[label]['test_accuracy']:.4f} {r['selected']}",
            flush=True,
        )
    return out


def run_neural_seeds(youtube, ott, factories, names, res, quick: bool) -> dict[str, Any]:
    """The neural detectors' headline figures over seeds 0, 1, 2 (``random_state``: weights,
    dropout, batches, validation split; the folds stay seed 0): mean, std and each seed.
    Seed 0 is taken from this run's sections when they ran (training is deterministic at a
    fixed thread count, so rerunning it would give the same figure)."""
    tasks: dict[str, Any] = {
        "youtube_10fold": lambda make: cross_validate(
            youtube, make, cv=3 if quick else 10, progress=False
        )["accuracy"],
        "ott_5fold": lambda make: cross_validate(ott, make, cv=3 if quick else 5, progress=False)[
            "accuracy"
        ],
    }
    sources = {"youtube_10fold": "youtube-spam", "ott_5fold": "ott", "liar": "liar"}
    if not quick:
        liar_train, liar_test = load_named("liar:train"), {"test": load_named("liar:test")}
        tasks["liar"] = lambda make: evaluate_split(liar_train, liar_test, make)["splits"]["test"][
            "accuracy"
        ]
    out: dict[str, Any] = {}
    for name in (n for n in names if n != "tfidf"):
        out[name] = {}
        for key, task in tasks.items():
            if key == "ott_5fold" and ott is None:
                continue
            known = res.get(key, {}).get(name if key != "liar" else f"{name} (text only)")
            accs = []
            for seed in SEEDS:
                if seed == 0 and known is not None:
                    accs.append(known["accuracy" if key != "liar" else "test_accuracy"])
                    continue
                make = lambda n=name, s=seed, k=key: factories[n](sources[k], random_state=s)  # noqa: E731
                accs.append(float(task(make)))
            out[name][key] = {
                "mean": float(np.mean(accs)),
                "std": float(np.std(accs, ddof=1)),
                "per_seed": dict(zip(map(str, SEEDS), accs, strict=True)),
            }
            print(
                f"  seeds {name} {key}: {np.mean(accs):.4f} +- {np.std(accs, ddof=1):.4f} "
                f"{[round(a, 4) for a in accs]}",
                flush=True,
            )
    return out


def youtube_split(data, seed: int = 0):
    idx = np.arange(len(data))
    tr, te = train_test_split(idx, test_size=0.3, stratify=data.labels, random_state=seed)
    return data.subset(tr), data.subset(te)


def run_low_label(data, factories, names) -> dict[str, Any]:
    """Each detector with a share of the labels; the semi-supervised ones (the GAN, TF-IDF
    with self-training) get the other training texts unlabeled."""
    variants: dict[str, Any] = {}
    for name in names:
        if name == "tfidf":
            variants["tfidf"] = lambda: factories["tfidf"]("youtube-spam", self_training_rounds=0)
            variants["tfidf (self-training)"] = lambda: factories["tfidf"]("youtube-spam")
        else:
            variants[name] = lambda n=name: factories[n]("youtube-spam")
    out = {}
    for name, make in variants.items():
        r = low_label_curve(make, data, fractions=FRACTIONS)
        out[name] = r
        accs = ", ".join(f"{row['fraction']:g}: {row['accuracy']:.3f}" for row in r["rows"])
        print(f"  low-label {name}: {accs}", flush=True)
    return out


def run_evasion(train, test, factories, quick: bool) -> dict[str, Any]:
    spam = test.label_names.index("spam") if "spam" in test.label_names else 1
    texts, labels = test.texts, (test.labels == spam).astype(int)
    max_queries = 30 if quick else 100
    models = {
        "baseline": factories["tfidf"]("youtube-spam").fit(train),
        "normalized": NormalizingDetector(factories["tfidf"]("youtube-spam")).fit(train),
        "hardened": NormalizingDetector(
            factories["tfidf"]("youtube-spam"), adversarial=ONE_SHOT
        ).fit(train),
    }
    out: dict[str, Any] = {}
    for key, det in models.items():
        rows = {}
        for attack in ONE_SHOT:
            rows[attack] = attack_report(det, texts, attack, labels=labels, seed=0).summary()
        rows["adaptive"] = adaptive_attack(
            det, texts, labels=labels, max_queries=max_queries, seed=0
        ).summary()
        acc = float(np.mean(det.predict(test.texts) == test.labels))
        out[key] = {"clean_accuracy": acc, "attacks": rows}
        print(
            f"  evasion {key}: clean acc {acc:.4f}, adaptive success "
            f"{rows['adaptive']['success_rate']:.3f}",
            flush=True,
        )
    return out


def generator_settings(quick: bool) -> dict[str, Any]:
    """Hyperparameters of the generator attack (the quick ones are a smoke test only)."""
    if quick:
        return {"n": 100, "pretrain_epochs": 4, "rl_steps": 15, "rl_batch": 32}
    return {"n": 500, "pretrain_epochs": 20, "rl_steps": 150, "rl_batch": 64}


def run_generator_attack(train, test, factories, quick: bool) -> dict[str, Any]:
    spam = train.label_names.index("spam") if "spam" in train.label_names else 1
    spam_train = [t for t, y in zip(train.texts, train.labels, strict=True) if y == spam]
    settings = generator_settings(quick)
    n = settings.pop("n")

    def make() -> TfidfDetector:
        return factories["tfidf"]("youtube-spam")

    detector = make().fit(train.texts, train.labels)
    test_spam = [t for t, y in zip(test.texts, test.labels, strict=True) if y == spam]
    t0 = time.perf_counter()
    lm = GeneratorAttack(detector, seed=0, **settings).pretrain(spam_train)
    pretrain_seconds = time.perf_counter() - t0
    out: dict[str, Any] = {
        "settings": {"n": n, **settings, "seed": 0, "kl_coef": lm.kl_coef, "max_len": lm.max_len},
        "vocab_size": len(lm.vocab_),
        "pretrain_seconds": pretrain_seconds,
        "miss_rate_real_test_spam": float(np.mean(detector.predict(test_spam) != spam)),
    }
    for kind in PAYLOADS:
        r = generator_attack_report(
            detector,
            spam_train,
            n=n,
            train=(train.texts, train.labels),
            test=(test.texts, test.labels),
            make_detector=make,
            spam_label=spam,
            lm=lm,
            payload=kind,
            **settings,
        )
        out[kind] = r
        print(
            f"  generator attack ({kind}): LM only {r['success_lm_only']:.3f}, "
            f"RL {r['success_before_hardening']:.3f}, after hardening "
            f"{r['success_after_hardening']:.3f} ({r['seconds']:.0f}s)",
            flush=True,
        )
    out["seconds"] = time.perf_counter() - t0
    return out


def run_throughput(data, factories, names, quick: bool) -> dict[str, Any]:
    n = 1000 if quick else 10000
    texts = (data.texts * (n // len(data) + 1))[:n]
    out = {}
    for name in names:
        det = factories[name]("youtube-spam").fit(data)
        det.predict_proba(texts[:100])
        t0 = time.perf_counter()
        det.predict_proba(texts)
        batch = time.perf_counter() - t0
        lat = []
        for t in texts[:200]:
            s = time.perf_counter()
            det.predict_proba([t])
            lat.append(time.perf_counter() - s)
        out[name] = {
            "texts_per_second": len(texts) / batch,
            "latency_ms_median": 1000 * float(np.median(lat)),
            "latency_ms_p95": 1000 * float(np.percentile(lat, 95)),
        }
        print(f"  throughput {name}: {out[name]['texts_per_second']:.0f} texts/s", flush=True)
    return out


def transductive(name: str) -> bool:
    """Rows whose detector saw the held-out texts (unlabeled)."""
    return "(transductive" in name


def summarize(res: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of the sections present in ``res``."""
    out: dict[str, Any] = {}
    for key in ("youtube_10fold", "youtube_lovo", "ott_5fold"):
        if key in res:
            inductive = {n: v["accuracy"] for n, v in res[key].items() if not transductive(n)}
            name, value = best(inductive)
            out[f"{key}_accuracy"], out[f"{key}_detector"] = value, name
    nested = "tfidf (transductive, threshold by nested LOVO)"
    if nested in res.get("youtube_lovo", {}):
        out["youtube_lovo_transductive_accuracy"] = res["youtube_lovo"][nested]["accuracy"]
        out["youtube_lovo_transductive_detector"] = nested
    if "liar" in res:
        honest = {k: v["test_accuracy"] for k, v in res["liar"].items() if "leaky" not in k}
        name, value = best(honest)
        out["liar_test_accuracy"], out["liar_test_detector"] = value, name
        # what a user who picks the detector on the valid split would get
        name = best({k: res["liar"][k]["valid_accuracy"] for k in honest})[0]
        out["liar_valid_selected_detector"] = name
        out["liar_valid_selected_test_accuracy"] = res["liar"][name]["test_accuracy"]
        out["liar_test_accuracy_leaky_counts"] = res["liar"]["tfidf (leaky credit counts)"][
            "test_accuracy"
        ]
    if "evasion" in res:
        ev = res["evasion"]
        out["evasion_success_before_hardening"] = ev["baseline"]["attacks"]["adaptive"][
            "success_rate"
        ]
        out["evasion_success_after_hardening"] = ev["hardened"]["attacks"]["adaptive"][
            "success_rate"
        ]
    if "generator_attack" in res:
        for kind in PAYLOADS:
            r = res["generator_attack"][kind]
            prefix = "generator_attack" if kind == "link" else f"generator_attack_{kind}"
            out[f"{prefix}_success_lm_only"] = r["success_lm_only"]
            out[f"{prefix}_success_before_hardening"] = r["success_before_hardening"]
            out[f"{prefix}_success_after_hardening"] = r["success_after_hardening"]
            out[f"{prefix}_clean_accuracy_before"] = r["clean_accuracy_before"]
            out[f"{prefix}_clean_accuracy_after"] = r["clean_accuracy_after"]
    for name, by_key in res.get("neural_seeds", {}).items():
        for key, r in by_key.items():
            out[f"{name}_{key}_accuracy_mean"] = r["mean"]
            out[f"{name}_{key}_accuracy_std"] = r["std"]
    if "throughput" in res:
        name, tps = best({n: v["texts_per_second"] for n, v in res["throughput"].items()})
        out["texts_per_second"], out["texts_per_second_detector"] = tps, name
        out["latency_ms_median"] = res["throughput"][name]["latency_ms_median"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke version")
    ap.add_argument(
        "--detectors", default="tfidf,charcnn,ssgan", help="comma-separated detectors to run"
    )
    add_sections_option(ap, SECTIONS)
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    add_out_option(ap)
    args = ap.parse_args()
    args.out = output_dir(args.out, args.quick, "text_detection")
    torch.set_num_threads(args.threads)
    names = [n.strip() for n in args.detectors.split(",") if n.strip()]
    sections = parse_sections(args.sections, SECTIONS, ap)
    if args.quick and "liar" in sections and len(sections) == len(SECTIONS):
        sections.remove("liar")  # the full LIAR split is too slow for a smoke run
    factories = make_factories(args.quick)
    unknown = [n for n in names if n not in factories]
    if unknown:
        ap.error(f"unknown detector(s) {unknown}; choose from {list(factories)}")
    t_start = time.perf_counter()
    youtube = load_named("youtube-spam")
    ott = load_named("ott") if {"ott_5fold", "neural_seeds"} & set(sections) else None
    if args.quick:  # a small slice of each data set: a smoke run, not a measurement
        videos = sorted(set(youtube.groups))[:3]  # the fewest groups a nested LOVO takes
        pool = np.flatnonzero(np.isin(youtube.groups, videos))
        youtube = youtube.subset(np.random.default_rng(0).permutation(pool)[:400])
        if ott is not None:
            ott = ott.subset(np.random.default_rng(0).permutation(len(ott))[:200])
    train, test = youtube_split(youtube)
    res: dict[str, Any] = {}  # filled as sections finish: neural_seeds reuses seed 0's runs
    runners = {
        "youtube_10fold": lambda: run_cv(
            youtube, factories, names, "youtube-spam", 3 if args.quick else 10
        ),
        "youtube_lovo": lambda: run_lovo(youtube, factories, names, args.quick),
        "ott_5fold": lambda: run_cv(ott, factories, names, "ott", 3 if args.quick else 5),
        "liar": lambda: run_liar(factories, names),
        "low_label": lambda: run_low_label(youtube, factories, names),
        "evasion": lambda: run_evasion(train, test, factories, args.quick),
        "generator_attack": lambda: run_generator_attack(train, test, factories, args.quick),
        "throughput": lambda: run_throughput(youtube, factories, names, args.quick),
        "neural_seeds": lambda: run_neural_seeds(youtube, ott, factories, names, res, args.quick),
    }
    res, stamps, merge = run_sections(
        "text_detection",
        SECTIONS,
        sections,
        runners,
        args.quick,
        args.out,
        {"detectors": names},
        res,
    )
    out: dict[str, Any] = summarize(res)
    out["results"] = res
    out["sections"] = stamps
    out["machine"] = machine()
    out["minutes"] = (time.perf_counter() - t_start) / 60
    if merge:
        out["merged_sections"] = sections
    path = write_results("text_detection", out, args.quick, args.out)
    print_tables(out, res, args.quick, path)
    return 0


def print_tables(out, res, quick, path) -> None:
    q = " (QUICK SMOKE RUN on data slices, not a measurement)" if quick else ""
    print(f"\n## Text detection{q}\n")
    rows = (
        ("YouTube spam, 10-fold CV", "youtube_10fold"),
        ("YouTube spam, leave-one-video-out", "youtube_lovo"),
        ("Ott deceptive reviews, 5-fold CV", "ott_5fold"),
    )
    present = [(label, key) for label, key in rows if key in res]
    if present:
        names = list(dict.fromkeys(n for _, key in present for n in res[key] if "(" not in n))
        print("| data / protocol | " + " | ".join(names) + " | best |")
        print("|---|" + "---|" * (len(names) + 1))
        for label, key in present:
            cells = " | ".join(
                f"{res[key][n]['accuracy']:.2%}" if n in res[key] else "-" for n in names
            )
            print(f"| {label} | {cells} | {out[key + '_detector']} |")
    if "youtube_lovo" in res:
        videos = list(next(iter(res["youtube_lovo"].values()))["per_group"])
        print("\n| leave-one-video-out | mean | " + " | ".join(videos) + " |")
        print("|---|---|" + "---|" * len(videos))
        for n, r in res["youtube_lovo"].items():
            cells = " | ".join(f"{r['per_group'][v]:.2%}" for v in videos)
            print(f"| {n} | {r['accuracy']:.2%} | {cells} |")
    if "liar" in res:
        print("\n| LIAR (6 labels) | valid | test |\n|---|---|---|")
        for label, r in res["liar"].items():
            print(f"| {label} | {r['valid_accuracy']:.2%} | {r['test_accuracy']:.2%} |")
    if "low_label" in res:
        print(
            "\n| low-label (YouTube 70/30), accuracy | "
            + " | ".join(f"{f:g}" for f in FRACTIONS)
            + " |"
        )
        print("|---|" + "---|" * len(FRACTIONS))
        for n, r in res["low_label"].items():
            cells = " | ".join(f"{row['accuracy']:.3f}" for row in r["rows"])
            print(f"| {n} | {cells} |")
    if "evasion" in res:
        ev = res["evasion"]
        print("\n| attack success rate | " + " | ".join(ev) + " |")
        print("|---|" + "---|" * len(ev))
        for attack in (*ONE_SHOT, "adaptive"):
            cells = " | ".join(f"{ev[k]['attacks'][attack]['success_rate']:.3f}" for k in ev)
            print(f"| {attack} | {cells} |")
        cells = " | ".join(f"{ev[k]['clean_accuracy']:.2%}" for k in ev)
        print(f"| clean accuracy | {cells} |")
    if "generator_attack" in res:
        print_generator_table(res["generator_attack"])
    if "throughput" in res:
        print("\n| throughput | texts/s (batch of 10,000) | latency median ms | p95 ms |")
        print("|---|---|---|---|")
        for n, r in res["throughput"].items():
            print(
                f"| {n} | {r['texts_per_second']:.0f} | {r['latency_ms_median']:.2f} | "
                f"{r['latency_ms_p95']:.2f} |"
            )
    if res.get("neural_seeds"):
        keys = ("youtube_10fold", "ott_5fold", "liar")
        print(
            f"\n| neural detector, accuracy mean ± std over seeds {', '.join(map(str, SEEDS))} "
            "| YouTube 10-fold | Ott 5-fold | LIAR test |\n|---|---|---|---|"
        )
        for n, by_key in res["neural_seeds"].items():
            cells = " | ".join(
                f"{by_key[k]['mean']:.2%} ± {by_key[k]['std']:.2%}" if k in by_key else "-"
                for k in keys
            )
            print(f"| {n} | {cells} |")
    m = out["machine"]
    stamps = ", ".join(f"{k} {v['date']} @ {v['commit']}" for k, v in out["sections"].items())
    print(
        f"\nProtocol: see the docstring of benchmarks/text_detection.py. Machine: {m['cpu']}, "
        f"{m['cores']} cores, {m['torch_threads']} torch thread(s), torch {m['torch']}. "
        f"This run: {out['minutes']:.1f} min. Sections: {stamps}. Results: {path}"
    )


def print_generator_table(g: dict[str, Any]) -> None:
    """Success rates of the generator attack on the TF-IDF detector, per payload kind."""
    cfg = g["settings"]
    print(
        "\n| generator attack on TF-IDF (YouTube 70/30) | LM only | under attack (RL) | "
        "replayed on hardened | after hardening (fresh RL) | distinct-2 LM / RL / hardened "
        "| LM log-lik / token, LM / RL | clean acc before / after |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for kind in PAYLOADS:
        r = g[kind]
        h = r["hardened"]
        print(
            f"| payload: {kind} ({r['n_payloads']} from training spam) | "
            f"{r['success_lm_only']:.3f} | {r['success_before_hardening']:.3f} | "
            f"{h['replayed_success_rate']:.3f} | {r['success_after_hardening']:.3f} | "
            f"{r['lm_only']['distinct_2']:.2f} / {r['attack']['distinct_2']:.2f} / "
            f"{h['attack']['distinct_2']:.2f} | {r['lm_only']['lm_logprob_per_token']:.2f} / "
            f"{r['attack']['lm_logprob_per_token']:.2f} | "
            f"{r['clean_accuracy_before']:.2%} / {r['clean_accuracy_after']:.2%} |"
        )
    print(
        f"\nProtocol: {cfg['n']} generated messages per cell (seeded), each carrying a payload; "
        f"success = share not flagged at the detector's threshold. GRU LM (vocabulary "
        f"{g['vocab_size']}) pretrained {cfg['pretrain_epochs']} epochs on the training spam; "
        f"RL {cfg['rl_steps']} steps x {cfg['rl_batch']} messages (REINFORCE, reward "
        f"P(not spam), KL coef {cfg['kl_coef']}); hardening adds {cfg['n']} attacker messages "
        f"labelled spam to the training split and reruns RL from the pretrained LM. Real test "
        f"spam missed by the detector: {g['miss_rate_real_test_spam']:.3f}."
    )
    for kind in PAYLOADS:
        for stage, key in (("LM only", "lm_only"), ("under attack", "attack")):
            print(f"  e.g. {kind}, {stage}: {g[kind][key]['examples'][0]!r}")
        print(f"  e.g. {kind}, after hardening: {g[kind]['hardened']['attack']['examples'][0]!r}")


if __name__ == "__main__":
    raise SystemExit(main())
