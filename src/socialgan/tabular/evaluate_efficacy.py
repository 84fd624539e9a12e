"""ML efficacy: is a classifier trained on synthetic rows as good on real rows as one trained
on real rows? (Xu et al. 2019's protocol, as ``benchmarks/tabular.py`` runs it on Adult.)

:func:`efficacy` fits a tuned gradient-boosting classifier (scikit-learn
``HistGradientBoosting``, native categories, learning rate and leaves tuned by 3-fold CV
AUC) and a tuned logistic regression (one-hot + scaling, C tuned by 3-fold CV) on one table
and scores both on real held-out rows: F1 of the positive class at 0.5 and ROC AUC; the
headline ``f1`` is the mean of the two. Run it on the synthetic rows and on the real
training rows to read the gap.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from socialgan.errors import DataError

__all__ = ["efficacy", "positive_class"]


def positive_class(labels: pd.Series) -> Any:
    """The class whose F1 is reported: 1 (or True) for a 0/1 (boolean) label, otherwise the
    rarest class (ties: the first by text); a label of more classes is one-vs-rest."""
    counts = labels.dropna().value_counts()
    if counts.empty:
        raise DataError(f"label column {labels.name!r} has no values")
    values = set(counts.index)
    if values <= {0, 1} and 1 in values:  # True == 1 as well
        return next(v for v in values if v == 1)
    return min(counts.index, key=lambda v: (counts[v], str(v)))


def _plain_number(series: pd.Series) -> bool:
    dtype = series.dtype
    return isinstance(dtype, np.dtype) and dtype.kind in "iuf"


def _is_number(series: pd.Series) -> bool:
    return ptypes.is_numeric_dtype(series.dtype) or ptypes.is_datetime64_any_dtype(series.dtype)


def _xy(
    frame: pd.DataFrame, cats: list[str], label: str, positive: Any
) -> tuple[pd.DataFrame, np.ndarray]:
    """Features (categories as text; booleans and dates as numbers) and the 0/1 target."""
    x = frame.drop(columns=[label]).copy()
    for c in cats:
        x[c] = x[c].astype(str)
    for c in x.columns:
        if c not in cats and not _plain_number(x[c]):
            values = x[c]
            if ptypes.is_datetime64_any_dtype(values.dtype):
                values = (values - pd.Timestamp(0)) / pd.Timedelta(days=1)
            x[c] = values.to_numpy(dtype=float, na_value=np.nan)
    target = frame[label].astype(str).str.rstrip(".") == str(positive)
    return x, target.to_numpy(dtype=int)


def efficacy(
    train: pd.DataFrame,
    test: pd.DataFrame,
    seed: int = 0,
    quick: bool = False,
    *,
    label: str,
    positive: Any,
) -> dict[str, Any]:
    """F1 and AUC on the real ``test`` rows of a tuned GBM and a tuned logistic regression
    trained on ``train`` (real or synthetic).

    Args:
        train: the rows to learn from; its columns are ``test``'s.
        test: real held-out rows with both classes.
        seed: the GBM's seed.
        quick: one grid point per model (a smoke run).
        label: the target column; ``positive``: its positive class (compared as text,
            a trailing dot dropped: Adult's test file writes ``>50K.``).

    Returns:
        ``{"gbm": {"f1", "auc", "params"}, "lr": {...}, "f1": mean F1}``; when ``train``
        holds one class only, F1 0 and AUC 0.5 (nothing to learn).
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score, roc_auc_score
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    cats = [c for c in test.columns if c != label and not _is_number(test[c])]
    nums = [c for c in test.columns if c != label and c not in cats]
    x, y = _xy(train, cats, label, positive)
    xt, yt = _xy(test, cats, label, positive)
    if len(set(yt)) < 2:
        raise DataError(
            f"efficacy: the held-out rows hold one class of {label!r} only; "
            "the F1 and AUC need both"
        )
    if len(set(y)) < 2:  # a synthesizer that never writes one class: nothing to learn
        return {"gbm": {"f1": 0.0, "auc": 0.5}, "lr": {"f1": 0.0, "auc": 0.5}, "f1": 0.0}
    ordinal = ColumnTransformer(
        [("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), cats)],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    gbm = make_pipeline(
        ordinal,
        HistGradientBoostingClassifier(
            categorical_features=list(range(len(cats))), random_state=seed
        ),
    )
    onehot = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=5), cats),
            # the imputer changes nothing in a table without gaps (Adult)
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), nums),
        ]
    )
    lr = make_pipeline(onehot, LogisticRegression(max_iter=2000))
    grids: dict[str, tuple[Any, dict[str, list[Any]]]] = {
        "gbm": (
            gbm,
            {
                "histgradientboostingclassifier__learning_rate": [0.05, 0.1],
                "histgradientboostingclassifier__max_leaf_nodes": [15, 31, 63],
            },
        ),
        "lr": (lr, {"logisticregression__C": [0.1, 1.0, 10.0]}),
    }
    out: dict[str, Any] = {}
    for name, (model, grid) in grids.items():
        if quick:
            grid = {k: v[:1] for k, v in grid.items()}
        search = GridSearchCV(model, grid, cv=3, scoring="roc_auc").fit(x, y)
        p = search.predict_proba(xt)[:, 1]
        out[name] = {
            "f1": float(f1_score(yt, p >= 0.5)),
            "auc": float(roc_auc_score(yt, p)),
            "params": {k.split("__")[1]: v for k, v in search.best_params_.items()},
        }
    out["f1"] = (out["gbm"]["f1"] + out["lr"]["f1"]) / 2
    return out
