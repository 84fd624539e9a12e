"""Detecting GAN-made images (issue 3): cross-generator generalization, robustness, an
adaptive attacker and the hardened detector, throughput; in the style of CNNDetection
(Wang et al., CVPR 2020) scaled to a 2-core CPU.

Protocol, per data set (faces = ORL/AT&T at 64x64, fashion = Fashion-MNIST at 28x28):

1. **Zoo.** Seven ImageGANs (``detection_zoo.zoo``): the seed MLP, DCGAN with transposed
   convs (the *training family*; plus a second seed and a 1/3-budget variant), DCGAN with
   nearest upsampling + conv, DCGAN with hinge loss + spectral norm in D, and WGAN-GP
   (n_critic 5). Each trains for ``--gen-seconds`` of process CPU time (1 torch thread);
   the faces conv GANs use DiffAugment (400 images). Each model's run folder (and the
   exported model) is cached under ``benchmarks/cache/detection/``, keyed by its recipe
   and budget (``--retrain`` ignores the cache). Every image a detector sees is rounded
   to 8 bits, like a saved PNG. Faces are split per person (``--faces-split``).
2. **Detectors**, trained on real images vs samples of the training family only (latent
   seed 101): the spectral detector (azimuthal power spectrum + DCT bands, logistic
   regression), the CNN detector (small ResNet, blur/JPEG augmentation) and, as a
   baseline, the discriminator of the training-family GAN (1-D logistic calibration).
   Each threshold is calibrated on held-out real images to ``--target-fpr`` (5%).
3. **Cross-generator table**: every detector against fresh samples (seed 202) of every
   generator and the real test images: ROC AUC, average precision (AP), accuracy at 0.5
   and at the calibrated threshold, detection rate (TPR) at the calibrated threshold.
   "Unseen" = the four other families; seed / length variants are reported apart.
4. **Robustness**: in-distribution AUC after JPEG 75, 0.5x downscale, Gaussian blur
   (sigma 1) and noise (std 0.02), applied to real and fake test images alike.
5. **Attack and defence**: the attacker resumes the training-family GAN's game from its
   final checkpoint (G, D, EMA, optimizers) for ``--attack-fraction`` (0.5) of its steps
   more, with ``--attack-weight * mean softplus(logit - target)`` of the frozen CNN
   detector added to the generator's loss (white box, through
   :meth:`CNNDetector.logits`); ``target`` is the log-odds of the CNN's calibrated threshold
   minus ``--attack-margin`` (2): an attacker who knows the deployed threshold. (With
   ``target = 0``, the plain ``softplus(logit)``, the push fades at p = 0.5 while the
   calibrated threshold sits far lower, and the attack does not get under it.) Detection
   rate (TPR at the calibrated threshold) before (the training generator, i.e. the
   attacker's starting point), under attack (the attacker's samples, seed 404), and after
   hardening (each trainable detector retrained with attacker samples, seed 303, added to
   the fakes, threshold recalibrated) on the same fresh attacker samples. The spectral and
   discriminator detectors see the same samples: does the evasion transfer?
   A second, **spectral attacker** (Durall et al., CVPR 2020) resumes the same game with
   the same step budget and cap, adding ``--spectral-weight`` (20) x their spectral loss
   (:class:`~socialgan.image.detect.SpectralRegularizer`: each sample's min-max normalised
   azimuthal log power spectrum against the mean of up to 2,000 of the generators' real
   training images, BCE minus its minimum) to the generator's loss. It queries no detector
   (it targets the spectral detector's main feature by construction); every detector is
   measured before, under this attack and after hardening on its samples, as above
   (``spectral_attack`` in the JSON), with each sample set's spectral distance to the
   reference.
6. **Throughput**: images/second of ``predict_proba`` on one batch of 1,000 images.

The headline JSON keys (``in_distribution_auc``, ``unseen_mean_ap``, ``robust_min_auc``,
``images_per_second``) are those of the best detector (highest unseen mean AP, then
in-distribution AUC) on the faces (the fake-profile-photo case; Fashion-MNIST when only it
runs); the ``attack_*`` keys are the attacked CNN detector's; ``spectral_attack`` holds
every detector's rates under the spectral attacker. Every data set's numbers are under
``per_data``.

Expected cost of the full default run (both data sets, 60 s per generator, nothing cached)
on this 2-core machine (AMD EPYC) with 1 torch thread: about 30 CPU-minutes, as much wall
time on a quiet machine (per data set: the seven generators ~7.5 minutes, the CNN attacker
~1, the spectral attacker ~0.6, the CNN detector and its two hardened copies ~4.5, the rest
~1); with the zoo cached, about 14. Measured on smaller budgets (the spectral attacker: 133
steps from the cached 60 s faces generator in 33-37 CPU-seconds); the run prints its own
CPU and wall time.

Run: ``python benchmarks/synthetic_image_detection.py`` (``--quick`` for a smoke version,
``--data faces|fashion|both``).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import math
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import average_precision_score, roc_auc_score
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    RESULTS,
    add_out_option,
    machine,
    machine_line,
    output_dir,
    quick_note,
    write_results,
)
from detection_plots import plot_overview, plot_roc, plot_spectra  # noqa: E402
from detection_zoo import (  # noqa: E402
    CACHE,
    SEED_ATTACK_TEST,
    SEED_ATTACK_TRAIN,
    SEED_TEST,
    SEED_TRAIN,
    TRAIN_GENERATOR,
    RealSplits,
    Trained,
    faces_splits,
    fashion_splits,
    fine_tune,
    module_digest,
    quantize,
    train_or_load,
    zoo,
    zoo_settings_note,
)
from socialgan.image.detect import (  # noqa: E402
    PERTURBATIONS,
    CNNDetector,
    DiscriminatorDetector,
    ImageDetector,
    SpectralDetector,
    SpectralRegularizer,
    stack_real_fake,
)
from socialgan.image.grid import save_grid  # noqa: E402

NAME = "synthetic_image_detection"
LABELS = {"spectral": "spectral", "cnn": "CNN", "discriminator": "discriminator (baseline)"}
ATTACKER = "attacker-cnn"
SPECTRAL_ATTACKER = "attacker-spectral"
ATTACKERS = (ATTACKER, SPECTRAL_ATTACKER)
N_REFERENCE = 2000  # real images behind the spectral attacker's reference spectrum
SPECTRAL_WEIGHT = 20.0  # default --spectral-weight


@dataclass
class Sizes:
    """Image counts of one data set's run."""

    n_fake_train: int
    n_fake_test: int
    n_attack_train: int
    cnn_epochs: int
    throughput_n: int


