"""Offline GAN image metrics in the feature space of a small shipped classifier.

Inception weights cannot be downloaded, so the project trains a small CNN
(:class:`FeatureNet`) on the real data and ships it as safetensors weights with a JSON
record (architecture, training data, test accuracy, sha256); ``efficientnet-lite0``
(optional extra ``imagenet``) adds ImageNet features for every image size, and
:func:`extractor_for_data` picks the feature space of a model's data and image size. In
the feature space:

* ``fld``: Fréchet LeNet Distance (Fréchet distance of fitted Gaussians; *not* FID);
* ``kid``: kernel distance, unbiased cubic-polynomial MMD^2 over random subsets, on
  features scaled to unit root mean square (mean and standard deviation over subsets);
* ``precision_recall``: k-NN manifold precision / recall (Kynkäänniemi et al. 2019, k=3);
* ``coverage``: class shares of the classifier's predictions (mode-collapse signal).

Typical use::

    from socialgan.image.metrics import evaluate_samples, load_feature_extractor

    ext = load_feature_extractor("mnist")          # or "fashion-mnist", "att-faces"
    scores = evaluate_samples(fake, real, ext)      # includes scores["floor"]
    same_n = evaluate_matched(fake[:1000], real, ext)  # floor on as many images

Each entry of :data:`METRICS` is a :class:`MetricSpec` whose ``fn(fake, real, **kwargs)``
takes the extractor outputs named by ``input`` (``"features"`` or ``"logits"``) for the
fake and real sets and returns a dict of scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from socialgan.image.metrics.coverage import class_coverage, class_shares
from socialgan.image.metrics.evaluate import (
    evaluate_features,
    evaluate_matched,
    evaluate_samples,
)
from socialgan.image.metrics.features import (
    BUILTIN_EXTRACTORS,
    EXTRACTOR_NAMES,
    IMAGENET_EXTRACTORS,
    WEIGHTS_DIR,
    Extractor,
    FeatureExtractor,
    FeatureNet,
    builtin_input_size,
    file_sha256,
    load_feature_extractor,
    prepare_images,
)
from socialgan.image.metrics.fld import feature_statistics, fld, frechet_distance
from socialgan.image.metrics.kid import feature_rms, kid, mmd2_unbiased
from socialgan.image.metrics.prdc import knn_radii, precision_recall
from socialgan.image.metrics.select import (
    check_extractor_fits,
    data_extractor,
    extractor_for_data,
    imagenet_available,
)

__all__ = [
    "BUILTIN_EXTRACTORS",
    "EXTRACTOR_NAMES",
    "IMAGENET_EXTRACTORS",
    "METRICS",
    "MetricSpec",
    "WEIGHTS_DIR",
    "Extractor",
    "FeatureExtractor",
    "FeatureNet",
    "builtin_input_size",
    "check_extractor_fits",
    "class_coverage",
    "class_shares",
    "data_extractor",
    "evaluate_features",
    "evaluate_matched",
    "evaluate_samples",
    "extractor_for_data",
    "feature_rms",
    "feature_statistics",
    "file_sha256",
    "fld",
    "frechet_distance",
    "get_metric",
    "imagenet_available",
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
