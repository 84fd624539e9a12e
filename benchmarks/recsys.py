"""Recommenders on real data: GAN recommenders against tuned baselines, with the social graph.

Protocol:

- Last.fm HetRec 2011 (``../shared/data/lastfm_hetrec``; 1,892 users, 17,632 artists,
  92,834 user-artist pairs, 12,717 undirected friend pairs), as RecBole-GNN's social
  benchmark uses it: every pair is a positive (no filtering), split 8:1:1 at random per
  user (RecBole's rule for the counts; seed 2020, RecBole's default), full ranking over all
  items. The models are fitted on the training part only; at test time the training and
  validation items are excluded from the ranking (as RecBole does); metrics are averaged
  over the users with test items. Anchors (RecBole-GNN ``results/social/lastfm.md``, same
  protocol): BPR R@10 0.1761 / NDCG@10 0.1674, LightGCN 0.2064 / 0.1972, DiffNet 0.1757 /
  0.1694, MHCN 0.2123 / 0.2068, SEPT 0.2127 / 0.2057.
- FilmTrust (``../shared/data/filmtrust``; 35,494 ratings as positives, the directed trust
  network), the same protocol.
- CFGAN's protocol (section ``pair``): a random 80/20 split per user of a MovieLens-style
  ``user item rating`` file, written to ``.train`` / ``.test`` files and read back as a
  given pair (the search validates on 10% of each user's training rows; the chosen
  configuration is refitted on the whole training file); Precision@5/20, Recall@20,
  NDCG@20. There is no MovieLens file on this machine, so the file is FilmTrust's
  ``ratings.txt`` (CFGAN's published ML-100K figures, P@5 0.444, P@20 0.294, R@20 0.360,
  NDCG@20 0.433, are on other data and do not compare).
- Search: every model gets the same budget, its defaults plus ``--budget - 1``
  configurations drawn (seed 0) from its grid (``search_space``), each fitted on train and
  scored by NDCG@10 on validation (LightGCN also stops early on it, as RecBole does); the
  best is scored once on test. Except the GANs: on this 2-core CPU their published
  schedules take about 8 hours (CFGAN) and 1-1.5 hours (IRGAN) per fit on Last.fm, so
  they get ``--gan-budget`` (3) configurations and, on Last.fm, capped schedules
  (``GAN_CAPS``: CFGAN 30 epochs of the authors' 750-1000; IRGAN 2 rounds of 20 D and 10 G
  passes after 10 pretraining epochs, of 15 rounds of 100 and 50 after 30); on FilmTrust
  (2,071 items) IRGAN runs its published schedule and CFGAN 300 epochs. They are measured,
  not tuned to convergence, and the tables say so. "Best" in the summary
  is the model with the best validation NDCG@10, not the best test figure. Defaults are
  the library's (the WeightedEASE defaults were chosen on Last.fm's validation part).
- Seeds (section ``seeds``): the fast models (``SEED_MODELS``) on Last.fm, the same
  protocol on five split seeds (2020-2024): mean and standard deviation of the test
  figures, to show how much of a difference in the fourth decimal is the split's luck.
- EASE fit time (section ``ease_time``): plain EASE (l2 = 500) on all of Last.fm, the
  users x users Woodbury solver (the default there) against the items x items inverse,
  float64 Cholesky, best of 3 (the items one: 1 run), 2 threads.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    add_out_option,
    add_sections_option,
    machine,
    machine_line,
    output_dir,
    parse_sections,
    previous_results,
    quick_note,
    run_sections,
    write_results,
)
from socialgan.recsys.data import Interactions, load_filmtrust, load_lastfm, read_pair  # noqa: E402
from socialgan.recsys.evaluate import Result, model_names, run  # noqa: E402
from socialgan.recsys.models.ease import EASE  # noqa: E402
from socialgan.recsys.report import format_results  # noqa: E402
from socialgan.recsys.split import Split, given_split, holdout_split, make_split  # noqa: E402

SECTIONS = ("lastfm", "filmtrust", "pair", "ease_time", "seeds")
#: The seeds section: the closed-form and neighbourhood models on five splits.
SEED_MODELS = "itemknn,rp3beta,ease,ease-weighted,social-ease"
SPLIT_SEEDS = (2020, 2021, 2022, 2023, 2024)
MODELS = (
    "toppop,itemknn,rp3beta,puresvd,ease,ease-weighted,bpr,als,lightgcn,cfgan,irgan,"
    "social-itemknn,social-ease,social-lightgcn"
)
PAIR_MODELS = "toppop,itemknn,rp3beta,ease,ease-weighted,bpr,lightgcn,cfgan,irgan"
#: The GAN recommenders' schedules, cut to fit a 2-core CPU: the published ones take about
#: 8 hours (CFGAN, 1000 epochs at ~27 s each on Last.fm) and 1-1.5 hours (IRGAN, 15 rounds
#: of 100 D and 50 G passes) per fit here. Applied over every configuration searched.
GAN_CAPS: dict[str, dict[str, dict[str, Any]]] = {
    "lastfm": {
        "cfgan": {"epochs": 30},
        "irgan": {"epochs": 2, "d_epochs": 20, "g_epochs": 10, "pretrain_epochs": 10},
    },
    "filmtrust": {"cfgan": {"epochs": 300}, "irgan": {}},
}
GAN_MODELS = ("cfgan", "irgan")
#: Models that train for minutes: submitted first when --jobs > 1.
HEAVY = ("lightgcn", "social-lightgcn", "cfgan", "irgan")
#: --quick: a few epochs for the trained models, so the smoke run checks the code path only.
QUICK_FIXED: dict[str, dict[str, Any]] = {
    "bpr": {"iterations": 2},
    "als": {"iterations": 2},
    "lightgcn": {"epochs": 1},
    "social-lightgcn": {"epochs": 1},
    "cfgan": {"epochs": 1},
    "irgan": {"epochs": 1},
}
ANCHORS = {
    "BPR (RecBole-GNN)": (0.1761, 0.1674),
    "LightGCN (RecBole-GNN)": (0.2064, 0.1972),
    "DiffNet (RecBole-GNN)": (0.1757, 0.1694),
    "MHCN (RecBole-GNN)": (0.2123, 0.2068),
    "SEPT (RecBole-GNN)": (0.2127, 0.2057),
}


def _fixed(names: list[str], quick: bool, caps: str = "lastfm") -> dict[str, dict[str, Any]]:
    """Settings fixed over the search: GAN_CAPS[caps], --quick's short runs, no bars."""
    fixed: dict[str, dict[str, Any]] = {n: {} for n in names}
    for name in names:
        fixed[name].update(GAN_CAPS[caps].get(name, {}))
        if quick:
            fixed[name].update(QUICK_FIXED.get(name, {}))
        cls_params = _params_of(name)
        if "progress" in cls_params:
            fixed[name]["progress"] = False
        fixed[name] = {k: v for k, v in fixed[name].items() if k in cls_params}
    return fixed


