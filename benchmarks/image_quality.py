"""Image quality on Fashion-MNIST: DCGAN vs the seed MLP at the same CPU budget.

Protocol: both models train on the 60,000 Fashion-MNIST training images
(``../shared/data/images/fashion-mnist``) with the non-saturating loss, batch 64, their
Adam presets and an EMA generator, each until it has used ``--minutes`` of process CPU
time (all threads counted, so a shared machine does not inflate the budget). Each then
draws 10,000 samples (EMA generator, seed 0) that are scored against the 10,000 test
images in the feature space of the shipped Fashion-MNIST feature net (FLD = Frechet
distance of those features; not FID). The real-vs-real floor compares 10,000 training
images with the same test images.

Run: ``python benchmarks/image_quality.py`` (``--quick`` for a smoke version).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import add_out_option, machine, machine_line, output_dir, quick_note, write_results  # noqa: E402
from socialgan.image.data import load_fashion_mnist  # noqa: E402
from socialgan.image.gan import ImageGAN  # noqa: E402
from socialgan.image.grid import save_grid  # noqa: E402
from socialgan.image.metrics import evaluate_samples, load_feature_extractor  # noqa: E402

# The DCGAN recipe of the reported run (see the README); each is a command-line flag.
DEFAULTS = {
    "width": 32,
    "upsample": "nearest",
    "depth": 1,
    "conditional": False,
    "lr_d": 2e-4,
    "lr_g": 2e-4,
    "augment": "",
}


def train_and_score(
    arch: str, opts: dict, minutes: float, n_eval: int, quick: bool, folder: Path
) -> dict:
    """Train one model for ``minutes`` of CPU time and score it (runs in its own process);
    its sample grid goes to ``folder``."""
    torch.set_num_threads(opts.pop("threads"))
    data_dir = opts.pop("data")
    train = load_fashion_mnist(data_dir, split="train")
    test = load_fashion_mnist(data_dir, split="test")
    perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))
    floor_real = train.images[perm[:n_eval]]
    extractor = load_feature_extractor("fashion-mnist")
    truncation = opts.pop("truncation", None)
    gan = ImageGAN(arch, steps=10**9, batch_size=64, seed=0, log_every=200, **opts)
    t0, c0 = time.perf_counter(), time.process_time()
    gan.fit(train, cpu_seconds=minutes * 60)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    labels = None
    if gan.net_config["conditional"]:  # the real class balance: n_eval / 10 of each class
        labels = torch.arange(n_eval) % gan.net_config["num_classes"]
    fake = gan.sample(n_eval, seed=0, labels=labels, truncation=truncation)
    tag = ".tmp" if quick else ""
    grid_labels = (torch.arange(100) // 10) if labels is not None else None
    grid = gan.sample(100, seed=1, labels=grid_labels, truncation=truncation)
    save_grid(grid, folder / f"image_quality_{arch}{tag}.png", nrow=10)
    r = evaluate_samples(fake, test.images[:n_eval], extractor, real_floor=floor_real, seed=0)
    r.update(
        steps=gan.trainer.step if gan.trainer else 0,
        wall_minutes=wall / 60,
        cpu_minutes=cpu / 60,
        threads=torch.get_num_threads(),
    )
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke version (< 2 min)")
    ap.add_argument("--minutes", type=float, default=30.0, help="CPU minutes per model")
    ap.add_argument("--width", type=int, default=DEFAULTS["width"], help="DCGAN base width")
    ap.add_argument(
        "--upsample",
        default=DEFAULTS["upsample"],
        choices=("transposed", "nearest"),
        help="DCGAN generator upsampling",
    )
    ap.add_argument(
        "--depth",
        type=int,
        default=DEFAULTS["depth"],
        help="DCGAN extra 3x3 convs per resolution (G and D)",
    )
    ap.add_argument(
        "--conditional",
        action=argparse.BooleanOptionalAction,
        default=DEFAULTS["conditional"],
        help="class-conditional DCGAN (projection D); samples drawn class-balanced",
    )
    ap.add_argument("--lr-d", type=float, default=DEFAULTS["lr_d"], help="DCGAN D learning rate")
    ap.add_argument("--lr-g", type=float, default=DEFAULTS["lr_g"], help="DCGAN G learning rate")
    ap.add_argument("--augment", default=DEFAULTS["augment"], help="DCGAN DiffAugment policy")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per model")
    ap.add_argument("--jobs", type=int, default=2, help="models trained at the same time")
    ap.add_argument("--data", default=None, help="Fashion-MNIST folder (default: auto)")
    add_out_option(ap)
    args = ap.parse_args()
    args.out = output_dir(args.out, args.quick, "image_quality")
    minutes = 0.2 if args.quick else args.minutes
    n_eval = 1000 if args.quick else 10000
    common = {"threads": args.threads, "data": args.data, "progress": False}
    dcgan_opts = {
        "width": args.width,
        "upsample": args.upsample,
        "depth": args.depth,
        "conditional": args.conditional,
        "lr_d": args.lr_d,
        "lr_g": args.lr_g,
        "augment": args.augment,
    }
    jobs = {"dcgan": {**common, **dcgan_opts}, "seed": dict(common)}
    print(f"training dcgan and seed for {minutes} CPU minutes each...", file=sys.stderr)
    ctx = multiprocessing.get_context("spawn")  # fresh OpenMP state per worker
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=ctx) as pool:
        futures = {
            arch: pool.submit(train_and_score, arch, opts, minutes, n_eval, args.quick, args.out)
            for arch, opts in jobs.items()
        }
        res = {arch: fut.result() for arch, fut in futures.items()}
    d, s, f = res["dcgan"], res["seed"], res["dcgan"]["floor"]
    m = machine()
    out = {
        "dcgan_fld": d["fld"],
        "floor_fld": f["fld"],
        "dcgan_precision": d["precision"],
        "dcgan_recall": d["recall"],
        "dcgan_min_class_share": d["min_class_share"],
        "seed_fld": s["fld"],
        "minutes": minutes,
        "n_eval": n_eval,
        "dcgan_width": args.width,
        "dcgan_options": dcgan_opts,
        "threads_per_model": args.threads,
        "results": res,
        "machine": m,
    }
    path = write_results("image_quality", out, args.quick, args.out)
    print(f"## Image quality on Fashion-MNIST{quick_note(args.quick)}\n")
    print(
        "| model | steps | CPU min | wall min | FLD | KID x1000 | precision | recall "
        "| min class share | classes |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in (("DCGAN", d), ("seed MLP", s)):
        print(
            f"| {name} | {r['steps']} | {r['cpu_minutes']:.1f} | {r['wall_minutes']:.1f} | "
            f"{r['fld']:.2f} | {1000 * r['kid']:.2f} | {r['precision']:.3f} | {r['recall']:.3f} "
            f"| {r['min_class_share']:.3f} | {r['classes_covered']}/10 |"
        )
    print(
        f"| real vs real (floor) | - | - | - | {f['fld']:.2f} | {1000 * f['kid']:.2f} | "
        f"{f['precision']:.3f} | {f['recall']:.3f} | - | - |"
    )
    print(
        f"\nProtocol: Fashion-MNIST train (60,000) -> {n_eval:,} EMA samples vs {n_eval:,} test "
        f"images, features of the shipped fashion-mnist feature net (FLD, not FID); floor = "
        f"{n_eval:,} train vs the same test images. Budget {minutes} CPU-minutes per model "
        f"(process time, all threads), {args.threads} thread(s) per model, {args.jobs} model(s) "
        f"at a time; batch 64, non-saturating loss, Adam betas (0.5, 0.999), EMA 0.999 with "
        f"warm-up, seed 0; DCGAN {dcgan_opts}. {machine_line(m)} Results: {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