def sizes(data: str, quick: bool, cnn_epochs: int | None = None) -> Sizes:
    """Faces: 600 training fakes against the 200 real training faces (fakes are free),
    test fakes as many as the 120 real test faces. Fashion: 2,000 / 1,000 to match."""
    if data == "faces":
        size = Sizes(150, 120, 75, 2, 256) if quick else Sizes(600, 120, 300, 10, 1000)
    else:
        size = Sizes(300, 200, 150, 2, 256) if quick else Sizes(2000, 1000, 1000, 8, 1000)
    return replace(size, cnn_epochs=cnn_epochs or size.cnn_epochs)


@dataclass
class Bench:
    """What the attacks of one data set start from: the options, image counts, real splits,
    the training generator, the calibrated detectors, their training fakes and the test
    fakes by generator (each attacker adds its own)."""

    args: argparse.Namespace
    size: Sizes
    splits: RealSplits
    base: Trained
    detectors: dict[str, ImageDetector]
    fake_train: Tensor
    tests: dict[str, Tensor]


# ---------------------------------------------------------------------------- metrics
def _proba(logits: np.ndarray) -> np.ndarray:
    """p(generated) exactly as the detectors compute it (float64 sigmoid of the log-odds)."""
    return torch.sigmoid(torch.from_numpy(np.asarray(logits, dtype=np.float64))).numpy()


def pair_metrics(real: np.ndarray, fake: np.ndarray, threshold: float) -> dict[str, float]:
    """AUC and AP of the log-odds; accuracy at 0.5 and at ``threshold``; TPR and FPR there."""
    y = np.r_[np.zeros(len(real)), np.ones(len(fake))]
    s = np.r_[real, fake]
    p, p_real, p_fake = _proba(s), _proba(real), _proba(fake)
    return {
        "auc": float(roc_auc_score(y, s)),
        "ap": float(average_precision_score(y, s)),
        "acc_at_0.5": float(np.mean((p >= 0.5) == y)),
        "acc_at_cal": float(np.mean((p >= threshold) == y)),
        "tpr_at_cal": float(np.mean(p_fake >= threshold)),
        "fpr_at_cal": float(np.mean(p_real >= threshold)),
    }