def _params_of(name: str) -> dict[str, Any]:
    from socialgan.recsys.evaluate import model_class

    return model_class(name)().get_params()


def _quick_slice(data: Interactions, users: int = 300) -> Interactions:
    """The first ``users`` users' interactions (ids kept), for a smoke run."""
    return data.subset(data.users < users)


def _log(name: str, trial: Any) -> None:
    print(
        f"  {name}: {trial.params or 'defaults'} -> valid ndcg@10 "
        f"{trial.metrics['ndcg@10']:.4f} ({trial.fit_s:.1f} s)",
        flush=True,
    )


#: Configurations searched for a model of GAN_CAPS (--gan-budget); set by main().
GAN_BUDGET = {"value": 3}


def _budget(name: str, budget: int) -> int:
    return min(budget, GAN_BUDGET["value"]) if name in GAN_MODELS else budget


def _one_model(
    name: str, split: Split, budget: int, quick: bool, caps: str, worker: bool
) -> Result:
    """One model's search and test (in a worker process: one torch / BLAS thread)."""
    fixed = _fixed([name], quick, caps)
    if worker:
        torch.set_num_threads(1)
    with threadpool_limits(1) if worker else contextlib.nullcontext():
        return run([name], split, budget=budget, seed=0, fixed=fixed, on_trial=_log)[0]


