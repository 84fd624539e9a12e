"""``socialgan image ...``: train, sample and evaluate image GANs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer

from ..cli_util import user_errors
from ..config_io import dump, resolve
from ..engine import TrainConfig
from .data import NAMED_SOURCES, load_source
from .grid import save_grid

app = typer.Typer(
    help="Image GANs: train on image data, sample images, evaluate sample quality.",
    no_args_is_help=True,
)

DATA_HELP = (
    "Named source (" + ", ".join(NAMED_SOURCES) + ") or a path: an image folder "
    "(subfolders = classes), an IDX file (.gz or raw), or a .npy/.npz array."
)


def default_config() -> dict[str, Any]:
    """Every option of ``image train``, with its default."""
    train = TrainConfig().to_dict()
    train.pop("extra")
    train.update(steps=2000, lr_g=None, lr_d=None, betas_g=None, betas_d=None)
    return {
        "data": {"source": "mnist5k", "size": None, "grayscale": True, "limit": None},
        "model": {
            "arch": "dcgan",
            "z_dim": 100,
            "conditional": False,
            "spectral_norm": False,
            "width": 64,
            "upsample": "transposed",
        },
        "train": train,
        "run": {"dir": None, "sample_every": 500, "eval_every": 0, "eval_samples": 2000},
    }


def build_gan(cfg: dict[str, Any], run_dir: Path | None, progress: bool | None = None):
    """An ``ImageGAN`` from a resolved config (``None`` optimizer values use the preset)."""
    from .gan import ImageGAN

    train = {k: v for k, v in cfg["train"].items() if v is not None}
    return ImageGAN(
        **cfg["model"],
        run_dir=run_dir,
        sample_every=cfg["run"]["sample_every"],
        eval_every=cfg["run"]["eval_every"],
        eval_samples=cfg["run"]["eval_samples"],
        progress=progress,
        **train,
    )


@app.command()
@user_errors
def train(
    data: str = typer.Option(None, "--data", "-d", help=DATA_HELP),
    arch: str = typer.Option(None, help="Architecture: seed (the seed design's MLP) or dcgan."),
    steps: int = typer.Option(None, help="Generator steps to train for."),
    run_dir: Path = typer.Option(
        None, "--run-dir", help="Run folder (default runs/<arch>-<data>)."
    ),
    config: Path = typer.Option(None, "--config", "-c", help="YAML file with option sections."),
    set_: list[str] = typer.Option(
        [], "--set", help="Override one option, e.g. --set train.loss=hinge (repeatable)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the resolved config and exit."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the run's last checkpoint."),
) -> None:
    """Train an image GAN and export it to RUN_DIR/model.

    The run folder gets config.json, stats.jsonl, TensorBoard events, sample grids in
    samples/, checkpoints/ (atomic, resumable), losses.png and the exported model.
    """
    sets = list(set_)
    if data is not None:
        sets.append(f"data.source={data}")
    if arch is not None:
        sets.append(f"model.arch={arch}")
    if steps is not None:
        sets.append(f"train.steps={steps}")
    cfg = resolve(default_config(), config, sets)
    if run_dir is None and cfg["run"]["dir"] is None:
        tag = Path(str(cfg["data"]["source"])).name.replace(":", "-")
        run_dir = Path("runs") / f"{cfg['model']['arch']}-{tag}"
    run = Path(run_dir or cfg["run"]["dir"])
    cfg["run"]["dir"] = str(run)
    if dry_run:
        typer.echo(dump(cfg))
        return
    if run.exists() and any(run.glob("checkpoints/step-*")) and not resume:
        raise ValueError(
            f"{run} already holds checkpoints: pass --resume to continue it, "
            "or choose another --run-dir"
        )
    d = cfg["data"]
    dataset = load_source(
        str(d["source"]), size=d["size"], grayscale=d["grayscale"], limit=d["limit"]
    )
    typer.echo(f"data: {dataset.name}, {len(dataset)} images {tuple(dataset.images.shape[1:])}")
    gan = build_gan(cfg, run)
    t0 = time.perf_counter()
    gan.fit(dataset, resume=resume)
    gan.save_pretrained(run / "model")
    typer.echo(f"trained {gan.trainer.step} steps in {time.perf_counter() - t0:.0f}s")
    typer.echo(f"model:   {run / 'model'}")
    typer.echo(f"samples: {run / 'samples'}")
    typer.echo(f"losses:  {run / 'losses.png'}")


@app.command()
@user_errors
def sample(
    model: Path = typer.Argument(..., help="A model folder written by `image train`."),
    n: int = typer.Option(64, "--n", "-n", help="Number of images."),
    seed: int = typer.Option(0, help="Latent seed: same seed, same images."),
    label: int = typer.Option(None, help="Class id for a conditional model (default: all)."),
    out: Path = typer.Option(Path("samples.png"), "--out", "-o", help="PNG grid to write."),
    npz: Path = typer.Option(None, help="Also save the images as an .npz array."),
    truncation: float = typer.Option(
        None, help="Truncation trick: redraw latent entries beyond this magnitude."
    ),
    interpolate: bool = typer.Option(
        False, help="Write a latent interpolation strip instead of random samples."
    ),
) -> None:
    """Sample images from a trained model into a PNG grid."""
    from .gan import ImageGAN

    gan = ImageGAN.from_pretrained(model)
    if interpolate:
        images = gan.interpolate(steps=n, seed=seed, label=label)
        save_grid(images, out, nrow=n)
    else:
        images = gan.sample(n, seed=seed, labels=label, truncation=truncation)
        save_grid(images, out)
    if npz is not None:
        import numpy as np

        np.savez_compressed(npz, images=(images.numpy() * 255).round().astype("uint8"))
    typer.echo(f"wrote {len(images)} images to {out}")


@app.command()
@user_errors
def evaluate(
    model: Path = typer.Argument(..., help="A model folder written by `image train`."),
    data: str = typer.Option(
        None, "--data", "-d", help="Reference images (default: the training source). " + DATA_HELP
    ),
    n: int = typer.Option(10000, "--n", "-n", help="Generated samples to score."),
    extractor: str = typer.Option(
        "auto", help="Feature net: mnist, fashion-mnist, or auto (from the data)."
    ),
    seed: int = typer.Option(0, help="Latent seed."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Score samples: FLD, KID, precision/recall, class coverage, beside the real floor."""
    from .gan import ImageGAN

    gan = ImageGAN.from_pretrained(model)
    source = data or gan.data_info.get("name") or "mnist5k"
    reference = load_source(source, size=28, grayscale=True)
    result = evaluate_gan(gan, reference.images, n=n, extractor=extractor, source=source, seed=seed)
    if json_out:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(format_metrics(result))


