"""``socialgan accounts``: synthesize account tables and detect fake accounts.

``fit`` trains a :class:`~socialgan.tabular.gan.TabularGAN` on a named table
(``twitter-bots``, ``adult``) or a CSV/JSONL file and saves it; ``sample`` writes rows of a
saved model to CSV, optionally all of one class (``--condition bot=1``). ``detect-train``
cross-validates and trains an :class:`~socialgan.tabular.detect.AccountDetector`;
``detect`` prints one moderation record per account of a file. ``evaluate`` reports the
quality, ML efficacy and privacy of a saved model's rows, with plots.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from socialgan.cli_util import ensure_writable_dir, user_errors
from socialgan.config_io import dump, resolve
from socialgan.errors import DataError

app = typer.Typer(
    help="Account tables: train a tabular GAN, sample synthetic accounts, detect bots.",
    no_args_is_help=True,
    add_completion=False,
)
_DATA_HELP = "Named table (twitter-bots, adult, adult:test) or a CSV / JSONL file."


def _default_config() -> dict[str, Any]:
    from socialgan.tabular.gan import GAME_DEFAULTS, TabularGAN

    gan = TabularGAN()
    model = gan.get_params()
    train = {k: list(v) if isinstance(v, tuple) else v for k, v in GAME_DEFAULTS.items()}
    train |= {"ema_decay": gan.train_config.ema_decay, "checkpoint_every": 500}
    return {"model": model, "train": train}


def _parse_condition(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column:
            raise DataError(f"--condition {item!r}: expected COLUMN=VALUE, e.g. bot=1")
        out[column.strip()] = value.strip()
    return out


def _typed_conditions(gan: Any, raw: dict[str, str]) -> dict[str, Any]:
    """Map ``--condition`` strings onto the model's categories (``"1"`` -> ``1``, ``"true"``
    -> ``True``), so that the command line needs no types."""
    tr = gan.transformer
    out: dict[str, Any] = {}
    for column, value in raw.items():
        found = next((d for d in tr.discrete if d.name == column), None)
        if found is None:
            out[column] = value  # the model names what is wrong
            continue
        by_text = {str(c).lower(): c for c in found.categories}
        out[column] = by_text.get(value.lower(), value)
    return out


@app.command("fit")
@user_errors
def fit(
    data: str = typer.Option(..., "--data", "-d", help=_DATA_HELP),
    run_dir: Path = typer.Option(
        ..., "--run-dir", help="Run folder: config, stats.jsonl, samples, checkpoints."
    ),
    out: Path = typer.Option(None, "--out", "-o", help="Model folder (default RUN_DIR/model)."),
    encoding: str = typer.Option("utf-8", help="Text encoding of a user file (e.g. latin-1)."),
    discrete: str = typer.Option(
        None, "--discrete-columns", help="Comma-separated columns to treat as categorical."
    ),
    config: Path = typer.Option(None, "--config", "-c", help="YAML with model/train sections."),
    set_: list[str] = typer.Option(
        [], "--set", help="Override an option, e.g. --set model.epochs=50 --set train.lr_g=1e-4."
    ),
    cpu_minutes: float = typer.Option(None, help="Stop (and checkpoint) after this CPU time."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in RUN_DIR."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the resolved config."),
) -> None:
    """Train a tabular GAN (CTGAN design, WGAN-GP) on DATA; save it to OUT."""
    from socialgan.tabular.data import LABEL_COLUMNS, load_table
    from socialgan.tabular.gan import TabularGAN

    cfg = resolve(_default_config(), config, list(set_))
    if dry_run:
        typer.echo(dump(cfg))
        return
    ensure_writable_dir(run_dir, "--run-dir")
    frame = load_table(data, encoding=encoding)
    columns = [c.strip() for c in discrete.split(",") if c.strip()] if discrete else []
    label = LABEL_COLUMNS.get(data.partition(":")[0])
    if label and label not in columns:
        columns.append(label)  # a named table's label is a class, even when it is 0/1
    typer.echo(f"data: {data}, {len(frame):,} rows x {frame.shape[1]} columns", err=True)
    cpu = None if cpu_minutes is None else cpu_minutes * 60
    try:
        gan = TabularGAN(
            **cfg["model"], **cfg["train"], discrete_columns=columns, run_dir=run_dir,
            cpu_seconds=cpu,
        )  # fmt: skip
    except TypeError as e:
        raise DataError(f"bad option: {e}") from None
    gan.fit(frame, resume=resume)
    out = out or run_dir / "model"
    gan.save_pretrained(out)
    left = gan.data_info.get("left_out") or []
    if left:
        typer.echo(f"left out of the model: {', '.join(left)}", err=True)
    typer.echo(f"steps: {gan.trainer.step if gan.trainer else 0}")
    typer.echo(f"model: {out} (socialgan accounts sample {out} -n 1000 -o synth.csv)")


@app.command("sample")
@user_errors
def sample(
    model_dir: Path = typer.Argument(..., help="Folder written by `socialgan accounts fit`."),
    n: int = typer.Option(1000, "-n", help="Rows to write (> 0)."),
    condition: list[str] = typer.Option(
        [], "--condition", help="COLUMN=VALUE every row must have, e.g. --condition bot=1."
    ),
    seed: int = typer.Option(0, help="Same seed, same rows."),
    output: Path = typer.Option(None, "--output", "-o", help="CSV to write (default: stdout)."),
) -> None:
    """Write N synthetic rows of a saved model as CSV."""
    from socialgan.loading import load

    gan = load(model_dir, expect="socialgan.tabular.")
    conditions = _typed_conditions(gan, _parse_condition(condition))
    frame = gan.sample(n, seed=seed, conditions=conditions or None)
    if output is None:
        typer.echo(frame.to_csv(index=False), nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(output)
    typer.echo(f"{len(frame):,} rows -> {output}", err=True)


@app.command("detect-train")
@user_errors
def detect_train(
    data: str = typer.Option(..., "--data", "-d", help=_DATA_HELP),
    out: Path = typer.Option(..., "--out", "-o", help="Model folder to write."),
    encoding: str = typer.Option("utf-8", help="Text encoding of a user file (e.g. latin-1)."),
    label_column: str = typer.Option(
        None, "--label-column", help="Label column (default: the named table's, else bot)."
    ),
    positive_label: str = typer.Option("1", help="The label of bots / fake accounts."),
    model: str = typer.Option("gbm", "--model", "-m", help="gbm (LightGBM) or mlp (PyTorch)."),
    class_weight: str = typer.Option("none", help="none or balanced (weights n / (2 n_class))."),
    folds: int = typer.Option(5, help="Stratified CV folds reported before the fit (0: none)."),
    seed: int = typer.Option(0, help="Same seed, same model and folds."),
) -> None:
    """Train a bot / fake-account detector on DATA and save it to OUT.

    Prints the stratified K-fold CV accuracy, F1 and ROC AUC on DATA first, then fits on
    all of it; the metrics go into the model card.
    """
    from socialgan.checks import check_choice
    from socialgan.tabular.data import LABEL_COLUMNS, load_table
    from socialgan.tabular.detect import AccountDetector, cross_validate

    kind = check_choice("--model", model, ("gbm", "mlp"))
    weight = check_choice("--class-weight", class_weight, ("none", "balanced"))
    if folds == 1 or folds < 0:
        raise DataError(f"--folds: expected 0 (no CV) or at least 2, got {folds}")
    ensure_writable_dir(out, "--out")
    frame = load_table(data, encoding=encoding)
    label = label_column or LABEL_COLUMNS.get(data.partition(":")[0], "bot")
    typer.echo(f"data: {data}, {len(frame):,} rows x {frame.shape[1]} columns", err=True)
    det = AccountDetector(
        kind,
        label_column=label,
        positive_label=_typed_label(frame, label, positive_label),
        class_weight=None if weight == "none" else weight,
        seed=seed,
    )
    metrics: dict[str, Any] = {}
    if folds:
        metrics = cross_validate(det, frame, folds=folds, seed=seed, progress=None)
        typer.echo(
            f"{folds}-fold CV: accuracy {metrics['cv_accuracy']:.4f} "
            f"(+/- {metrics['cv_accuracy_std']:.4f}), F1 {metrics['cv_f1']:.4f}, "
            f"ROC AUC {metrics['cv_roc_auc']:.4f}"
        )
    det.fit(frame)
    det.save_pretrained(out, metrics=metrics, data=f"{data} ({len(frame):,} rows)")
    typer.echo(f"model: {out} (socialgan accounts detect {out} accounts.jsonl)")


def _typed_label(frame: Any, column: str, text: str) -> Any:
    """``--positive-label`` as the label column's type: ``"1"`` -> ``1`` for 0/1 labels."""
    import pandas as pd

    if column in frame.columns and pd.api.types.is_numeric_dtype(frame[column].dtype):
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() else number
    return text


