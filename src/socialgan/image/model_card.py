"""The ``README.md`` model card of a saved image model (:class:`~.gan.ImageGAN`, the image
detectors): a title, what the model is, its metrics, and its intended use and limits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["model_card"]


def model_card(
    title: str,
    about: Sequence[str],
    metrics: Mapping[str, Any],
    use: Sequence[str],
    *,
    no_metrics: str = "- none recorded",
) -> str:
    """The card's Markdown: ``# title``, the ``about`` lines, a Metrics section (one
    ``- key: value`` line each, or ``no_metrics``) and the ``use`` lines as its "Intended
    use and limits" section."""
    lines = [f"# {title}", "", *about, "", "## Metrics"]
    if metrics:
        lines += [f"- {k}: {v}" for k, v in metrics.items()]
    else:
        lines.append(no_metrics)
    lines += ["", "## Intended use and limits", *use, ""]
    return "\n".join(lines)
