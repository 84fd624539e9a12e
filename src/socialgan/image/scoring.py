"""Score an ImageGAN against real images, and the metrics table of ``image evaluate``/``demo``.

Every score stands beside a real-vs-real floor computed on the same number of images: the
samples are scored against ``n`` real images and the floor compares those with ``n`` other
real images. When the reference set holds fewer than ``2 n`` images, ``n`` shrinks to half
of it and the table says so. The feature space is the shipped net of the model's data and
image size unless another is asked for (see :mod:`socialgan.image.metrics.select`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from torch import Tensor

from ..errors import DataError

if TYPE_CHECKING:
    from .gan import ImageGAN
    from .metrics import Extractor

    Chosen = tuple[Extractor, str]

__all__ = ["MIN_SAMPLES", "choose_extractor", "evaluate_gan", "format_metrics"]

#: Fewest samples a report can rest on: k-NN precision/recall (k=3) needs k + 1.
MIN_SAMPLES = 4


def choose_extractor(gan: ImageGAN, source: str, requested: str = "auto") -> Chosen:
    """The feature extractor that scores ``gan`` (and why), checked against its image size.

    ``auto``: the shipped net of the model's training data (else of the reference
    ``source``) at the model's image size; see :mod:`socialgan.image.metrics.select`. An
    extractor made for another image size is a :class:`~socialgan.errors.DataError`.
    """
    from .metrics import (
        check_extractor_fits,
        data_extractor,
        extractor_for_data,
        load_feature_extractor,
    )

    size = gan.net_config["img_size"]
    trained_on = str(gan.data_info.get("name") or source)
    data_name = trained_on if data_extractor(trained_on) else source
    name, why = extractor_for_data(requested, data_name, size)
    ext = load_feature_extractor(name)
    check_extractor_fits(ext, size)
    return ext, why


def evaluate_gan(
    gan: ImageGAN,
    reference: Tensor,
    *,
    n: int,
    source: str,
    extractor: str = "auto",
    chosen: Chosen | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Sample up to ``n`` images from ``gan`` and score them against ``reference``.

    ``source`` names the reference data; ``chosen`` is a :func:`choose_extractor` result
    (default: ``choose_extractor(gan, source, extractor)``). The result is that of
    :func:`~socialgan.image.metrics.evaluate_matched` plus ``extractor_reason``,
    ``extractor_size``, ``reference``, ``n_requested`` and ``n_reference``.
    """
    from .metrics import evaluate_matched

    ext, why = chosen or choose_extractor(gan, source, extractor)
    n_used = min(int(n), len(reference) // 2)
    if n_used < MIN_SAMPLES:
        raise DataError(
            f"{source}: {len(reference)} reference images are too few; the score and its "
            f"floor need two disjoint sets of at least {MIN_SAMPLES} images"
        )
    fake = gan.sample(n_used, seed=seed)
    result = evaluate_matched(fake, reference, ext, seed=seed)
    result.update(
        extractor=ext.name,
        extractor_reason=why,
        extractor_size=ext.img_size,
        reference=source,
        n_requested=int(n),
        n_reference=len(reference),
    )
    return result


def _kid_cell(r: dict[str, Any]) -> str:
    return f"{1000 * r['kid']:.2f} ± {1000 * r['kid_std']:.2f}"


def _class_rows(r: dict[str, Any]) -> list[str]:
    if r.get("classes_covered") is None:
        why = f"n/a ({r.get('extractor')} has no classes of the data)"
        return [f"| min class share | {why} | - |", f"| classes covered | {why} | - |"]
    k = len(r["class_shares"])
    real = r.get("real_class_shares") or []
    real_min = f"{min(real):.3f} (real data)" if real else f"{1 / k:.3f} if balanced"
    real_covered = sum(s > 0 for s in real) if real else k
    return [
        f"| min class share | {r['min_class_share']:.3f} | {real_min} |",
        f"| classes covered | {r['classes_covered']}/{k} | {real_covered}/{k} |",
    ]


def _note(r: dict[str, Any]) -> str:
    f = r.get("floor", {})
    lines = [
        f"{r.get('n_fake'):,} generated vs {r.get('n_real'):,} real images; floor: those "
        f"{f.get('n_a', 0):,} real vs {f.get('n_b', 0):,} other real images.",
    ]
    requested, n_ref = r.get("n_requested"), r.get("n_reference")
    if requested is not None and requested > r.get("n_fake", requested):
        lines.append(
            f"Scored {r['n_fake']:,} of the {requested:,} requested samples: {r.get('reference')} "
            f"has {n_ref:,} images, too few for two disjoint sets of {requested:,}, so the "
            "samples are scored on as many images as the floor."
        )
    size = r.get("extractor_size")
    space = f"{size}x{size}" if size else "ImageNet, every size (resized to 224x224)"
    why = f": {r['extractor_reason']}" if r.get("extractor_reason") else ""
    lines.append(
        f"Features: {r.get('extractor')} ({space}){why}. FLD is not FID: not Inception "
        f"features. KID: features divided by the real images' RMS "
        f"({r.get('kid_feature_scale', float('nan')):.3g}); mean ± std over "
        f"{r.get('kid_subsets')} subsets of {r.get('kid_subset_size')}."
    )
    return "\n".join(lines)


def format_metrics(r: dict[str, Any]) -> str:
    """A markdown table of sample metrics with the real-vs-real floor beside each, and a note
    on sample sizes and the feature space."""
    f = r.get("floor", {})
    nan = float("nan")
    rows = [
        "| metric | samples | real-vs-real floor |",
        "|---|---|---|",
        f"| FLD (lower is better) | {r['fld']:.3f} | {f.get('fld', nan):.3f} |",
        f"| KID x1000 (lower is better) | {_kid_cell(r)} | "
        + (_kid_cell(f) if "kid" in f else "-")
        + " |",
        f"| precision | {r['precision']:.3f} | {f.get('precision', nan):.3f} |",
        f"| recall | {r['recall']:.3f} | {f.get('recall', nan):.3f} |",
        *_class_rows(r),
    ]
    return "\n".join(rows) + "\n\n" + _note(r)
