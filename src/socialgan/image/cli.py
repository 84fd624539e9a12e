"""``socialgan image ...``: train, sample and evaluate image GANs."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import typer

from ..cli_util import user_errors
from ..config_io import dump, resolve
from ..engine import TrainConfig
from ..errors import DataError
from .data import NAMED_SOURCES, load_source
from .grid import save_grid

app = typer.Typer(
    help="Image GANs: train on image data, sample images, evaluate sample quality; "
    "train and run detectors of GAN-made images.",
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
            "depth": 0,
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


# --------------------------------------------------------------------------- detectors
DETECT_KINDS = ("spectral", "cnn", "discriminator")


def _is_gan_dir(spec: str | Path) -> bool:
    """True when ``spec`` is a folder written by ``ImageGAN.save_pretrained``."""
    cfg = Path(spec) / "config.json"
    if not cfg.is_file():
        return False
    try:
        return json.loads(cfg.read_text()).get("model_type") == "socialgan.ImageGAN"
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return False


@app.command("detect-train")
@user_errors
def detect_train(
    real: str = typer.Option(..., "--real", help="Real images. " + DATA_HELP),
    fake: str = typer.Option(
        ...,
        "--fake",
        help="Generated images: a source or path as for --real, or an ImageGAN model folder "
        "(from `image train`) to sample --n-fake images from.",
    ),
    kind: str = typer.Option("spectral", "--kind", "-k", help="spectral, cnn or discriminator."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to save the detector to."),
    gan: Path = typer.Option(
        None,
        "--gan",
        help="kind=discriminator: the ImageGAN folder whose discriminator is the detector "
        "(default: --fake when it is a model folder).",
    ),
    n_fake: int = typer.Option(
        None, "--n-fake", help="Images sampled from a --fake model (default: as many as real)."
    ),
    size: int = typer.Option(None, help="Resize loaded images to SIZE x SIZE first."),
    color: bool = typer.Option(
        False, "--color/--grayscale", help="Keep RGB (default: convert to grayscale)."
    ),
    limit: int = typer.Option(None, help="Use at most this many real (and loaded fake) images."),
    epochs: int = typer.Option(5, help="kind=cnn: maximum training epochs."),
    width: int = typer.Option(16, help="kind=cnn: channels of the first ResNet stage."),
    test_fraction: float = typer.Option(
        0.2, help="Fraction of each set held out to report AUC/accuracy (0 = none)."
    ),
    target_fpr: float = typer.Option(
        None, help="Set the threshold so this fraction of held-out real images is flagged."
    ),
    seed: int = typer.Option(0, help="Seed of the split, sampling and training."),
) -> None:
    """Train a GAN-image detector (real = 0, generated = 1) and save it to OUT.

    Kinds: spectral (logistic regression on the azimuthal power spectrum
    and DCT bands; seconds), cnn (small ResNet trained with blur/JPEG
    augmentation; minutes), discriminator (the trained D of an ImageGAN,
    calibrated). Held-out metrics go into OUT/config.json and the model card.
    """
    from .detect.train import build_detector, train_detector

    if kind not in DETECT_KINDS:
        raise DataError(f"--kind must be one of {', '.join(DETECT_KINDS)}, got {kind!r}")
    grayscale = not color
    real_ds = load_source(real, size=size, grayscale=grayscale, limit=limit)
    typer.echo(f"real: {real_ds.name}, {len(real_ds)} images {tuple(real_ds.images.shape[1:])}")
    gan_dir = gan
    if _is_gan_dir(fake):
        from .gan import ImageGAN

        model = ImageGAN.from_pretrained(fake)
        n = n_fake or len(real_ds)
        if n < 1:
            raise DataError(f"--n-fake must be >= 1, got {n}")
        fake_images = model.sample(n, seed=seed + 1)
        fake_name = f"samples of {fake}"
        gan_dir = gan_dir or Path(fake)
    else:
        fake_ds = load_source(fake, size=size, grayscale=grayscale, limit=limit)
        fake_images, fake_name = fake_ds.images, fake_ds.name
    if size is not None:
        fake_images = fit_images(fake_images, size)
    if grayscale and fake_images.shape[1] == 3:
        from .detect.inputs import to_grayscale

        fake_images = to_grayscale(fake_images)
    typer.echo(f"fake: {fake_name}, {len(fake_images)} images {tuple(fake_images.shape[1:])}")
    det = build_detector(
        kind, gan=gan_dir, epochs=epochs, width=width, seed=seed, verbose=kind == "cnn"
    )
    t0 = time.perf_counter()
    metrics = train_detector(
        det,
        real_ds.images,
        fake_images,
        test_fraction=test_fraction,
        target_fpr=target_fpr,
        seed=seed,
    )
    det.data_info.update(real=real_ds.name, fake=fake_name)
    det.save_pretrained(out)
    typer.echo(f"trained {kind} detector in {time.perf_counter() - t0:.1f}s")
    if "test_auc" in metrics:
        typer.echo(
            f"held out: AUC {metrics['test_auc']:.4f}, accuracy {metrics['test_accuracy']:.4f}, "
            f"FPR {metrics['test_fpr']:.4f}, TPR {metrics['test_tpr']:.4f} at threshold "
            f"{metrics['threshold']:.4g} ({metrics['test_n_real']} real, "
            f"{metrics['test_n_fake']} fake)"
        )
    typer.echo(f"model: {out}  (socialgan image detect --model {out} FILES...)")


def fit_images(images, size: int):
    """Centre-crop to square and resize ``(N, C, H, W)`` images to ``size`` (as the loaders)."""
    from .dataset import ImageDataset, resize

    return resize(ImageDataset(images.float().contiguous()), size).images


@app.command()
@user_errors
def detect(
    files: list[Path] = typer.Argument(
        ..., help="Image files (PNG, JPEG, ...) or folders of them to score."
    ),
    model: Path = typer.Option(..., "--model", "-m", help="A folder written by detect-train."),
    threshold: float = typer.Option(
        None, "--threshold", "-t", help="Flag at this score (default: the model's threshold)."
    ),
    batch_size: int = typer.Option(64, help="Files decoded and scored per batch."),
) -> None:
    """Score image files as GAN-generated; one JSON line per file, in order.

    Each line: {"file", "flagged", "categories": {"gan_generated": bool},
    "category_scores": {"gan_generated": p}, "model",
    "thresholds": {"gan_generated": t}}. A file that cannot be read
    (missing, not an image, corrupt) gets {"file", "error"} instead, and
    the other files are still scored.

    Exit status: 0 when every file was scored; 1 when some file could not
    be (see its "error" line); 2 for a bad option or model folder.
    """
    from .detect import load_detector
    from .detect.files import moderate_files

    det = load_detector(model)
    bad = 0
    for record in moderate_files(det, files, threshold=threshold, batch_size=batch_size):
        bad += "error" in record
        typer.echo(json.dumps(record))
    if bad:
        print(f"warning: {bad} of {len(files)} files could not be scored", file=sys.stderr)
        raise typer.Exit(1)