def run_models(
    names: list[str], split: Split, budget: int, quick: bool, jobs: int, caps: str
) -> list[Result]:
    """Every model's search and test; ``jobs > 1`` runs that many models at a time, each in
    its own process with one thread (results in the order of ``names``)."""
    if jobs <= 1:
        return [_one_model(n, split, _budget(n, budget), quick, caps, False) for n in names]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        heavy_first = sorted(names, key=lambda n: n not in HEAVY)
        futures = {
            n: pool.submit(_one_model, n, split, _budget(n, budget), quick, caps, True)
            for n in heavy_first
        }
        return [futures[n].result() for n in names]


def run_dataset(
    data: Interactions,
    names: list[str],
    budget: int,
    quick: bool,
    seed: int,
    jobs: int,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One data set's table. Rows of ``previous`` (this section of the results file) for
    models not run now are kept when their protocol is the same, so a model can be
    added or rerun alone (``--models cfgan``)."""
    if quick:
        data = _quick_slice(data)
    split = make_split(data, "recbole", seed=seed)
    protocol = f"{data.source}: {data.describe()}; {split.protocol}; budget {budget}"
    print(protocol, flush=True)
    results = run_models(names, split, budget, quick, jobs, data.source)
    print(format_results(results), flush=True)
    return _merge_rows(protocol, [r.as_dict() for r in results], previous)


def _merge_rows(
    protocol: str, rows: list[dict[str, Any]], previous: dict[str, Any] | None
) -> dict[str, Any]:
    kept = []
    if previous and previous.get("protocol") == protocol:
        ran = {r["model"] for r in rows}
        kept = [r for r in previous.get("results", []) if r["model"] not in ran]
    order = {n: i for i, n in enumerate(model_names(MODELS))}
    merged = sorted(kept + rows, key=lambda r: order.get(r["model"], len(order)))
    return {"protocol": protocol, "results": merged}


def run_pair(names: list[str], budget: int, quick: bool, seed: int, jobs: int) -> dict:
    data = load_filmtrust()
    if quick:
        data = _quick_slice(data)
    halves = holdout_split(data, test_size=0.2, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for part, suffix in ((halves.train, "train"), (halves.test, "test")):
            path = Path(tmp) / f"filmtrust.{suffix}"
            rows = zip(data.user_ids[part.users], data.item_ids[part.items], part.ratings,
                       strict=True)  # fmt: skip
            path.write_text("".join(f"{u}\t{i}\t{r:g}\n" for u, i, r in rows))
            paths.append(path)
        train, test = read_pair(*paths)
    split = given_split(train, test, seed=seed)
    protocol = f"filmtrust ratings as a given 80/20 pair ({halves.protocol}); {split.protocol}"
    print(protocol, flush=True)
    results = run_models(names, split, budget, quick, jobs, "filmtrust")
    print(format_results(results), flush=True)
    return {"protocol": protocol, "results": [r.as_dict() for r in results]}


def run_ease_time(quick: bool) -> dict[str, Any]:
    data = load_lastfm()
    if quick:
        data = _quick_slice(data)
    X = data.matrix()
    out: dict[str, Any] = {}
    plan = [("users", 3), ("items", 1)] if not quick else [("users", 1)]  # items: minutes
    out["items_s"] = None
    for solver, repeats in plan:
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            EASE(l2=500.0, solver=solver).fit(X)
            best = min(best, time.perf_counter() - t0)
        out[f"{solver}_s"] = best
        print(f"  EASE solver={solver}: {best:.1f} s", flush=True)
    return out


def run_seeds(budget: int, quick: bool) -> dict[str, Any]:
    data = load_lastfm()
    if quick:
        data = _quick_slice(data)
    names = model_names(SEED_MODELS)
    seeds = SPLIT_SEEDS[:2] if quick else SPLIT_SEEDS
    per: dict[str, dict[str, list[float]]] = {n: {"recall@10": [], "ndcg@10": []} for n in names}
    for seed in seeds:
        split = make_split(data, "recbole", seed=seed)
        for r in run(names, split, budget=budget, seed=0, fixed=_fixed(names, quick, "lastfm")):
            for key in ("recall@10", "ndcg@10"):
                per[r.name][key].append(r.test[key])
        print(f"  seed {seed}: " + ", ".join(
            f"{n} {per[n]['recall@10'][-1]:.4f}/{per[n]['ndcg@10'][-1]:.4f}" for n in names
        ), flush=True)  # fmt: skip
    summary = {
        n: {
            f"{key}_{stat}": float(fn(v))
            for key, v in m.items()
            for stat, fn in (("mean", np.mean), ("std", np.std))
        }
        for n, m in per.items()
    }
    return {"seeds": list(seeds), "per_seed": per, "summary": summary}


def _merge_file(path: Path, folder: Path, quick: bool) -> None:
    """Write OUT's results file with the sections of ``path`` merged over its own."""
    other = json.loads(path.read_text())
    mine = previous_results("recsys", quick, folder)
    results = {**mine.get("results", {}), **other.get("results", {})}
    sections = {**mine.get("sections", {}), **other.get("sections", {})}
    merged = {**mine, "results": results, "sections": sections}
    write_results("recsys", merged, quick, folder)


def summarize(res: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    lastfm = res.get("lastfm")
    if lastfm:
        rows = {r["model"]: r for r in lastfm["results"]}
        best = max(rows.values(), key=lambda r: r["valid"]["ndcg@10"])
        out["lastfm_best_model"] = best["model"]
        out["lastfm_recall10_best"] = best["test"]["recall@10"]
        out["lastfm_ndcg10_best"] = best["test"]["ndcg@10"]
        for name in ("cfgan", "irgan", "ease", "ease-weighted", "lightgcn", "bpr"):
            if name in rows:
                key = name.replace("-", "_")
                out[f"lastfm_recall10_{key}"] = rows[name]["test"]["recall@10"]
                out[f"lastfm_ndcg10_{key}"] = rows[name]["test"]["ndcg@10"]
        out["lastfm_target_met"] = bool(
            best["test"]["recall@10"] >= 0.213 and best["test"]["ndcg@10"] >= 0.207
        )
    film = res.get("filmtrust")
    if film:
        best = max(film["results"], key=lambda r: r["valid"]["ndcg@10"])
        out["filmtrust_best_model"] = best["model"]
        out["filmtrust_ndcg10_best"] = best["test"]["ndcg@10"]
    if res.get("ease_time"):
        out["ease_fit_s"] = res["ease_time"]["users_s"]
        out["ease_fit_items_solver_s"] = res["ease_time"]["items_s"]
    return out


def print_tables(out: dict[str, Any], res: dict[str, Any], quick: bool, path: Path) -> None:
    print(f"\n# Recommenders{quick_note(quick)}\n")
    print(__doc__.split("Protocol:")[1].strip() + "\n")
    print(machine_line(out["machine"]))
    for section in ("lastfm", "filmtrust", "pair"):
        if section not in res:
            continue
        print(f"\n## {section}: {res[section]['protocol']}\n")
        print("| model | R@10 | N@10 | P@10 | P@20 | R@20 | N@20 | P@5 | valid N@10 | fit s |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in res[section]["results"]:
            t = r["test"]
            print(
                f"| {r['model']} | {t['recall@10']:.4f} | {t['ndcg@10']:.4f} | "
                f"{t['precision@10']:.4f} | {t['precision@20']:.4f} | {t['recall@20']:.4f} | "
                f"{t['ndcg@20']:.4f} | {t['precision@5']:.4f} | {r['valid']['ndcg@10']:.4f} | "
                f"{r['fit_s']:.1f} |"
            )
        if section == "lastfm":
            for name, (r10, n10) in ANCHORS.items():
                print(f"| {name} | {r10:.4f} | {n10:.4f} | | | | | | | |")
    if "ease_time" in res:
        t = res["ease_time"]
        items = "not run" if t["items_s"] is None else f"{t['items_s']:.1f} s"
        print(f"\nEASE fit on Last.fm: Woodbury {t['users_s']:.1f} s, items inverse {items}")
    if "seeds" in res:
        print(f"\n## Five split seeds {res['seeds']['seeds']} (test, mean ± sd)\n")
        print("| model | R@10 | N@10 |\n|---|---|---|")
        for name, m in res["seeds"]["summary"].items():
            print(f"| {name} | {m['recall@10_mean']:.4f} ± {m['recall@10_std']:.4f} | "
                  f"{m['ndcg@10_mean']:.4f} ± {m['ndcg@10_std']:.4f} |")  # fmt: skip
    summary = {k: v for k, v in out.items() if k not in ("results", "sections", "machine")}
    print(f"\nsummary: {summary}\nresults: {path}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke version on slices")
    ap.add_argument("--models", default=MODELS, help="comma-separated models (lastfm, filmtrust)")
    ap.add_argument("--pair-models", default=PAIR_MODELS, help="models of the pair section")
    ap.add_argument("--budget", type=int, default=10, help="configurations per model")
    ap.add_argument(
        "--gan-budget",
        type=int,
        default=3,
        help="configurations searched for CFGAN and IRGAN (their schedules are capped: GAN_CAPS)",
    )
    ap.add_argument("--seed", type=int, default=2020, help="the split's seed")
    ap.add_argument("--threads", type=int, default=2, help="torch / BLAS threads")
    ap.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="models searched side by side, each in its own process with one thread",
    )
    ap.add_argument(
        "--merge-file",
        type=Path,
        default=None,
        help="a results file of this benchmark (e.g. from a run of other sections in "
        "parallel) whose sections are merged into OUT's before this run",
    )
    add_sections_option(ap, SECTIONS)
    add_out_option(ap)
    args = ap.parse_args()
    args.out = output_dir(args.out, args.quick, "recsys")
    if args.merge_file is not None:
        _merge_file(args.merge_file, args.out, args.quick)
    torch.set_num_threads(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    random.seed(0)
    np.random.seed(0)
    names = model_names(args.models)
    pair_names = model_names(args.pair_models)
    budget = 1 if args.quick else args.budget
    GAN_BUDGET["value"] = args.gan_budget
    sections = parse_sections(args.sections, SECTIONS, ap)
    t_start = time.perf_counter()
    before = previous_results("recsys", args.quick, args.out).get("results", {})
    runners = {
        "lastfm": lambda: run_dataset(
            load_lastfm(), names, budget, args.quick, args.seed, args.jobs, before.get("lastfm")
        ),
        "filmtrust": lambda: run_dataset(
            load_filmtrust(),
            names,
            budget,
            args.quick,
            args.seed,
            args.jobs,
            before.get("filmtrust"),
        ),
        "pair": lambda: run_pair(pair_names, budget, args.quick, args.seed, args.jobs),
        "ease_time": lambda: run_ease_time(args.quick),
        "seeds": lambda: run_seeds(budget, args.quick),
    }
    stamp = {
        "budget": budget,
        "gan_budget": min(budget, args.gan_budget),
        "gan_caps": GAN_CAPS,
        "seed": args.seed,
        "threads": args.threads,
        "jobs": args.jobs,
    }
    res, stamps, merge = run_sections(
        "recsys", SECTIONS, sections, runners, args.quick, args.out, stamp
    )
    out: dict[str, Any] = summarize(res)
    out["results"] = res
    out["sections"] = stamps
    out["machine"] = machine()
    out["minutes"] = (time.perf_counter() - t_start) / 60
    if merge:
        out["merged_sections"] = sections
    path = write_results("recsys", out, args.quick, args.out)
    print_tables(out, res, args.quick, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