def detection_rate(det: ImageDetector, fake: Tensor) -> float:
    """Share of ``fake`` flagged at the detector's (calibrated) threshold."""
    return float(np.mean(det.predict(fake)))


# -------------------------------------------------------------------------- detectors
def new_detector(kind: str, size: Sizes, gan: Any = None) -> ImageDetector:
    """A fresh detector of ``kind`` with the benchmark's settings."""
    if kind == "spectral":
        return SpectralDetector(seed=0)
    if kind == "cnn":
        return CNNDetector(epochs=size.cnn_epochs, patience=3, seed=0)
    return DiscriminatorDetector(gan)


def fit_calibrated(
    kind: str, size: Sizes, splits: RealSplits, fake: Tensor, target_fpr: float, gan: Any = None
) -> tuple[ImageDetector, float]:
    """Fit on the real training images vs ``fake``, calibrate on the calibration reals;
    returns the detector and the CPU seconds its fit took."""
    c0 = time.process_time()
    det = new_detector(kind, size, gan).fit(*stack_real_fake(splits.train, fake))
    seconds = time.process_time() - c0
    det.calibrate_threshold(splits.calib, target_fpr)
    return det, seconds


def images_per_second(det: ImageDetector, images: Tensor, repeats: int = 2) -> float:
    """Best-of-``repeats`` rate of ``predict_proba`` on the whole batch (after a warm-up)."""
    det.predict_proba(images[:16])
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        det.predict_proba(images)
        best = min(best, time.perf_counter() - t0)
    return len(images) / best


# ----------------------------------------------------------------------- one data set
def run_data(data: str, args: argparse.Namespace) -> dict[str, Any]:
    """Zoo, detectors, cross-generator table, robustness, attack, throughput, plots."""
    size = sizes(data, args.quick, args.cnn_epochs)
    if data == "faces":
        splits = faces_splits(args.faces_split)
    else:
        splits = fashion_splits(*((300, 200, 200) if args.quick else (2000, 1000, 1000)))
    print(f"[{data}] generator zoo", file=sys.stderr)
    gens: dict[str, Trained] = {
        s.name: train_or_load(s, splits, args.gen_seconds * s.fraction, retrain=args.retrain)
        for s in zoo(data)
    }
    base = gens[TRAIN_GENERATOR]
    fake_train = base.samples(size.n_fake_train, SEED_TRAIN)
    tests = {g: t.samples(size.n_fake_test, SEED_TEST) for g, t in gens.items()}

    print(f"[{data}] detectors", file=sys.stderr)
    detectors: dict[str, ImageDetector] = {}
    fit_seconds: dict[str, float] = {}
    for kind in LABELS:
        detectors[kind], fit_seconds[kind] = fit_calibrated(
            kind, size, splits, fake_train, args.target_fpr, gan=base.gan
        )
    real_logits = {k: d.decision_function(splits.test) for k, d in detectors.items()}
    fake_logits = {
        k: {g: d.decision_function(x) for g, x in tests.items()} for k, d in detectors.items()
    }
    cross = {
        k: {g: pair_metrics(real_logits[k], fake_logits[k][g], d.threshold) for g in tests}
        for k, d in detectors.items()
    }

    print(f"[{data}] robustness", file=sys.stderr)
    robust: dict[str, dict[str, dict[str, float]]] = {k: {} for k in detectors}
    for pert, fn in PERTURBATIONS.items():
        r, f = quantize(fn(splits.test)), quantize(fn(tests[TRAIN_GENERATOR]))
        for k, d in detectors.items():
            m = pair_metrics(d.decision_function(r), d.decision_function(f), d.threshold)
            robust[k][pert] = {key: m[key] for key in ("auc", "ap", "tpr_at_cal", "fpr_at_cal")}

    print(f"[{data}] attack and hardening", file=sys.stderr)
    bench = Bench(args, size, splits, base, detectors, fake_train, tests)
    attacker, attack = run_attack(bench)
    print(f"[{data}] spectral attack and hardening", file=sys.stderr)
    spectral_attacker, spectral_attack = run_spectral_attack(bench)
    attackers = {ATTACKER: attacker, SPECTRAL_ATTACKER: spectral_attacker}

    print(f"[{data}] throughput", file=sys.stderr)
    pool = torch.cat([splits.test, tests[TRAIN_GENERATOR]])
    batch = pool[torch.arange(size.throughput_n) % len(pool)]
    speed = {k: images_per_second(d, batch) for k, d in detectors.items()}

    base_family = base.spec.family
    summary: dict[str, dict[str, Any]] = {}
    unseen = [g for g, t in gens.items() if t.spec.family != base_family]
    variants = [g for g, t in gens.items() if t.spec.family == base_family and g != TRAIN_GENERATOR]
    for k, d in detectors.items():
        summary[k] = {
            "in_distribution_auc": cross[k][TRAIN_GENERATOR]["auc"],
            "in_distribution_ap": cross[k][TRAIN_GENERATOR]["ap"],
            "unseen_mean_ap": float(np.mean([cross[k][g]["ap"] for g in unseen])),
            "unseen_mean_auc": float(np.mean([cross[k][g]["auc"] for g in unseen])),
            "unseen_mean_tpr_at_cal": float(np.mean([cross[k][g]["tpr_at_cal"] for g in unseen])),
            "variants_mean_ap": float(np.mean([cross[k][g]["ap"] for g in variants])),
            "robust_min_auc": min(v["auc"] for v in robust[k].values()),
            "images_per_second": speed[k],
            "threshold": d.threshold,
            "calibration_fpr": d.metrics.get("calibration_fpr"),
            "test_fpr_at_cal": cross[k][TRAIN_GENERATOR]["fpr_at_cal"],
            "fit_cpu_seconds": fit_seconds[k],
            "per_generator": cross[k],
            "robustness": robust[k],
        }
    best = max(
        summary,
        key=lambda k: (summary[k]["unseen_mean_ap"], summary[k]["in_distribution_auc"]),
    )

    plots = make_plots(data, args, splits, gens, tests, real_logits, fake_logits)
    return {
        "description": splits.description,
        "n_real": {k: len(getattr(splits, k)) for k in ("train", "calib", "test")},
        "sizes": size.__dict__,
        "training_generator": TRAIN_GENERATOR,
        "generators": {
            g: {"family": t.spec.family, "variant": t.spec.variant, **t.spec.options, **t.info}
            for g, t in {**gens, **attackers}.items()
        },
        "detectors": summary,
        "best_detector": best,
        "attack": attack,
        "spectral_attack": spectral_attack,
        "plots": plots,
    }


