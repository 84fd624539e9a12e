"""Class coverage of generated samples: a direct mode-collapse signal.

The offline classifier predicts a class for every sample; we report the share of samples
predicted as each class, the smallest share, and how many classes are *covered*. A class
counts as covered when its share is at least ``threshold`` (default: a tenth of the
uniform share, ``0.1 / num_classes``, i.e. 1% for 10 classes), so a handful of stray
predictions do not count as coverage. When real logits are given, the real set's shares
and the total-variation distance between the two share vectors are reported as well
(the real data need not be balanced).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["class_coverage", "class_shares"]


def _predictions(x: Tensor | np.ndarray, num_classes: int | None) -> tuple[Tensor, int]:
    t = x.detach().cpu() if isinstance(x, Tensor) else torch.as_tensor(np.asarray(x))
    if t.dim() == 2:  # logits / probabilities
        k = t.shape[1] if num_classes is None else int(num_classes)
        return t.argmax(dim=1), k
    if t.dim() == 1:  # predicted labels
        if num_classes is None:
            raise ValueError("num_classes is required when passing class indices")
        return t.long(), int(num_classes)
    raise ValueError(f"expected logits (N, K) or labels (N,), got shape {tuple(t.shape)}")


def class_shares(x: Tensor | np.ndarray, num_classes: int | None = None) -> list[float]:
    """Share of samples predicted as each class (sums to 1)."""
    pred, k = _predictions(x, num_classes)
    if pred.numel() == 0:
        raise ValueError("class shares of an empty set")
    if int(pred.min()) < 0 or int(pred.max()) >= k:
        raise ValueError(f"class indices must lie in [0, {k - 1}]")
    counts = torch.bincount(pred, minlength=k).double()
    return (counts / counts.sum()).tolist()


def class_coverage(
    fake_logits: Tensor | np.ndarray,
    real_logits: Tensor | np.ndarray | None = None,
    *,
    num_classes: int | None = None,
    threshold: float | None = None,
) -> dict[str, object]:
    """Class coverage of ``fake_logits`` (logits ``(N, K)`` or predicted labels ``(N,)``).

    Returns ``{"class_shares", "min_class_share", "max_class_share", "classes_covered",
    "num_classes", "coverage_threshold"}`` plus ``"real_class_shares"`` and
    ``"class_share_tv"`` (total variation distance, 0 = same class balance) when
    ``real_logits`` is given.
    """
    shares = class_shares(fake_logits, num_classes)
    k = len(shares)
    thr = 0.1 / k if threshold is None else float(threshold)
    out: dict[str, object] = {
        "class_shares": shares,
        "min_class_share": min(shares),
        "max_class_share": max(shares),
        "classes_covered": int(sum(s >= thr and s > 0 for s in shares)),
        "num_classes": k,
        "coverage_threshold": thr,
    }
    if real_logits is not None:
        real = class_shares(real_logits, k)
        out["real_class_shares"] = real
        out["class_share_tv"] = 0.5 * float(
            sum(abs(a - b) for a, b in zip(shares, real, strict=True))
        )
    return out
