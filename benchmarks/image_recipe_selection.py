"""Choose the DCGAN recipe on a validation split, never on the test split.

Protocol: the 60,000 Fashion-MNIST training images are split (seeded permutation, seed 0)
into 50,000 for training and 10,000 held out for validation; the test split is not read.
Each recipe trains on the 50,000 with the library's defaults for everything it does not
name (non-saturating loss, batch 64, Adam preset, EMA, seed 0) until it has used
``--minutes`` of process CPU time, then 10,000 EMA samples are scored against the 10,000
held-out training images in the feature space of the shipped fashion-mnist feature net.
The recipe with the lowest validation FLD is the one the library uses by default (and the
one ``image_quality.py`` scores once on the test split). The floor compares 10,000 other
training images with the same held-out ones.

Run: ``python benchmarks/image_recipe_selection.py`` (``--quick`` for a smoke version).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import add_out_option, machine, machine_line, output_dir, quick_note, write_results  # noqa: E402
from socialgan.image.data import load_fashion_mnist  # noqa: E402
from socialgan.image.gan import ImageGAN  # noqa: E402
from socialgan.image.metrics import evaluate_samples, load_feature_extractor  # noqa: E402

#: Candidate DCGAN recipes: the former library default first, then one change at a time.
RECIPES: dict[str, dict[str, Any]] = {
    "width 64, transposed, depth 0": {"width": 64, "upsample": "transposed", "depth": 0},
    "width 32, transposed, depth 0": {"width": 32, "upsample": "transposed", "depth": 0},
    "width 32, nearest, depth 0": {"width": 32, "upsample": "nearest", "depth": 0},
    "width 32, nearest, depth 1": {"width": 32, "upsample": "nearest", "depth": 1},
}
N_TRAIN, N_VAL = 50_000, 10_000


def validation_split(data_dir: str | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(train images, validation images, floor images)`` from the training split only."""
    images = load_fashion_mnist(data_dir, split="train").images
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    train, val = images[perm[:N_TRAIN]], images[perm[N_TRAIN : N_TRAIN + N_VAL]]
    return train, val, train[:N_VAL]


def train_and_validate(recipe: dict[str, Any], minutes: float, n_eval: int, opts: dict) -> dict:
    """Train one recipe for ``minutes`` of CPU time and score it on the validation images."""
    torch.set_num_threads(opts["threads"])
    train, val, floor = validation_split(opts["data"])
    gan = ImageGAN("dcgan", steps=10**9, seed=0, log_every=200, progress=False, **recipe)
    t0, c0 = time.perf_counter(), time.process_time()
    gan.fit(train, cpu_seconds=minutes * 60)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    fake = gan.sample(n_eval, seed=0)
    extractor = load_feature_extractor("fashion-mnist")
    r = evaluate_samples(fake, val[:n_eval], extractor, real_floor=floor[:n_eval], seed=0)
    r.update(
        steps=gan.trainer.step if gan.trainer else 0,
        wall_minutes=wall / 60,
        cpu_minutes=cpu / 60,
        recipe=recipe,
    )
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke version (< 2 min)")
    ap.add_argument("--minutes", type=float, default=8.0, help="CPU minutes per recipe")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per recipe")
    ap.add_argument("--jobs", type=int, default=2, help="recipes trained at the same time")
    ap.add_argument("--data", default=None, help="Fashion-MNIST folder (default: auto)")
    add_out_option(ap)
    args = ap.parse_args()
    args.out = output_dir(args.out, args.quick, "image_recipe_selection")
    minutes = 0.1 if args.quick else args.minutes
    n_eval = 1000 if args.quick else N_VAL
    recipes = dict(list(RECIPES.items())[:2]) if args.quick else RECIPES
    opts = {"threads": args.threads, "data": args.data}
    print(f"training {len(recipes)} recipes for {minutes} CPU minutes each...", file=sys.stderr)
    ctx = multiprocessing.get_context("spawn")  # fresh OpenMP state per worker
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=ctx) as pool:
        futures = {
            name: pool.submit(train_and_validate, recipe, minutes, n_eval, opts)
            for name, recipe in recipes.items()
        }
        res = {name: fut.result() for name, fut in futures.items()}
    chosen = min(res, key=lambda name: res[name]["fld"])
    floor = next(iter(res.values()))["floor"]
    m = machine()
    out = {
        "chosen": chosen,
        "chosen_recipe": recipes[chosen],
        "validation_fld": {name: r["fld"] for name, r in res.items()},
        "floor_fld": floor["fld"],
        "minutes": minutes,
        "n_eval": n_eval,
        "results": res,
        "machine": m,
    }
    path = write_results("image_recipe_selection", out, args.quick, args.out)
    print(f"## DCGAN recipe chosen on held-out training images{quick_note(args.quick)}\n")
    print("| recipe | steps | CPU min | val FLD | KID x1000 | precision | recall |")
    print("|---|---|---|---|---|---|---|")
    for name, r in res.items():
        mark = " (chosen)" if name == chosen else ""
        print(
            f"| {name}{mark} | {r['steps']} | {r['cpu_minutes']:.1f} | {r['fld']:.2f} | "
            f"{1000 * r['kid']:.2f} | {r['precision']:.3f} | {r['recall']:.3f} |"
        )
    print(
        f"| real vs real (floor) | - | - | {floor['fld']:.2f} | {1000 * floor['kid']:.2f} | "
        f"{floor['precision']:.3f} | {floor['recall']:.3f} |"
    )
    print(
        f"\nProtocol: Fashion-MNIST train split only: {N_TRAIN:,} images to train, {n_eval:,} "
        f"held out to validate (seeded permutation; the test split is not read); {n_eval:,} "
        f"EMA samples per recipe, fashion-mnist feature net (FLD, not FID); floor = {n_eval:,} "
        f"other training images vs the held-out ones. Budget {minutes} CPU-minutes per recipe "
        f"(process time), {args.threads} thread(s), {args.jobs} at a time; library defaults "
        f"otherwise. {machine_line(m)} Results: {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