def fine_tune_attacker(
    bench: Bench, name: str, variant: str, loss: Any, depends_on: dict[str, Any]
) -> Trained:
    """The training generator resumed with ``loss`` added to G's, for ``--attack-fraction``
    of its steps within ``--attack-cap`` x ``--gen-seconds`` of CPU; its test samples join
    ``bench.tests`` under ``name``."""
    args, base = bench.args, bench.base
    steps = max(1, round(args.attack_fraction * int(base.info["steps"])))
    spec = replace(base.spec, name=name, variant=variant)
    attacker = fine_tune(
        base,
        spec,
        bench.splits,
        steps,
        loss,
        cap_seconds=args.gen_seconds * args.attack_cap,
        depends_on=depends_on,
        retrain=args.retrain,
    )
    bench.tests[name] = attacker.samples(bench.size.n_fake_test, SEED_ATTACK_TEST)
    return attacker


def run_attack(bench: Bench) -> tuple[Trained, dict[str, Any]]:
    """Train the attacker against the frozen CNN detector, then harden and measure again."""
    args, base = bench.args, bench.base
    cnn = bench.detectors["cnn"]
    assert isinstance(cnn, CNNDetector) and cnn.net_ is not None
    frozen = copy.deepcopy(cnn)
    assert frozen.net_ is not None
    frozen.net_.requires_grad_(False)
    weight = args.attack_weight
    t = min(max(cnn.threshold, 1e-12), 1 - 1e-12)
    target = math.log(t / (1 - t)) - args.attack_margin  # log-odds the attacker aims below

    def evade(images: Tensor) -> Tensor:
        return weight * F.softplus(frozen.logits(images) - target).mean()

    attacker = fine_tune_attacker(
        bench,
        ATTACKER,
        "fine-tuned to evade the frozen CNN",
        evade,
        {
            "attack_weight": weight,
            "target_logit": round(target, 6),
            "detector": module_digest(cnn.net_),
        },
    )
    out: dict[str, Any] = {
        "attacked_detector": "cnn",
        "weight": weight,
        "target_logit": target,
        "threshold": cnn.threshold,
        "fine_tune_steps": attacker.info["steps"],
        "base_steps": base.info["steps"],
        "n_attack_train": bench.size.n_attack_train,
        "rates": attack_rates(bench, attacker),
    }
    return attacker, out


