"""Figures of ``synthetic_image_detection.py``: ROC curves, mean power spectra, samples.

All figures are written with matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402
from torch import Tensor  # noqa: E402

from socialgan.image.detect import azimuthal_spectrum  # noqa: E402


def _save(fig: Figure, path: Path, title: str, dpi: int) -> Path:
    """Title, lay out, write (creating the folder) and close ``fig``; return ``path``."""
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def plot_roc(
    curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]],
    path: Path,
    title: str,
    mark_fpr: float | None = None,
) -> Path:
    """One panel per detector; in each, one ROC curve per generator.

    ``curves[detector][generator] = (real_logits, fake_logits)``; the first generator of
    each panel is drawn thicker (the in-distribution one). ``mark_fpr`` draws a vertical
    line at the calibration's target false positive rate.
    """
    fig, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 4.2), squeeze=False)
    for ax, (det, gens) in zip(axes[0], curves.items(), strict=True):
        for i, (gen, (real, fake)) in enumerate(gens.items()):
            y = np.r_[np.zeros(len(real)), np.ones(len(fake))]
            fpr, tpr, _ = roc_curve(y, np.r_[real, fake])
            ax.plot(fpr, tpr, lw=2.5 if i == 0 else 1.2, label=gen)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
        if mark_fpr is not None:
            ax.axvline(mark_fpr, color="black", lw=0.8, ls="--", label=f"target FPR {mark_fpr:g}")
        ax.set_xscale("symlog", linthresh=0.01)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.01)
        ax.set_title(det)
        ax.set_xlabel("false positive rate (real flagged)")
        ax.set_ylabel("true positive rate (fakes caught)")
        ax.legend(fontsize=7, loc="lower right")
        ax.grid(alpha=0.3)
    return _save(fig, path, title, dpi=110)


def plot_spectra(real: Tensor, fakes: dict[str, Tensor], path: Path, title: str) -> Path:
    """Mean azimuthal log power spectrum of real images and of each generator (left) and
    each generator's difference from real (right): the spectral detector's features."""
    mean_real = azimuthal_spectrum(real).mean(0).numpy()
    fig, (ax, ax_d) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax.plot(mean_real, color="black", lw=2.5, label="real")
    ax_d.axhline(0, color="black", lw=1.5)
    for name, x in fakes.items():
        m = azimuthal_spectrum(x).mean(0).numpy()
        ax.plot(m, lw=1.2, label=name)
        ax_d.plot(m - mean_real, lw=1.2, label=name)
    ax.set_title("mean log power by spatial frequency")
    ax_d.set_title("difference from real")
    for a in (ax, ax_d):
        a.set_xlabel("frequency (radius in FFT bins; right = finest detail)")
        a.grid(alpha=0.3)
    ax.set_ylabel("log power")
    ax_d.legend(fontsize=7)
    return _save(fig, path, title, dpi=110)


def plot_overview(rows: dict[str, Tensor], path: Path, title: str, n: int = 10) -> Path:
    """One labelled row of ``n`` images per source (real first, then each generator)."""
    fig, axes = plt.subplots(len(rows), n, figsize=(1.1 * n + 1.6, 1.15 * len(rows)), squeeze=False)
    for r, (name, images) in enumerate(rows.items()):
        for c in range(n):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(images):
                ax.imshow(images[c, 0].numpy(), cmap="gray", vmin=0, vmax=1)
            if c == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    return _save(fig, path, title, dpi=100)