@app.command("detect")
@user_errors
def detect(
    model_dir: Path = typer.Argument(..., help="Folder written by `accounts detect-train`."),
    accounts: Path = typer.Argument(..., help="Accounts to score: CSV, TSV or JSON lines."),
    encoding: str = typer.Option("utf-8", help="Text encoding of the file (e.g. latin-1)."),
    threshold: float = typer.Option(
        None, "--threshold", "-t", help="Flag at p(bot) >= this (default: the model's)."
    ),
) -> None:
    """Score accounts; prints one JSON moderation record per row.

    {"screen_name" (or "row"), "flagged", "categories": {"bot"}, "category_scores": {"bot"},
    "model", "thresholds"}.
    """
    import json

    from socialgan.loading import load
    from socialgan.tabular.data import read_table

    det = load(model_dir, expect="socialgan.tabular.AccountDetector")
    frame = read_table(accounts, encoding=encoding)
    records = det.moderate(frame, threshold)
    names = frame["screen_name"].tolist() if "screen_name" in frame.columns else None
    for i, record in enumerate(records):
        if names is None:
            head: dict[str, Any] = {"row": i + 1}
        else:
            head = {"screen_name": names[i] if isinstance(names[i], str) else None}
        typer.echo(json.dumps({**head, **record}))


