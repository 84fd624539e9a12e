"""``socialgan recsys``: evaluate recommenders side by side, train one, recommend.

``evaluate`` searches each model's hyperparameters on a validation split (the same budget
for every model), then scores the chosen configuration once on the test split, ranking all
items; ``train`` fits one model on all of the data and saves it; ``recommend`` prints a
saved model's top items for a user, with item names where the data have them.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import typer
import yaml

from socialgan.cli_util import ensure_writable_dir, user_errors
from socialgan.errors import DataError

app = typer.Typer(
    help="Recommendations: GAN recommenders (CFGAN, IRGAN) against tuned baselines.",
    no_args_is_help=True,
    add_completion=False,
)
_DATA_HELP = (
    "Named data (lastfm, filmtrust) or a file of 'user item rating timestamp' lines (rating "
    "and timestamp optional; tab, comma or space separated)."
)


def _overrides(items: list[str]) -> dict[str, dict[str, Any]]:
    """``--set ease.l2=300`` or ``--set l2=300`` (every model) -> {model: {param: value}}."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DataError(f"--set {item!r}: expected [MODEL.]PARAM=VALUE, e.g. ease.l2=300")
        model, dot, param = key.strip().rpartition(".")
        out.setdefault(model if dot else "*", {})[param] = yaml.safe_load(value)
    return out


