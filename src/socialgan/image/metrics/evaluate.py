"""One call to score generated images against real ones, with a real-vs-real floor.

:func:`evaluate_samples` extracts features and logits once for each set, then reports FLD,
KID, precision/recall (k-NN manifolds, plus density / k-NN coverage) and class coverage.
Every score comes with a *floor*: the same metrics between two disjoint halves of the
real set (or between the real set and a second real set ``real_floor``). A generator
cannot be expected to beat the floor; it shows the noise level of each metric at the
given sample size.

Sample sizes matter: FLD is biased upwards for small N and precision/recall depend on the
k-NN radii, which shrink as N grows. The floor's sample counts are recorded
(``floor["n_a"]``, ``floor["n_b"]``). :func:`evaluate_matched` makes the comparison fair:
the fakes are scored against ``n`` real images and the floor compares those with ``n``
other real images, ``n`` the number of fakes.

KID is computed on features divided by the root mean square of the real features (see
:mod:`~socialgan.image.metrics.kid`), the same factor for the score and its floor;
``kid_scale=1.0`` gives the raw estimate.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from socialgan.image.metrics.coverage import class_coverage
from socialgan.image.metrics.features import Extractor, load_feature_extractor
from socialgan.image.metrics.fld import fld
from socialgan.image.metrics.kid import feature_rms, kid
from socialgan.image.metrics.prdc import precision_recall

__all__ = ["evaluate_features", "evaluate_matched", "evaluate_samples"]

#: Coverage keys reported as "not measured" by an extractor without the data's classes.
_NO_COVERAGE: dict[str, Any] = {
    "class_shares": [],
    "min_class_share": None,
    "max_class_share": None,
    "classes_covered": None,
    "num_classes": 0,
}


def evaluate_features(
    fake_features: Tensor,
    real_features: Tensor,
    *,
    kid_subset_size: int = 1000,
    kid_subsets: int = 100,
    k: int = 3,
    seed: int = 0,
    kid_scale: float | None = None,
) -> dict[str, float | int]:
    """FLD, KID and precision/recall between two ``(N, D)`` feature sets.

    ``kid_scale``: divide the features by this before KID; default: the root mean square of
    ``real_features``.
    """
    out: dict[str, float | int] = {"fld": fld(fake_features, real_features)}
    scale = feature_rms(real_features) if kid_scale is None else float(kid_scale)
    kd = kid(
        fake_features,
        real_features,
        subset_size=kid_subset_size,
        num_subsets=kid_subsets,
        seed=seed,
        scale=scale,
    )
    out["kid"], out["kid_std"], out["kid_subset_size"] = kd["kid"], kd["kid_std"], kd["subset_size"]
    out["kid_feature_scale"] = scale
    pr = precision_recall(fake_features, real_features, k=k)
    for key in ("precision", "recall", "density", "knn_coverage"):
        out[key] = pr[key]
    return out


def evaluate_samples(
    fake: Tensor,
    real: Tensor,
    extractor: Extractor | str,
    *,
    real_floor: Tensor | None = None,
    num_real_for_floor: int | None = None,
    seed: int = 0,
    kid_subset_size: int = 1000,
    kid_subsets: int = 100,
    k: int = 3,
    coverage_threshold: float | None = None,
    kid_scale: float | None = None,
) -> dict[str, Any]:
    """Score ``fake`` images against ``real`` images in ``extractor``'s feature space.

    ``fake`` / ``real``: ``(N, C, H, W)`` float tensors in ``[0, 1]`` (converted to the
    extractor's input as needed). ``extractor``: an :class:`Extractor` or a name / path for
    :func:`load_feature_extractor`. ``kid_scale``: see :func:`evaluate_features`; default:
    the root mean square of ``real``'s features, for the score and the floor alike.

    Floor: when ``real_floor`` is given, ``real`` is compared with ``real_floor``;
    otherwise ``real`` is split (seeded) into two disjoint halves. ``num_real_for_floor``
    caps the number of samples on each side of the floor (default: all of ``real`` and
    ``real_floor``, or half of ``real`` each when splitting).

    Returns a dict with ``fld``, ``kid``, ``kid_std``, ``precision``, ``recall``,
    ``density``, ``knn_coverage``, ``class_shares``, ``min_class_share``,
    ``classes_covered``, ``real_class_shares``, ``class_share_tv``, ``n_fake``,
    ``n_real``, ``extractor`` and ``floor`` (``fld``, ``kid``, ``kid_std``, ``precision``,
    ``recall``, ``density``, ``knn_coverage``, ``n_a``, ``n_b``, ``source``). With an
    extractor that has no logits over the data's classes (ImageNet features), the class
    keys are ``None`` / empty.
    """
    if isinstance(extractor, str):
        extractor = load_feature_extractor(extractor)
    fake_f, fake_l = extractor.features_and_logits(fake)
    real_f, real_l = extractor.features_and_logits(real)
    scale = feature_rms(real_f) if kid_scale is None else float(kid_scale)
    settings: dict[str, Any] = {
        "kid_subset_size": kid_subset_size,
        "kid_subsets": kid_subsets,
        "k": k,
        "kid_scale": scale,
    }

    result: dict[str, Any] = evaluate_features(fake_f, real_f, seed=seed, **settings)
    if fake_l is None or real_l is None:
        result.update(_NO_COVERAGE)
    else:
        result.update(class_coverage(fake_l, real_l, threshold=coverage_threshold))
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


def evaluate_matched(
    fake: Tensor, real: Tensor, extractor: Extractor | str, *, seed: int = 0, **settings: Any
) -> dict[str, Any]:
    """Score ``n = len(fake)`` fakes and the floor on the same number of images.

    ``real`` is split (seeded) into two disjoint sets of ``n``: the fakes are scored against
    the first, and the floor compares the first with the second, so every number of the
    report rests on ``n`` versus ``n`` images. Needs ``len(real) >= 2 n``; ``settings`` go
    to :func:`evaluate_samples` (KID subsets default to ``min(1000, n // 2)`` images, so
    that they differ and their spread means something).
    """
    n, n_real = int(fake.shape[0]), int(real.shape[0])
    if n < 2 or 2 * n > n_real:
        raise ValueError(
            f"matched floor: {n} fakes need two disjoint sets of {n} real images, "
            f"got {n_real} real images (score at most {n_real // 2} fakes)"
        )
    settings.setdefault("kid_subset_size", max(2, min(1000, n // 2)))
    perm = torch.randperm(n_real, generator=torch.Generator().manual_seed(int(seed)))
    scored, other = real[perm[:n]], real[perm[n : 2 * n]]
    result = evaluate_samples(fake, scored, extractor, real_floor=other, seed=seed, **settings)
    result["floor"]["source"] = f"two disjoint sets of {n} real images"
    return result