HOLDOUT_FRACTION = 0.2
#: Named tables that come with their own held-out rows.
_NAMED_TEST = {"adult": "adult:test", "adult:train": "adult:test"}


@app.command("evaluate")
@user_errors
def evaluate(
    model_dir: Path = typer.Argument(
        ..., help="Folder written by `socialgan accounts fit` (TabularGAN.save_pretrained)."
    ),
    data: str = typer.Option(
        ..., "--data", "-d", help="The real rows the model was fitted on. " + _DATA_HELP
    ),
    test: str = typer.Option(
        None,
        "--test",
        help="Real rows the model never saw (default: adult:test for adult, else a seeded "
        f"{HOLDOUT_FRACTION:.0%} of DATA, held out).",
    ),
    label: str = typer.Option(
        None,
        "--label",
        help="Class column of the ML efficacy (default: the named table's, else bot when "
        "modeled; without one the efficacy is skipped).",
    ),
    n: int = typer.Option(None, "-n", help="Synthetic rows (default: as many as training rows)."),
    seed: int = typer.Option(0, help="Seeds the sampling, the holdout, classifiers and draws."),
    out: Path = typer.Option(
        None, "--out", "-o", help="Folder for report.json and the plots (default MODEL/evaluation)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the report as JSON, not tables."),
    encoding: str = typer.Option("utf-8", help="Text encoding of a user file (e.g. latin-1)."),
) -> None:
    """Quality, ML efficacy and privacy of a saved model's synthetic rows, with plots.

    Quality: sdmetrics' QualityReport (column shapes, column pair trends) against DATA.
    Efficacy: tuned GBM and logistic regression trained on synthetic rows, then on DATA,
    tested on the held-out rows (F1, AUC). Privacy: distance to the closest training row
    beside held-out rows', exact copies, a membership attack. Writes report.json,
    marginals.png and correlations.png into OUT.
    """
    import json

    from socialgan.checks import check_int
    from socialgan.loading import load
    from socialgan.tabular.data import LABEL_COLUMNS, load_table
    from socialgan.tabular.evaluate import evaluate_model, fitted_on, holdout_split, model_frame
    from socialgan.tabular.evaluate_format import format_report

    if n is not None:
        check_int("-n", n, minimum=1)
    gan = load(model_dir, expect="socialgan.tabular.TabularGAN")
    columns = gan.transformer.columns
    if label is not None and label not in columns:
        raise DataError(f"--label {label!r}: not a column of the model ({', '.join(columns)})")
    out = ensure_writable_dir(out or model_dir / "evaluation", "--out")
    frame = load_table(data, encoding=encoding)
    seen = fitted_on(gan, frame)
    warnings = []
    if not seen:
        warnings.append(
            f"{data} is not the table this model was fitted on (its data fingerprint "
            "differs): the quality compares against other rows, and the membership attack's "
            "members may not be members"
        )
    test_source = test or _NAMED_TEST.get(data)
    if test_source is not None:
        train, held = frame, load_table(test_source, encoding=encoding)
        holdout = test_source
    else:
        train, held = holdout_split(frame, HOLDOUT_FRACTION, seed)
        holdout = f"a seeded {HOLDOUT_FRACTION:.0%} of {data}, seed {seed}"
        if seen:
            warnings.append(
                f"the model was fitted on all of {data}, so the held-out rows are not unseen: "
                "privacy cannot show memorization and efficacy is optimistic; pass --test "
                "with rows the model never saw"
            )
    target = label
    if target is None:
        default = LABEL_COLUMNS.get(data, "bot")
        target = default if default in columns else None
    model_frame(gan, train, source=data)  # a table of other columns fails before the work
    model_frame(gan, held, source=test_source or data)
    typer.echo(
        f"data: {data}, {len(train):,} training rows, {len(held):,} held out ({holdout})"
        + ("; fitting 4 tuned classifiers for the efficacy..." if target else ""),
        err=True,
    )
    about = {"source": data, "holdout": holdout, "fitted_on_data": seen, "warnings": warnings}
    report = evaluate_model(
        gan, train, held, n=n, label=target, seed=seed, out_dir=out, model_dir=model_dir,
        about=about,
    )  # fmt: skip
    typer.echo(json.dumps(report, indent=2) if json_out else format_report(report))