def attack_rates(bench: Bench, attacker: Trained) -> dict[str, dict[str, Any]]:
    """Per detector: detection rate on the training generator's test samples (before), on
    the attacker's (under attack, with the AUC against the real test images), and, for the
    trainable detectors, after hardening: refit on the training fakes plus attacker samples
    (seed 303), threshold recalibrated, scored on the same attacker test samples."""
    size, splits = bench.size, bench.splits
    att_train = attacker.samples(size.n_attack_train, SEED_ATTACK_TRAIN)
    att_test = bench.tests[attacker.spec.name]
    normal = bench.tests[TRAIN_GENERATOR]
    rates: dict[str, dict[str, Any]] = {}
    for kind, det in bench.detectors.items():
        real_test = det.decision_function(splits.test)
        row: dict[str, Any] = {
            "before": detection_rate(det, normal),
            "under_attack": detection_rate(det, att_test),
            "auc_under_attack": pair_metrics(
                real_test, det.decision_function(att_test), det.threshold
            )["auc"],
        }
        if kind != "discriminator":  # D is GAN-specific: nothing to retrain
            hard, _ = fit_calibrated(
                kind, size, splits, torch.cat([bench.fake_train, att_train]), bench.args.target_fpr
            )
            row.update(
                after_hardening=detection_rate(hard, att_test),
                hardened_on_normal=detection_rate(hard, normal),
                hardened_test_fpr=float(np.mean(hard.predict(splits.test))),
                hardened_threshold=hard.threshold,
            )
        rates[kind] = row
    return rates


def spectral_reference_images(splits: RealSplits) -> Tensor:
    """The real images the spectral attacker matches: the generators' training images
    (at most ``N_REFERENCE``, a seeded subset), i.e. nothing the GAN did not already see."""
    x = splits.gan_data.images
    if len(x) > N_REFERENCE:
        x = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:N_REFERENCE]]
    return quantize(x)


def run_spectral_attack(bench: Bench) -> tuple[Trained, dict[str, Any]]:
    """The black-box attacker of Durall et al. (CVPR 2020): the training-family GAN resumed
    with ``--spectral-weight`` x their spectral loss (BCE of the reduced spectrum against
    the real images' mean, minus its minimum) added to G's loss, with the CNN attacker's
    step budget and CPU cap; no detector involved. Then every detector is measured before,
    under attack and after hardening, as for the CNN attacker."""
    splits, tests = bench.splits, bench.tests
    reference = spectral_reference_images(splits)
    reg = SpectralRegularizer(reference, weight=bench.args.spectral_weight)
    reference_digest = hashlib.sha256(reg.reference.numpy().tobytes()).hexdigest()[:16]
    attacker = fine_tune_attacker(
        bench,
        SPECTRAL_ATTACKER,
        "fine-tuned with a spectral regularizer",
        reg,
        {"attack": "spectral", "spectral_weight": reg.weight, "reference": reference_digest},
    )
    shown = {"real (test)": splits.test, **{g: tests[g] for g in (TRAIN_GENERATOR, *ATTACKERS)}}
    distance = {name: reg.distance(x) for name, x in shown.items()}
    out: dict[str, Any] = {
        "regularizer": "Durall et al. spectral loss (BCE - H(ref) = mean Bernoulli KL)",
        "weight": reg.weight,
        "n_reference": len(reference),
        "fine_tune_steps": attacker.info["steps"],
        "base_steps": bench.base.info["steps"],
        "n_attack_train": bench.size.n_attack_train,
        "spectral_distance": distance,
        "rates": attack_rates(bench, attacker),
    }
    return attacker, out


