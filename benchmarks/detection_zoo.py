"""The generator zoo and the real-image splits of ``synthetic_image_detection.py``.

Each generator is an :class:`~socialgan.image.gan.ImageGAN` trained for a fixed budget of
process CPU seconds and cached with ``save_pretrained`` under ``benchmarks/cache/detection/``
(gitignored) beside a ``benchmark.json`` that records its recipe, steps and CPU time; a
cached model is reused only when its recorded recipe equals the requested one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from socialgan.image.data import load_fashion_mnist, load_source
from socialgan.image.gan import ImageGAN

CACHE = Path(__file__).resolve().parent / "cache" / "detection"
DIFFAUGMENT = "color,translation,cutout"
TRAIN_GENERATOR = "dcgan-transposed"  # the family every detector is trained on
SHORT_FRACTION = 1 / 3  # budget of the "short training" variant
# latent seeds of the fresh samples: detector training, test, attacker training / test
SEED_TRAIN, SEED_TEST, SEED_ATTACK_TRAIN, SEED_ATTACK_TEST = 101, 202, 303, 404
#: The zoo's nets where a spec does not name them: transposed convolutions and no extra 3x3
#: convolutions, the ImageGAN defaults of the published run (the library now defaults to
#: nearest upsampling + conv, depth 1, width 32). The training family is a transposed-conv
#: GAN on purpose: its checkerboard spectrum is what the detectors learn, and the
#: upsample+conv family tests whether they generalise beyond it.
ZOO_NETS: dict[str, Any] = {"upsample": "transposed", "depth": 0}


@dataclass(frozen=True)
class GenSpec:
    """One generator of the zoo: its family, the ImageGAN recipe and its budget share."""

    name: str
    family: str
    arch: str
    options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    fraction: float = 1.0
    variant: str = ""

    def recipe(self, seconds: float, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """What the cache must match: architecture, options, seed, budget (+ extras)."""
        return json.loads(
            json.dumps(
                {
                    "arch": self.arch,
                    "options": self.options,
                    "seed": self.seed,
                    "cpu_seconds": round(seconds, 3),
                    **(extra or {}),
                },
                sort_keys=True,
            )
        )


def zoo(data: str) -> list[GenSpec]:
    """The generators of a data set: five families plus seed and length variants of the
    training family. Faces (400 images): DiffAugment in every conv GAN, width 16, batch 32;
    Fashion-MNIST (60,000 images): width 32, batch 64, no augmentation."""
    if data == "faces":
        conv: dict[str, Any] = {"width": 16, "batch_size": 32, "augment": DIFFAUGMENT}
    else:
        conv = {"width": 32, "batch_size": 64}
    wgan = {"loss": "wasserstein", "n_critic": 5, "betas_g": [0.5, 0.9], "betas_d": [0.5, 0.9]}
    transposed = "DCGAN transposed conv"
    return [
        GenSpec("seed-mlp", "seed MLP", "seed", {"batch_size": 64}),
        GenSpec(TRAIN_GENERATOR, transposed, "dcgan", {**conv, "upsample": "transposed"}),
        GenSpec(
            "dcgan-transposed-seed1",
            transposed,
            "dcgan",
            {**conv, "upsample": "transposed"},
            seed=1,
            variant="seed 1",
        ),
        GenSpec(
            "dcgan-transposed-short",
            transposed,
            "dcgan",
            {**conv, "upsample": "transposed"},
            fraction=SHORT_FRACTION,
            variant="1/3 budget",
        ),
        GenSpec("dcgan-nearest", "DCGAN upsample+conv", "dcgan", {**conv, "upsample": "nearest"}),
        GenSpec(
            "dcgan-hinge-sn",
            "DCGAN hinge + SN",
            "dcgan",
            {**conv, "loss": "hinge", "spectral_norm": True},
        ),
        GenSpec("wgan-gp", "WGAN-GP", "dcgan", {**conv, **wgan}),
    ]


def quantize(images: Tensor) -> Tensor:
    """Round to the 256 grey levels of a saved PNG (what a platform receives)."""
    return (images.clamp(0, 1) * 255).round() / 255


# ------------------------------------------------------------------------------ real data
@dataclass
class RealSplits:
    """Real images of one data set: detector training, threshold calibration, test."""

    name: str
    gan_data: Any  # what the generators train on (an ImageDataset)
    train: Tensor
    calib: Tensor
    test: Tensor
    description: str


def faces_splits(by: str = "person") -> RealSplits:
    """ORL faces at 64x64 (40 people x 10 images; the generators see all 400), split into
    200 images to train the detectors, 80 to calibrate thresholds and 120 to test.

    ``by="person"``: each person's 10 images are shuffled (seeded) and dealt 5 / 2 / 3, so
    calibration and test images show the same 40 people. ``by="identity"``: whole people
    are dealt 20 / 8 / 12, a stricter test in which real scores vary more from person to
    person than the 80 calibration images can pin down.
    """
    ds = load_source("att-faces")
    assert ds.labels is not None
    gen = torch.Generator().manual_seed(0)
    index: dict[str, list[Tensor]] = {"train": [], "calib": [], "test": []}
    if by == "identity":
        people = torch.randperm(40, generator=gen)
        for k, ids in zip(index, (people[:20], people[20:28], people[28:]), strict=True):
            index[k].append(torch.nonzero(torch.isin(ds.labels, ids)).flatten())
        what = "by identity: 20 people (200 images) detector training, 8 (80) calibration, 12 (120)"
    elif by == "person":
        for person in range(40):
            idx = torch.nonzero(ds.labels == person).flatten()
            idx = idx[torch.randperm(len(idx), generator=gen)]
            for k, part in zip(index, (idx[:5], idx[5:7], idx[7:]), strict=True):
                index[k].append(part)
        what = "per person 5 / 2 / 3 images: 200 detector training, 80 calibration, 120"
    else:
        raise ValueError(f"faces split must be 'person' or 'identity', got {by!r}")
    parts = {}
    for k, chunks in index.items():  # shuffled, so that grids show many people
        idx = torch.cat(chunks)
        parts[k] = quantize(ds.images[idx[torch.randperm(len(idx), generator=gen)]])
    return RealSplits(
        "faces",
        ds,
        parts["train"],
        parts["calib"],
        parts["test"],
        f"ORL/AT&T faces, 400 images of 40 people, 64x64 grey; split (seed 0) {what} test; "
        "the generators train on all 400",
    )


def fashion_splits(n_train: int, n_calib: int, n_test: int) -> RealSplits:
    """Fashion-MNIST 28x28: detector training and calibration images from the train split
    (disjoint, seeded), test images from the test split. The generators see all 60,000."""
    train = load_fashion_mnist(split="train")
    test = load_fashion_mnist(split="test")
    perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))
    x = train.images[perm[: n_train + n_calib]]
    t = test.images[torch.randperm(len(test), generator=torch.Generator().manual_seed(1))]
    return RealSplits(
        "fashion",
        train,
        quantize(x[:n_train]),
        quantize(x[n_train:]),
        quantize(t[:n_test]),
        f"Fashion-MNIST 28x28: {n_train} train-split images detector training, {n_calib} "
        f"other train-split images threshold calibration, {n_test} test-split images test; "
        "the generators train on the 60,000 train-split images",
    )


# ------------------------------------------------------------------------- the generators
@dataclass
class Trained:
    """A generator of the zoo with what it cost."""

    spec: GenSpec
    gan: ImageGAN
    info: dict[str, Any]
    folder: Path

    def samples(self, n: int, seed: int) -> Tensor:
        """``n`` fresh samples (EMA generator), rounded to 8 bits."""
        return quantize(self.gan.sample(n, seed=seed))


def _cached(folder: Path, recipe: dict[str, Any], retrain: bool) -> dict[str, Any] | None:
    """The recorded info of a cached model with this exact recipe, else None."""
    meta_path = folder / "benchmark.json"
    if retrain or not meta_path.is_file():
        return None
    meta = json.loads(meta_path.read_text())
    if meta.get("recipe") == recipe:
        return dict(meta["info"])
    print(f"  {folder.name}: recipe changed, retraining", file=sys.stderr)
    return None


def _train(
    gan: ImageGAN,
    splits: RealSplits,
    folder: Path,
    recipe: dict[str, Any],
    *,
    cpu_seconds: float,
    start: int = 0,
) -> dict[str, Any]:
    """Fit (resuming from the folder's checkpoint at step ``start`` if > 0), export the
    model into its run folder and record recipe and cost (``steps`` counts this fit's)."""
    c0, t0 = time.process_time(), time.perf_counter()
    gan.fit(splits.gan_data, cpu_seconds=cpu_seconds, resume=start > 0)
    assert gan.trainer is not None
    info = {
        "steps": gan.trainer.step - start,
        "cpu_seconds": time.process_time() - c0,
        "wall_seconds": time.perf_counter() - t0,
    }
    gan.save_pretrained(folder)
    meta = {"recipe": recipe, "info": info}
    (folder / "benchmark.json").write_text(json.dumps(meta, indent=2) + "\n")
    return info


def _gan(spec: GenSpec, folder: Path, steps: int, **kwargs: Any) -> ImageGAN:
    return ImageGAN(
        spec.arch,
        steps=steps,
        seed=spec.seed,
        run_dir=folder,
        progress=False,
        tensorboard=False,
        log_every=10**6,
        **kwargs,
        **{**ZOO_NETS, **spec.options},
    )


def zoo_settings_note() -> str:
    """For the protocol: the zoo's net settings that differ from ImageGAN's defaults, and why."""
    return (
        "Nets: every DCGAN uses transposed convolutions (the upsample+conv family: nearest "
        "upsampling + 3x3 conv) and no extra 3x3 convolutions (depth 0), as in the published "
        "run, where ImageGAN's defaults are now width 32, nearest + conv, depth 1: the "
        "training family is a transposed-conv GAN on purpose (its checkerboard spectrum is "
        "what the detectors learn; the upsample+conv family tests generalisation)."
    )


def train_or_load(
    spec: GenSpec, splits: RealSplits, seconds: float, *, retrain: bool, cache: Path = CACHE
) -> Trained:
    """Load ``spec`` from the cache, or train it for ``seconds`` CPU seconds and cache it.

    The cache folder is the run folder (config, stats, last samples) plus the exported
    model and ``benchmark.json``; the training generator's also keeps its final checkpoint,
    which the attacker resumes from.
    """
    recipe = spec.recipe(seconds, {"format": 2})
    folder = cache / f"{splits.name}-{spec.name}-{seconds:g}s"
    keep_checkpoint = spec.name == TRAIN_GENERATOR
    info = _cached(folder, recipe, retrain)
    if info is not None and (not keep_checkpoint or (folder / "checkpoints").is_dir()):
        return Trained(spec, ImageGAN.from_pretrained(folder), {**info, "cached": True}, folder)
    print(f"  training {splits.name}/{spec.name} ({seconds:g} CPU s)...", file=sys.stderr)
    shutil.rmtree(folder, ignore_errors=True)
    info = _train(_gan(spec, folder, 10**9), splits, folder, recipe, cpu_seconds=seconds)
    if not keep_checkpoint:
        shutil.rmtree(folder / "checkpoints")
    return Trained(spec, ImageGAN.from_pretrained(folder), {**info, "cached": False}, folder)


def fine_tune(
    base: Trained,
    spec: GenSpec,
    splits: RealSplits,
    steps: int,
    g_regularizer: Callable[[Tensor], Tensor],
    *,
    cap_seconds: float,
    depends_on: dict[str, Any],
    retrain: bool,
    cache: Path = CACHE,
) -> Trained:
    """Continue ``base``'s game (G, D, EMA, optimizers) for ``steps`` more generator steps
    with ``g_regularizer`` added to the generator's loss: the adaptive attacker.

    ``depends_on`` keys the cache (the attacked detector's digest, the attack settings);
    ``cap_seconds`` bounds the CPU time.
    """
    seconds = float(base.info["cpu_seconds"])
    recipe = base.spec.recipe(seconds, {"format": 2, "base_steps": base.info["steps"]})
    recipe = {"base": recipe, "steps": steps, "cap": cap_seconds, **depends_on}
    recipe = json.loads(json.dumps(recipe, sort_keys=True))
    folder = cache / f"{base.folder.name}-{spec.name}"
    info = _cached(folder, recipe, retrain)
    if info is not None:
        return Trained(spec, ImageGAN.from_pretrained(folder), {**info, "cached": True}, folder)
    print(f"  fine-tuning {splits.name}/{spec.name} ({steps} steps)...", file=sys.stderr)
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(base.folder / "checkpoints", folder / "checkpoints")
    # a resumed game needs the checkpoint; once fine-tuned, the exported model is enough
    start = int(base.info["steps"])
    gan = _gan(spec, folder, start + steps, g_regularizer=g_regularizer)
    info = _train(gan, splits, folder, recipe, cpu_seconds=cap_seconds, start=start)
    shutil.rmtree(folder / "checkpoints")
    return Trained(spec, ImageGAN.from_pretrained(folder), {**info, "cached": False}, folder)


def module_digest(module: torch.nn.Module) -> str:
    """Short SHA-256 of a module's state (to key a cache on a model's exact weights)."""
    h = hashlib.sha256()
    for k, v in sorted(module.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]