def pick_extractor(name: str, source: str) -> str:
    """``auto`` -> the shipped feature net matching the data source."""
    if name != "auto":
        return name
    return "fashion-mnist" if "fashion" in source.lower() else "mnist"


def evaluate_gan(gan, reference, *, n: int, extractor: str, source: str, seed: int = 0) -> dict:
    """Sample ``n`` images and score them against ``reference`` images."""
    from .metrics import evaluate_samples, load_feature_extractor

    ext = load_feature_extractor(pick_extractor(extractor, source))
    fake = gan.sample(n, seed=seed)
    result = evaluate_samples(fake, reference, ext, seed=seed)
    result["extractor"] = ext.name
    result["reference"] = source
    return result


def format_metrics(r: dict) -> str:
    """A markdown table of sample metrics with the real-vs-real floor beside each."""
    f = r.get("floor", {})
    rows = [
        "| metric | samples | real-vs-real floor |",
        "|---|---|---|",
        f"| FLD (lower is better) | {r['fld']:.3f} | {f.get('fld', float('nan')):.3f} |",
        f"| KID x1000 | {1000 * r['kid']:.3f} | {1000 * f.get('kid', float('nan')):.3f} |",
        f"| precision | {r['precision']:.3f} | {f.get('precision', float('nan')):.3f} |",
        f"| recall | {r['recall']:.3f} | {f.get('recall', float('nan')):.3f} |",
        f"| min class share | {r['min_class_share']:.3f} | 0.1 if balanced |",
        f"| classes covered | {r['classes_covered']} | {len(r.get('class_shares', []))} |",
    ]
    note = (
        f"\n{r.get('n_fake')} generated vs {r.get('n_real')} real images; "
        f"features: {r.get('extractor')} feature net (FLD is not FID: not Inception features)."
    )
    return "\n".join(rows) + note
