"""Plots of a run's logged statistics (matplotlib, headless)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_stats(path: str | Path) -> list[dict[str, Any]]:
    """Read ``stats.jsonl`` into a list of dicts (skipping a line cut short by a crash)."""
    rows = []
    for line in Path(path).read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def plot_losses(history: list[dict[str, Any]], path: str | Path, title: str = "") -> Path:
    """Plot D and G losses (and D's mean real/fake logits) against the step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in history if "loss_d" in r]
    steps = [r["step"] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for key, label in (("loss_d", "D loss"), ("loss_g", "G loss")):
        axes[0].plot(steps, [r.get(key, float("nan")) for r in rows], label=label)
    axes[0].set_xlabel("generator step")
    axes[0].set_ylabel("loss")
    axes[0].legend()
    axes[0].set_title(title or "losses")
    for key, label in (("d_real", "D(real) logit"), ("d_fake", "D(fake) logit")):
        axes[1].plot(steps, [r.get(key, float("nan")) for r in rows], label=label)
    axes[1].set_xlabel("generator step")
    axes[1].legend()
    axes[1].set_title("discriminator outputs")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