def make_plots(
    data: str,
    args: argparse.Namespace,
    splits: RealSplits,
    gens: dict[str, Trained],
    tests: dict[str, Tensor],
    real_logits: dict[str, np.ndarray],
    fake_logits: dict[str, dict[str, np.ndarray]],
) -> list[str]:
    """ROC curves, mean spectra (all generators; real vs the attackers), labelled sample
    overview and one grid per generator."""
    folder = args.out / NAME
    tag = ".tmp" if args.quick else ""
    shown = [TRAIN_GENERATOR] + [
        g for g, t in gens.items() if t.spec.family != gens[TRAIN_GENERATOR].spec.family
    ]
    curves = {
        LABELS[k]: {
            (f"{g} (in-distribution)" if g == TRAIN_GENERATOR else g): (
                real_logits[k],
                fake_logits[k][g],
            )
            for g in shown
        }
        for k in real_logits
    }
    quick = " (QUICK)" if args.quick else ""
    paths = [
        plot_roc(
            curves,
            folder / f"roc_{data}{tag}.png",
            f"{data}: detectors trained on {TRAIN_GENERATOR}, tested on each family{quick}",
            mark_fpr=args.target_fpr,
        ),
        plot_spectra(
            splits.test,
            {g: tests[g] for g in [*gens, *ATTACKERS]},
            folder / f"spectra_{data}{tag}.png",
            f"{data}: mean power spectra, real vs generated{quick}",
        ),
        plot_spectra(
            splits.test,
            {g: tests[g] for g in (TRAIN_GENERATOR, *ATTACKERS)},
            folder / f"spectra_attack_{data}{tag}.png",
            f"{data}: mean power spectra, real vs the attackers and their starting point{quick}",
        ),
        plot_overview(
            {"real (test)": splits.test, **{g: tests[g] for g in [*gens, *ATTACKERS]}},
            folder / f"samples_{data}{tag}.png",
            f"{data}: real test images and samples of each generator{quick}",
        ),
    ]
    for g, x in {"real": splits.test, **tests}.items():
        paths.append(save_grid(x[:64], folder / f"grid_{data}_{g}{tag}.png", nrow=8))
    return [
        str(p.relative_to(RESULTS.parent) if p.is_relative_to(RESULTS.parent) else p) for p in paths
    ]


