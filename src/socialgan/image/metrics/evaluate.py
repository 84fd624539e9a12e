"""One call to score generated images against real ones, with a real-vs-real floor.

:func:`evaluate_samples` extracts features and logits once for each set, then reports FLD,
KID, precision/recall (k-NN manifolds, plus density / k-NN coverage) and class coverage.
Every score comes with a *floor*: the same metrics between two disjoint halves of the
real set (or between the real set and a second real set ``real_floor``). A generator
cannot be expected to beat the floor; it shows the noise level of each metric at the
given sample size.

Sample sizes matter: FLD is biased upwards for small N and precision/recall depend on the
k-NN radii, which shrink as N grows. The floor's sample counts are recorded
(``floor["n_a"]``, ``floor["n_b"]``); for the closest comparison pass as many fake samples
as each floor half holds (``num_real_for_floor``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from socialgan.image.metrics.coverage import class_coverage
from socialgan.image.metrics.features import FeatureExtractor, load_feature_extractor
from socialgan.image.metrics.fld import fld
from socialgan.image.metrics.kid import kid
from socialgan.image.metrics.prdc import precision_recall

__all__ = ["evaluate_features", "evaluate_samples"]


def evaluate_features(
    fake_features: Tensor,
    real_features: Tensor,
    *,
    kid_subset_size: int = 1000,
    kid_subsets: int = 100,
    k: int = 3,
    seed: int = 0,
) -> dict[str, float | int]:
    """FLD, KID and precision/recall between two ``(N, D)`` feature sets."""
    out: dict[str, float | int] = {"fld": fld(fake_features, real_features)}
    kd = kid(
        fake_features,
        real_features,
        subset_size=kid_subset_size,
        num_subsets=kid_subsets,
        seed=seed,
    )
    out["kid"], out["kid_std"], out["kid_subset_size"] = kd["kid"], kd["kid_std"], kd["subset_size"]
    pr = precision_recall(fake_features, real_features, k=k)
    for key in ("precision", "recall", "density", "knn_coverage"):
        out[key] = pr[key]
    return out


def evaluate_samples(
    fake: Tensor,
    real: Tensor,
    extractor: FeatureExtractor | str,
    *,
    real_floor: Tensor | None = None,
    num_real_for_floor: int | None = None,
    seed: int = 0,
    kid_subset_size: int = 1000,
    kid_subsets: int = 100,
    k: int = 3,
    coverage_threshold: float | None = None,
) -> dict[str, Any]:
    """Score ``fake`` images against ``real`` images in ``extractor``'s feature space.

    ``fake`` / ``real``: ``(N, C, H, W)`` float tensors in ``[0, 1]`` (converted to the
    extractor's 1x28x28 input as needed). ``extractor``: a :class:`FeatureExtractor` or a
    name / path for :func:`load_feature_extractor`.

    Floor: when ``real_floor`` is given, ``real`` is compared with ``real_floor``;
    otherwise ``real`` is split (seeded) into two disjoint halves. ``num_real_for_floor``
    caps the number of samples on each side of the floor (default: all of ``real`` and
    ``real_floor``, or half of ``real`` each when splitting).

    Returns a dict with ``fld``, ``kid``, ``kid_std``, ``precision``, ``recall``,
    ``density``, ``knn_coverage``, ``class_shares``, ``min_class_share``,
    ``classes_covered``, ``real_class_shares``, ``class_share_tv``, ``n_fake``,
    ``n_real``, ``extractor`` and ``floor`` (``fld``, ``kid``, ``kid_std``, ``precision``,
    ``recall``, ``density``, ``knn_coverage``, ``n_a``, ``n_b``, ``source``).
    """
    if isinstance(extractor, str):
        extractor = load_feature_extractor(extractor)
    fake_f, fake_l = extractor.features_and_logits(fake)
    real_f, real_l = extractor.features_and_logits(real)
    settings = {"kid_subset_size": kid_subset_size, "kid_subsets": kid_subsets, "k": k}

    result: dict[str, Any] = evaluate_features(fake_f, real_f, seed=seed, **settings)
    cov = class_coverage(fake_l, real_l, threshold=coverage_threshold)
    result.update(cov)
    result.update(
        {
            "n_fake": int(fake_f.shape[0]),
            "n_real": int(real_f.shape[0]),
            "extractor": extractor.name,
            "k": int(k),
            "kid_subsets": int(kid_subsets),
            "seed": int(seed),
        }
    )

    gen = torch.Generator().manual_seed(int(seed))
    if real_floor is not None:
        floor_f = extractor.features(real_floor)
        a, b = real_f, floor_f
        if num_real_for_floor is not None:
            a = a[torch.randperm(a.shape[0], generator=gen)[: int(num_real_for_floor)]]
            b = b[torch.randperm(b.shape[0], generator=gen)[: int(num_real_for_floor)]]
        source = "real vs real_floor"
    else:
        n = real_f.shape[0]
        half = n // 2 if num_real_for_floor is None else int(num_real_for_floor)
        if half < 2 or 2 * half > n:
            raise ValueError(
                f"real-vs-real floor: cannot take two disjoint halves of {half} samples from "
                f"{n} real samples (pass real_floor or a smaller num_real_for_floor)"
            )
        perm = torch.randperm(n, generator=gen)
        a, b = real_f[perm[:half]], real_f[perm[half : 2 * half]]
        source = "two disjoint halves of real"
    floor: dict[str, Any] = evaluate_features(a, b, seed=seed, **settings)
    floor.update({"n_a": int(a.shape[0]), "n_b": int(b.shape[0]), "source": source})
    result["floor"] = floor
    return result
