"""Offline GAN image metrics in the feature space of a small shipped classifier.

Inception weights cannot be downloaded, so the project trains a small CNN
(:class:`FeatureNet`) on the real data and ships it as safetensors weights with a JSON
record (architecture, training data, test accuracy, sha256). In its 128-d feature space:

* ``fld``: Fréchet LeNet Distance (Fréchet distance of fitted Gaussians; *not* FID);
* ``kid``: kernel distance, unbiased cubic-polynomial MMD^2 over random subsets;
* ``precision_recall``: k-NN manifold precision / recall (Kynkäänniemi et al. 2019, k=3);
* ``coverage``: class shares of the classifier's predictions (mode-collapse signal).

Typical use::

    from socialgan.image.metrics import evaluate_samples, load_feature_extractor

    ext = load_feature_extractor("mnist")          # or "fashion-mnist"
    scores = evaluate_samples(fake, real, ext)      # includes scores["floor"]

Each entry of :data:`METRICS` is a :class:`MetricSpec` whose ``fn(fake, real, **kwargs)``
takes the extractor outputs named by ``input`` (``"features"`` or ``"logits"``) for the
fake and real sets and returns a dict of scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from socialgan.image.metrics.coverage import class_coverage, class_shares
from socialgan.image.metrics.evaluate import evaluate_features, evaluate_samples
from socialgan.image.metrics.features import (
    BUILTIN_EXTRACTORS,
    WEIGHTS_DIR,
    FeatureExtractor,
    FeatureNet,
    file_sha256,
    load_feature_extractor,
    prepare_images,
)
from socialgan.image.metrics.fld import feature_statistics, fld, frechet_distance
from socialgan.image.metrics.kid import kid, mmd2_unbiased
from socialgan.image.metrics.prdc import knn_radii, precision_recall

__all__ = [
    "BUILTIN_EXTRACTORS",
    "METRICS",
    "MetricSpec",
    "WEIGHTS_DIR",
    "FeatureExtractor",
    "FeatureNet",
    "class_coverage",
    "class_shares",
    "evaluate_features",
    "evaluate_samples",
    "feature_statistics",
    "file_sha256",
    "fld",
    "frechet_distance",
    "get_metric",
    "kid",
    "knn_radii",
    "load_feature_extractor",
    "mmd2_unbiased",
    "precision_recall",
    "prepare_images",
]


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric: ``fn(fake, real, **kwargs) -> dict`` on extractor outputs."""

    name: str
    input: str  # "features" or "logits"
    fn: Callable[..., dict[str, Any]]
    description: str
    lower_is_better: bool | None = None  # None: several scores with different directions


def _fld_metric(fake: Any, real: Any) -> dict[str, Any]:
    return {"fld": fld(fake, real)}


METRICS: dict[str, MetricSpec] = {
    "fld": MetricSpec(
        "fld", "features", _fld_metric, "Fréchet LeNet Distance (Fréchet distance)", True
    ),
    "kid": MetricSpec("kid", "features", kid, "kernel distance, unbiased poly MMD^2", True),
    "precision_recall": MetricSpec(
        "precision_recall",
        "features",
        precision_recall,
        "k-NN manifold precision / recall (+ density, knn_coverage)",
        False,
    ),
    "coverage": MetricSpec(
        "coverage", "logits", class_coverage, "predicted class shares of the samples", None
    ),
}


def get_metric(name: str) -> MetricSpec:
    """Look up a metric in :data:`METRICS` (clear error for an unknown name)."""
    try:
        return METRICS[name]
    except KeyError:
        raise ValueError(f"unknown metric {name!r}, expected one of {sorted(METRICS)}") from None