# ---------------------------------------------------------------------------- report
def _f(x: Any, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def print_rates(res: dict[str, Any], block: str) -> None:
    """The before / under attack / after hardening table of ``res[data][block]``."""
    print(
        "| data | detector | before | under attack | AUC under attack | after hardening "
        "| hardened: TPR on normal fakes | hardened: test FPR |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for data, r in res.items():
        for k, row in r[block]["rates"].items():
            attacked = " (attacked)" if k == r[block].get("attacked_detector") else ""
            print(
                f"| {data} | {LABELS[k]}{attacked} | {_f(row['before'])} | "
                f"{_f(row['under_attack'])} | {_f(row['auc_under_attack'])} | "
                f"{_f(row.get('after_hardening'))} | {_f(row.get('hardened_on_normal'))} | "
                f"{_f(row.get('hardened_test_fpr'))} |"
            )


def print_report(res: dict[str, Any], args: argparse.Namespace, out: dict[str, Any]) -> None:
    """Markdown tables, headline and protocol on stdout."""
    print(f"## Synthetic-image detection{quick_note(args.quick)}\n")
    print("### Generator zoo\n")
    print("| data | generator | family | variant | steps | CPU s | cached |")
    print("|---|---|---|---|---|---|---|")
    for data, r in res.items():
        for g, info in r["generators"].items():
            cached = "yes" if info["cached"] else "no"
            steps = f"+{info['steps']}" if g in ATTACKERS else info["steps"]
            print(
                f"| {data} | {g} | {info['family']} | {info['variant'] or '-'} | "
                f"{steps} | {info['cpu_seconds']:.0f} | {cached} |"
            )
    for data, r in res.items():
        for k, s in r["detectors"].items():
            print(
                f"\n### {data}: {LABELS[k]} detector, trained on {TRAIN_GENERATOR} "
                f"(threshold {s['threshold']:.4g}, calibrated to {args.target_fpr:.0%} FPR on "
                f"{r['n_real']['calib']} held-out real images; test FPR {s['test_fpr_at_cal']:.3f})"
                "\n"
            )
            print("| generator | family | AUC | AP | acc@0.5 | acc@cal | TPR@cal |")
            print("|---|---|---|---|---|---|---|")
            for g, m in s["per_generator"].items():
                info = r["generators"][g]
                mark = " (in-distribution)" if g == TRAIN_GENERATOR else ""
                print(
                    f"| {g}{mark} | {info['family']} | {_f(m['auc'])} | {_f(m['ap'])} | "
                    f"{_f(m['acc_at_0.5'])} | {_f(m['acc_at_cal'])} | {_f(m['tpr_at_cal'])} |"
                )
    print("\n### Summary per detector\n")
    print(
        "| data | detector | in-dist AUC | unseen mean AP | unseen mean AUC | unseen TPR@cal "
        "| variants mean AP | worst perturbed AUC | images/s | fit CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for data, r in res.items():
        for k, s in r["detectors"].items():
            star = " **(best)**" if k == r["best_detector"] else ""
            print(
                f"| {data} | {LABELS[k]}{star} | {_f(s['in_distribution_auc'])} | "
                f"{_f(s['unseen_mean_ap'])} | {_f(s['unseen_mean_auc'])} | "
                f"{_f(s['unseen_mean_tpr_at_cal'])} | {_f(s['variants_mean_ap'])} | "
                f"{_f(s['robust_min_auc'])} | {s['images_per_second']:.0f} | "
                f"{s['fit_cpu_seconds']:.0f} |"
            )
    perts = list(PERTURBATIONS)
    print("\n### Robustness: in-distribution AUC after each perturbation\n")
    print("| data | detector | clean | " + " | ".join(perts) + " | worst |")
    print("|---|---|---|" + "---|" * len(perts) + "---|")
    for data, r in res.items():
        for k, s in r["detectors"].items():
            cells = " | ".join(_f(s["robustness"][p]["auc"]) for p in perts)
            print(
                f"| {data} | {LABELS[k]} | {_f(s['in_distribution_auc'])} | {cells} | "
                f"{_f(s['robust_min_auc'])} |"
            )
    print(
        "\n### Attack and defence: detection rate (TPR at the calibrated threshold)\n\n"
        "The attacker fine-tunes the training-family GAN (resumed from its last checkpoint, "
        f"{args.attack_fraction:g} x its steps more) with {args.attack_weight:g} x mean "
        "softplus(CNN logit - target) added to its generator loss, target = the calibrated "
        f"threshold's log-odds - {args.attack_margin:g}; the other detectors see the same "
        "samples (transfer).\n"
    )
    print_rates(res, "attack")
    print(
        "\n### Spectral attack and defence: detection rate (TPR at the calibrated threshold)\n\n"
        "A second attacker fine-tunes the same GAN with the same budget, adding "
        f"{args.spectral_weight:g} x the spectral loss of Durall et al. (CVPR 2020) to its "
        "generator loss: each sample's azimuthal log power spectrum, min-max normalised, "
        "against the mean of the generators' real training images (BCE minus its minimum); "
        "it queries no detector. Hardening as above, with its samples.\n"
    )
    print_rates(res, "spectral_attack")
    print(
        "\nSpectral distance to the real reference (the regularizer's loss; 0 = every "
        "sample has the reference spectrum):\n"
    )
    names = list(next(iter(res.values()))["spectral_attack"]["spectral_distance"])
    print("| data | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for data, r in res.items():
        dist = r["spectral_attack"]["spectral_distance"]
        print(f"| {data} | " + " | ".join(_f(dist[n], 4) for n in names) + " |")
    print(f"\n### Headline ({out['headline_data']}, best detector: {out['best_detector']})\n")
    for key in HEADLINE:
        print(f"- `{key}`: {out[key]:.4g}")
    m = out["machine"]
    data_lines = "; ".join(f"{d}: {r['description']}" for d, r in res.items())
    size_lines = "; ".join(
        f"{d}: {r['sizes']['n_fake_train']} training fakes (seed {SEED_TRAIN}), "
        f"{r['sizes']['n_fake_test']} test fakes per generator (seed {SEED_TEST}), "
        f"{r['sizes']['n_attack_train']} attacker fakes added when hardening, CNN up to "
        f"{r['sizes']['cnn_epochs']} epochs"
        for d, r in res.items()
    )
    print(
        f"\nProtocol. Data: {data_lines}. Samples: {size_lines}; all images rounded to 8 bits. "
        f"Generators: {args.gen_seconds:g} CPU-seconds each (the 1/3-budget variant a third; "
        f"each attacker's fine-tuning capped at {args.attack_cap:g}x), "
        f"{args.threads} torch thread(s), EMA samples. {zoo_settings_note()} Detectors trained on "
        f"{TRAIN_GENERATOR} only; thresholds calibrated to {args.target_fpr:.0%} FPR on the "
        "calibration reals; AUC/AP from the log-odds; unseen = the four other families "
        "(seed MLP, upsample+conv, hinge+SN, WGAN-GP), variants = other seed and 1/3 budget. "
        "Perturbations: JPEG 75, downscale 0.5 (antialiased, back up), Gaussian blur sigma 1, "
        "noise std 0.02. Throughput: predict_proba on one batch of "
        f"{next(iter(res.values()))['sizes']['throughput_n']} images. Run: "
        f"{out['cpu_minutes']:.1f} CPU-minutes, {out['wall_minutes']:.1f} wall minutes. "
        f"{machine_line(m)} Results: {out['path']}; plots: {args.out / NAME}/"
    )


HEADLINE = (
    "in_distribution_auc",
    "unseen_mean_ap",
    "robust_min_auc",
    "attack_detection_rate_before",
    "attack_detection_rate_under_attack",
    "attack_detection_rate_after_hardening",
    "images_per_second",
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke version (< 3 min, faces only)")
    ap.add_argument(
        "--data",
        choices=("faces", "fashion", "both"),
        default=None,
        help="data sets (default: both; faces with --quick)",
    )
    ap.add_argument(
        "--gen-seconds",
        type=float,
        default=None,
        help="CPU seconds per generator (default 60; 4 with --quick)",
    )
    ap.add_argument(
        "--attack-weight", type=float, default=0.5, help="weight of the evasion term (0.5)"
    )
    ap.add_argument(
        "--attack-margin",
        type=float,
        default=2.0,
        help="the attacker aims this far (in log-odds) below the CNN's calibrated threshold (2)",
    )
    ap.add_argument(
        "--attack-fraction",
        type=float,
        default=0.5,
        help="attacker fine-tuning steps, as a fraction of the training generator's steps (0.5)",
    )
    ap.add_argument(
        "--attack-cap",
        type=float,
        default=2.0,
        help="the attacker's CPU budget cap, in multiples of --gen-seconds (2)",
    )
    ap.add_argument(
        "--spectral-weight",
        type=float,
        default=SPECTRAL_WEIGHT,
        help=f"weight of the spectral attacker's Durall loss ({SPECTRAL_WEIGHT:g})",
    )
    ap.add_argument(
        "--cnn-epochs",
        type=int,
        default=None,
        help="CNN detector epochs (default: 10 faces, 8 fashion; 2 with --quick)",
    )
    ap.add_argument(
        "--faces-split",
        choices=("person", "identity"),
        default="person",
        help="faces: deal each person's images to train/calibration/test (person, default) "
        "or whole people (identity)",
    )
    ap.add_argument("--target-fpr", type=float, default=0.05, help="calibration FPR (0.05)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1)")
    ap.add_argument("--retrain", action="store_true", help=f"ignore the cache ({CACHE})")
    add_out_option(ap)
    args = ap.parse_args()
    args.out = output_dir(args.out, args.quick, NAME)
    args.data = args.data or ("faces" if args.quick else "both")
    if args.gen_seconds is None:
        args.gen_seconds = 4.0 if args.quick else 60.0
    torch.set_num_threads(args.threads)
    c0, t0 = time.process_time(), time.perf_counter()
    datasets = ["faces", "fashion"] if args.data == "both" else [args.data]
    res = {d: run_data(d, args) for d in datasets}
    primary = "faces" if "faces" in res else datasets[0]
    p = res[primary]
    best = p["detectors"][p["best_detector"]]
    rates = p["attack"]["rates"]["cnn"]
    out: dict[str, Any] = {
        "in_distribution_auc": best["in_distribution_auc"],
        "unseen_mean_ap": best["unseen_mean_ap"],
        "robust_min_auc": best["robust_min_auc"],
        "attack_detection_rate_before": rates["before"],
        "attack_detection_rate_under_attack": rates["under_attack"],
        "attack_detection_rate_after_hardening": rates["after_hardening"],
        "images_per_second": best["images_per_second"],
        "best_detector": p["best_detector"],
        "attack_detector": "cnn",
        "spectral_attack": {
            "weight": args.spectral_weight,
            "spectral_distance": p["spectral_attack"]["spectral_distance"],
            "rates": {
                k: {key: row.get(key) for key in ("before", "under_attack", "after_hardening")}
                for k, row in p["spectral_attack"]["rates"].items()
            },
        },
        "headline_data": primary,
        "per_data": res,
        "settings": {
            "gen_seconds": args.gen_seconds,
            "attack_weight": args.attack_weight,
            "attack_margin": args.attack_margin,
            "attack_fraction": args.attack_fraction,
            "attack_cap": args.attack_cap,
            "spectral_weight": args.spectral_weight,
            "target_fpr": args.target_fpr,
            "faces_split": args.faces_split,
            "threads": args.threads,
            "training_generator": TRAIN_GENERATOR,
            "perturbations": list(PERTURBATIONS),
        },
        "cpu_minutes": (time.process_time() - c0) / 60,
        "wall_minutes": (time.perf_counter() - t0) / 60,
        "machine": machine(),
    }
    out["path"] = str(write_results(NAME, out, args.quick, args.out))
    print_report(res, args, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