def _fixed_for(names: list[str], sets: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    from socialgan.recsys.evaluate import model_class

    unknown = set(sets) - set(names) - {"*"}
    if unknown:
        raise DataError(f"--set names model(s) {', '.join(sorted(unknown))} not in --models")
    fixed: dict[str, dict[str, Any]] = {}
    for name in names:
        params = {**sets.get("*", {}), **sets.get(name, {})}
        known = model_class(name)().get_params()
        bad = [p for p in params if p not in known and name in sets]
        if bad:
            raise DataError(
                f"--set: {name} has no parameter {', '.join(bad)}; it has {', '.join(known)}"
            )
        fixed[name] = {p: v for p, v in params.items() if p in known}
    return fixed


def _load(data: str | None, min_rating: float | None):
    from socialgan.recsys.data import load_dataset

    if data is None:
        raise DataError("--data is required (or --train and --test)")
    return load_dataset(data, min_rating=min_rating)


@app.command("evaluate")
@user_errors
def evaluate(
    data: str = typer.Option(None, "--data", "-d", help=_DATA_HELP),
    models: str = typer.Option(
        "toppop,itemknn,rp3beta,ease,ease-weighted",
        "--models",
        "-m",
        help="Comma-separated: toppop, itemknn, rp3beta, ease, ease-weighted, puresvd, bpr, "
        "als, lightgcn, cfgan, irgan, social-itemknn, social-ease, social-lightgcn.",
    ),
    split: str = typer.Option(
        "recbole",
        help="recbole (8:1:1 random per user), holdout (72:8:20), loo (leave-one-out), "
        "temporal (needs timestamps).",
    ),
    train: Path = typer.Option(None, "--train", help="A given training file (with --test)."),
    test: Path = typer.Option(None, "--test", help="A given test file (with --train)."),
    min_rating: float = typer.Option(
        None, "--min-rating", help="Keep only interactions rated at least this (implicit)."
    ),
    budget: int = typer.Option(
        10, help="Configurations tried per model on validation (its defaults count as one)."
    ),
    seed: int = typer.Option(2020, help="Seeds the split and the search's draws."),
    metric: str = typer.Option("ndcg@10", help="Validation metric the search maximizes."),
    set_: list[str] = typer.Option(
        [], "--set", help="Fix a hyperparameter: --set ease.l2=300 (or l2=300 for all)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    out: Path = typer.Option(None, "--out", "-o", help="Also write results.json here."),
) -> None:
    """Search, then test once: every model's Recall, NDCG, Precision, MRR, hit rate at 5,
    10, 20, item coverage and popularity, ranking all items (training and validation items
    excluded)."""
    from socialgan.checks import check_int
    from socialgan.recsys.data import read_pair
    from socialgan.recsys.evaluate import model_names, run
    from socialgan.recsys.report import format_results
    from socialgan.recsys.split import SPLITS, given_split, make_split

    check_int("--budget", budget, minimum=1)
    names = model_names(models)
    fixed = _fixed_for(names, _overrides(list(set_)))
    if (train is None) != (test is None):
        raise DataError("--train and --test go together")
    if train is not None:
        if data is not None:
            raise DataError("pass --data or --train/--test, not both")
        full, held = read_pair(train, test, min_rating=min_rating)
        parts = given_split(full, held, seed=seed)
        source = f"{train} / {test}"
    else:
        if split not in SPLITS:
            raise DataError(f"--split {split!r}: choose one of {', '.join(SPLITS)}")
        dataset = _load(data, min_rating)
        parts = make_split(dataset, split, seed=seed)
        source = f"{data}: {dataset.describe()}"
    protocol = (
        f"data {source}; split {parts.protocol}; full ranking, training"
        f"{' and validation' if parts.full_train is None and parts.valid is not None else ''} "
        f"items excluded at test; search: {budget} configuration(s) per model on validation, "
        f"by {metric}, seed {seed}"
    )
    typer.echo(protocol, err=True)

    def progress(name: str, trial: Any) -> None:
        typer.echo(
            f"  {name}: {trial.params or 'defaults'} -> valid {metric} "
            f"{trial.metrics[metric]:.4f} ({trial.fit_s:.1f} s)",
            err=True,
        )

    start = time.perf_counter()
    results = run(names, parts, budget=budget, seed=seed, metric=metric, fixed=fixed,
                  on_trial=progress)  # fmt: skip
    payload = {
        "protocol": protocol,
        "seconds": time.perf_counter() - start,
        "results": [r.as_dict() for r in results],
    }
    if out is not None:
        ensure_writable_dir(out, "--out")
        (out / "results.json").write_text(json.dumps(payload, indent=2) + "\n")
    if json_out:
        typer.echo(json.dumps(payload, indent=2))
    else:
        typer.echo(format_results(results, protocol))


@app.command("train")
@user_errors
def train(
    data: str = typer.Option(..., "--data", "-d", help=_DATA_HELP),
    model: str = typer.Option("ease-weighted", "--model", "-m", help="Model name (see evaluate)."),
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write."),
    min_rating: float = typer.Option(
        None, "--min-rating", help="Keep only interactions rated at least this (implicit)."
    ),
    set_: list[str] = typer.Option([], "--set", help="A hyperparameter, e.g. --set l2=300."),
    search: int = typer.Option(
        0,
        "--search",
        help="First try this many configurations on an 8:1:1 split's validation part and "
        "keep the best (0: the defaults and --set).",
    ),
    seed: int = typer.Option(2020, help="Seeds the search's split and draws."),
) -> None:
    """Fit one model on all of DATA (its friend / trust graph too) and save it to OUT."""
    from socialgan.recsys.evaluate import make_model, model_names
    from socialgan.recsys.evaluate import search as run_search
    from socialgan.recsys.split import make_split

    name = model_names([model])[0]
    params = _fixed_for([name], _overrides(list(set_)))[name]
    ensure_writable_dir(out, "--out")
    dataset = _load(data, min_rating)
    typer.echo(f"data: {data}, {dataset.describe()}", err=True)
    if search:
        trials, _ = run_search(name, make_split(dataset, "recbole", seed), search, seed,
                               fixed=params)  # fmt: skip
        best = max(trials, key=lambda t: t.metrics["ndcg@10"])
        typer.echo(f"search: best {best.params} (valid ndcg@10 {best.metrics['ndcg@10']:.4f})",
                   err=True)  # fmt: skip
        params = {**best.params, **params}
    try:
        recommender = make_model(name, **params)
    except ValueError as e:
        raise DataError(f"--set: {e}") from None
    start = time.perf_counter()
    recommender.fit(dataset)
    typer.echo(f"fitted {recommender!r} in {time.perf_counter() - start:.1f} s", err=True)
    recommender.save_pretrained(out, card=f"Data: {data} ({dataset.describe()}).")
    typer.echo(str(out))


@app.command("recommend")
@user_errors
def recommend(
    model_dir: Path = typer.Argument(..., help="Folder written by `socialgan recsys train`."),
    user: list[str] = typer.Option(..., "--user", "-u", help="User id (repeat for several)."),
    k: int = typer.Option(10, "-k", help="How many items."),
    include_seen: bool = typer.Option(
        False, "--include-seen", help="Also rank items the user already has."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON lines."),
) -> None:
    """Top-K items for each --user (names where the data have them). A user the model was
    not trained on gets the most popular items, with a warning on stderr."""
    from socialgan.checks import check_int
    from socialgan.loading import load

    check_int("-k", k, minimum=1)
    rec = load(model_dir, expect="socialgan.recsys.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        items, scores = rec.recommend(user, k=k, exclude_seen=not include_seen)
    for w in caught:
        typer.echo(f"warning: {w.message}", err=True)
    for u, row, srow in zip(user, items, scores, strict=True):
        entries = [
            {"item": str(i), "name": rec.item_name(i), "score": None if s != s else float(s)}
            for i, s in zip(row, srow, strict=True)
        ]
        if json_out:
            typer.echo(json.dumps({"user": u, "items": entries}))
            continue
        typer.echo(f"user {u}:")
        for rank, e in enumerate(entries, 1):
            score = "" if e["score"] is None else f"  ({e['score']:.4f})"
            name = f"  {e['name']}" if e["name"] != e["item"] else ""
            typer.echo(f"  {rank:2d}. {e['item']}{name}{score}")
    sys.stdout.flush()
