"""Privacy: do the synthetic rows give the training rows away?

:func:`privacy` works on a common encoding (numbers and dates min-max scaled by the training
range, categories one-hot over the training values, missing numbers at 0) and measures:

- DCR, the distance from each synthetic row to its closest training row, beside the same
  for real held-out rows: a synthesizer that copies has a far smaller DCR than rows it never
  saw, one that generalizes about the same;
- the share of exact copies (DCR 0), beside the share of held-out rows that are also in the
  training table (duplicates the data already has);
- a distance membership attack: training rows (members) and held-out rows (non-members)
  scored by minus their distance to the closest synthetic row, ROC AUC (0.5: the samples
  reveal no membership; 1: every member is recognized).

:func:`privacy_warnings` turns the numbers into sentences a user can act on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = ["privacy", "privacy_warnings"]

ROWS = 2000  # rows of each kind scored (the nearest-neighbour searches are O(n^2))


def _numbers(series: pd.Series) -> np.ndarray:
    if ptypes.is_datetime64_any_dtype(series.dtype):
        return ((series - pd.Timestamp(0)) / pd.Timedelta(days=1)).to_numpy(
            dtype=float, na_value=np.nan
        )
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _encode(frames: list[pd.DataFrame], ref: pd.DataFrame) -> list[np.ndarray]:
    """Numbers (and dates) min-max scaled by ``ref``, categories one-hot over ``ref``'s
    values."""
    parts: list[list[np.ndarray]] = [[] for _ in frames]
    for c in ref.columns:
        kind = ref[c].dtype
        if ptypes.is_numeric_dtype(kind) or ptypes.is_datetime64_any_dtype(kind):
            ref_values = _numbers(ref[c])
            lo, hi = float(np.nanmin(ref_values)), float(np.nanmax(ref_values))
            for i, f in enumerate(frames):
                v = _numbers(f[c])
                parts[i].append(((v - lo) / (hi - lo or 1.0))[:, None])
        else:
            values = sorted(map(str, ref[c].unique()))
            for i, f in enumerate(frames):
                col = f[c].astype(str).to_numpy()
                parts[i].append((col[:, None] == np.array(values)[None, :]).astype(float))
    return [np.nan_to_num(np.concatenate(p, axis=1)) for p in parts]


def privacy(
    train: pd.DataFrame, test: pd.DataFrame, synth: pd.DataFrame, seed: int = 0
) -> dict[str, float]:
    """DCR, exact copies and the membership-attack AUC (see the module docstring) on
    ``min(2000, len(synth), len(test), len(train))`` rows of each kind, drawn with ``seed``.

    Args:
        train: the rows the synthesizer was fitted on (the members).
        test: real rows it never saw (the non-members), same columns.
        synth: its samples, same columns.
        seed: seeds the row draws.

    Returns:
        ``dcr_synthetic_median``, ``dcr_holdout_median``, ``exact_copies``,
        ``holdout_exact_in_train`` and ``membership_auc``.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(seed)
    k = min(ROWS, len(synth), len(test), len(train))
    tr, te, sy = _encode([train, test, synth], train)
    nn_train = NearestNeighbors(n_neighbors=1).fit(tr)
    d_syn = nn_train.kneighbors(sy[rng.choice(len(sy), k, replace=False)])[0][:, 0]
    d_hold = nn_train.kneighbors(te[rng.choice(len(te), k, replace=False)])[0][:, 0]
    nn_syn = NearestNeighbors(n_neighbors=1).fit(sy)
    members = tr[rng.choice(len(tr), k, replace=False)]
    others = te[rng.choice(len(te), k, replace=False)]
    score = -nn_syn.kneighbors(np.concatenate([members, others]))[0][:, 0]
    return {
        "dcr_synthetic_median": float(np.median(d_syn)),
        "dcr_holdout_median": float(np.median(d_hold)),
        "exact_copies": float((d_syn < 1e-9).mean()),
        "holdout_exact_in_train": float((d_hold < 1e-9).mean()),
        "membership_auc": float(roc_auc_score(np.r_[np.ones(k), np.zeros(k)], score)),
    }


def privacy_warnings(result: dict[str, Any]) -> list[str]:
    """Plain-language flags for a :func:`privacy` result; empty when nothing stands out.

    Flagged: exact copies beyond the duplicates the real data already has (by more than one
    point), a median DCR under half the held-out rows', a membership AUC above 0.6.
    """
    out = []
    copies, base = result["exact_copies"], result["holdout_exact_in_train"]
    if copies > base + 0.01:
        out.append(
            f"{copies:.1%} of the synthetic rows are exact copies of training rows "
            f"(held-out real rows: {base:.1%}): the model memorizes"
        )
    syn, hold = result["dcr_synthetic_median"], result["dcr_holdout_median"]
    if syn < 0.5 * hold:
        out.append(
            f"synthetic rows lie closer to the training rows than unseen real rows do "
            f"(median distance {syn:.3f} vs {hold:.3f})"
        )
    if result["membership_auc"] > 0.6:
        out.append(
            f"a distance attack tells training rows from unseen ones "
            f"(membership AUC {result['membership_auc']:.3f}; 0.5 is no leak)"
        )
    return out
