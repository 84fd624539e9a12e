"""``AccountDetector``: a fake-account / bot detector for any account table.

Account features (:class:`~socialgan.tabular.features.AccountFeatures`: counts, flags,
account age, follower / activity ratios, screen-name patterns, profile and status text,
categories) and one of two classifiers:

- ``"gbm"``: LightGBM gradient-boosted trees (``lightgbm.LGBMClassifier``), deterministic
  for a seed; saved in LightGBM's own text model format (``lightgbm.txt``), which is
  parsed, never unpickled;
- ``"mlp"``: a small PyTorch MLP on the standardized features, early-stopped on a
  validation split of the training rows (:mod:`~socialgan.tabular.detect_mlp`); weights in
  ``model.safetensors``.

It follows the detector contract of ``docs/DETECTORS.md`` (:class:`socialgan.detector.Detector`):
scikit-learn shaped ``fit`` / ``predict_proba`` / ``decision_function`` / ``predict``, a
stored ``threshold`` with ``calibrate_threshold``, ``save_pretrained`` / ``from_pretrained``
(:mod:`~socialgan.tabular.detect_io`), and ``moderate`` giving the moderation-API records
of the text and image detectors, category ``bot``.

Example:
    >>> import socialgan
    >>> from socialgan.tabular import AccountDetector, load_twitter_bots
    >>> from socialgan.tabular.detect import cross_validate
    >>> table = load_twitter_bots()  # doctest: +SKIP
    >>> det = AccountDetector("gbm").fit(table)  # y = table["bot"]  # doctest: +SKIP
    >>> det.predict_proba(table.head())[:, 1]  # p(bot)  # doctest: +SKIP
    >>> det.save_pretrained("models/bots", metrics=cross_validate(det, table))  # doctest: +SKIP
    >>> socialgan.load("models/bots").moderate(table.head(2))  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from socialgan.checks import check_choice, check_int, check_number
from socialgan.detector import DEFAULT_THRESHOLD, check_threshold, fpr_threshold
from socialgan.errors import DataError
from socialgan.tabular.detect_mlp import MLPSettings, fit_mlp, mlp_logits, standardizer
from socialgan.tabular.features import AccountFeatures

__all__ = ["CATEGORY", "MODEL_TYPE", "AccountDetector", "cross_validate"]

MODEL_TYPE = "socialgan.tabular.AccountDetector"
#: The moderation category of an account detector.
CATEGORY = "bot"
MODELS = ("gbm", "mlp")


class AccountDetector(ClassifierMixin, BaseEstimator):
    """Bot / fake-account detector on a table of account profiles.

    Args:
        model: ``"gbm"`` (LightGBM) or ``"mlp"`` (PyTorch MLP). Default gbm.
        label_column: the label column; ``fit(frame)`` reads it, and it is never a feature.
            Default ``"bot"``.
        positive_label: the label of the flagged class (bots); every other label is the
            negative class. Matched as a string too (``"1"`` for ``1``). Default 1.
        threshold: p(bot) at or above which ``predict`` flags (see
            :meth:`calibrate_threshold`). Default 0.5.
        seed: seeds LightGBM's bagging or the MLP's init, split and batches. Default 0.
        class_weight: ``None`` or ``"balanced"`` (weights ``n / (2 n_class)`` in the loss).
        exclude: columns never used as features (ids, leaky columns).
        column_kinds: ``{column: kind}`` overriding the inferred kinds.
        hash_features: columns of the hashed TF-IDF of description + status; 0 (the
            default) leaves it out (see :mod:`~socialgan.tabular.features`).
        n_estimators, learning_rate, num_leaves, min_child_samples, colsample_bytree: the
            trees (gbm). Defaults 300, 0.05, 15, 10, 0.5.
        n_jobs: LightGBM threads. Default 1.
        hidden_sizes, dropout, epochs, batch_size, lr, weight_decay, patience,
            validation_fraction: the MLP and its training (mlp); see
            :class:`~socialgan.tabular.detect_mlp.MLPSettings`.

    After ``fit``: ``classes_`` (``[negative, positive]``), ``features_`` and
    ``booster_`` (gbm) or ``net_``, ``mean_``, ``std_`` and ``training_`` (mlp).
    """

    model_type: ClassVar[str] = MODEL_TYPE

    def __init__(
        self,
        model: str = "gbm",
        *,
        label_column: str = "bot",
        positive_label: Any = 1,
        threshold: float = DEFAULT_THRESHOLD,
        seed: int = 0,
        class_weight: str | None = None,
        exclude: Sequence[str] = (),
        column_kinds: Mapping[str, str] | None = None,
        hash_features: int = 0,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 10,
        colsample_bytree: float = 0.5,
        n_jobs: int = 1,
        hidden_sizes: Sequence[int] = (128, 64),
        dropout: float = 0.2,
        epochs: int = 200,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        patience: int = 20,
        validation_fraction: float = 0.15,
    ) -> None:
        self.model = model
        self.label_column = label_column
        self.positive_label = positive_label
        self.threshold = threshold
        self.seed = seed
        self.class_weight = class_weight
        self.exclude = exclude
        self.column_kinds = column_kinds
        self.hash_features = hash_features
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.colsample_bytree = colsample_bytree
        self.n_jobs = n_jobs
        self.hidden_sizes = hidden_sizes
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.validation_fraction = validation_fraction

    # ------------------------------------------------------------------ training

    def fit(self, X: pd.DataFrame, y: Any = None) -> AccountDetector:
        """Learn from the account table ``X`` and labels ``y`` (default
        ``X[label_column]``). ``DataError`` for an empty table, no label column, labels
        of one class (or more than two), a missing label, or a bad value in a column."""
        self._check_params()
        frame = _frame(X, "fit")
        y01, self.classes_ = self._labels(frame, y)
        self.features_ = AccountFeatures(
            exclude=[*self.exclude, self.label_column],
            column_kinds=self.column_kinds,
            hash_features=self.hash_features,
        )
        features = self.features_.fit_transform(frame)
        if self.model == "gbm":
            self._fit_gbm(features, y01)
        else:
            self._fit_mlp(features, y01)
        self.name_ = f"socialgan-accounts-{self.model}"
        self.metrics_: dict[str, Any] = {}
        return self

    def _fit_gbm(self, X: np.ndarray, y: np.ndarray) -> None:
        from socialgan.tabular.detect_io import lightgbm_module

        lightgbm = lightgbm_module()
        clf = lightgbm.LGBMClassifier(
            objective="binary",
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=self.colsample_bytree,
            reg_lambda=1.0,
            class_weight=self.class_weight,
            random_state=self.seed,
            n_jobs=self.n_jobs,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )
        clf.fit(X, y, feature_name=_lightgbm_names(self.features_.feature_names_))
        self.booster_ = clf.booster_

    def _fit_mlp(self, X: np.ndarray, y: np.ndarray) -> None:
        self.mean_, self.std_ = standardizer(X, self.features_.text_columns())
        weights = np.ones(len(y))
        if self.class_weight == "balanced":
            counts = np.bincount(y, minlength=2)
            weights = (len(y) / (2.0 * counts))[y]
        settings = MLPSettings(
            hidden_sizes=tuple(int(h) for h in self.hidden_sizes),
            dropout=self.dropout,
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            patience=self.patience,
            validation_fraction=self.validation_fraction,
        )
        scaled = (X - self.mean_) / self.std_
        self.net_, self.training_ = fit_mlp(scaled, y, weights, settings, self.seed)

    def _check_params(self) -> None:
        check_choice("model", self.model, MODELS)
        if self.class_weight not in (None, "balanced"):
            raise DataError(f"class_weight: expected None or 'balanced', got {self.class_weight!r}")
        check_threshold(self.threshold)
        for name in ("n_estimators", "num_leaves", "min_child_samples", "n_jobs", "epochs"):
            check_int(name, getattr(self, name), minimum=1)
        check_int("batch_size", self.batch_size, minimum=1)
        check_int("patience", self.patience, minimum=1)
        check_number("learning_rate", self.learning_rate, minimum=0, open_min=True)
        check_number("lr", self.lr, minimum=0, open_min=True)
        check_number("dropout", self.dropout, minimum=0, maximum=1, open_max=True)
        check_number("colsample_bytree", self.colsample_bytree, minimum=0, maximum=1, open_min=True)
        check_number("validation_fraction", self.validation_fraction, minimum=0, maximum=0.5)

    def _labels(self, frame: pd.DataFrame, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(0/1 labels, classes_ = [negative, positive])``; ``DataError`` for bad labels."""
        if y is None:
            if self.label_column not in frame.columns:
                raise DataError(
                    f"the table has no label column {self.label_column!r} (columns: "
                    f"{', '.join(map(str, frame.columns))}); pass label_column= or y="
                )
            values, where = frame[self.label_column].reset_index(drop=True), self.label_column
        else:
            values = pd.Series(np.asarray(y, dtype=object).ravel(), dtype=object)
            where = "y"
            if len(values) != len(frame):
                raise DataError(f"y has {len(values)} labels for {len(frame)} rows")
        gaps = np.flatnonzero(values.isna().to_numpy())
        if len(gaps):
            raise DataError(f"label {where!r}: row {gaps[0] + 1} has no label")
        distinct = list(pd.unique(values))
        if len(distinct) < 2:
            raise DataError(
                f"label {where!r} holds one class only ({_plain(distinct[0])!r}); a detector needs "
                "accounts of both classes (bots and genuine accounts)"
            )
        positive = (values == self.positive_label).to_numpy(bool)
        if not positive.any():
            positive = (
                values.astype(str).str.strip() == str(self.positive_label).strip()
            ).to_numpy()
        if not positive.any():
            raise DataError(
                f"label {where!r}: positive_label {self.positive_label!r} is not among the "
                f"labels {[_plain(v) for v in distinct]}"
            )
        negatives = list(pd.unique(values[~positive]))
        if len(negatives) != 1:
            raise DataError(
                f"label {where!r} holds {len(distinct)} labels "
                f"{[_plain(v) for v in distinct]}; AccountDetector is binary: "
                f"{self.positive_label!r} against one other label"
            )
        classes = np.asarray([negatives[0], values[positive].iloc[0]])
        return positive.astype(np.int64), classes

    # ------------------------------------------------------------------ scoring

    def _check_fitted(self) -> None:
        if not hasattr(self, "features_"):
            raise ValueError("AccountDetector is not fitted yet; call fit first")

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """``(N,)`` log-odds of the positive class (larger = more bot-like)."""
        self._check_fitted()
        features = self.features_.transform(_frame(X, "input"), source="input")
        if self.model == "gbm":
            raw = self.booster_.predict(features, raw_score=True, num_threads=self.n_jobs)
            return np.asarray(raw, dtype=np.float64)
        return mlp_logits(self.net_, (features - self.mean_) / self.std_)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """``(N, 2)`` probabilities in the order of ``classes_`` (column 1: p(bot))."""
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def category_score(self, X: pd.DataFrame) -> np.ndarray:
        """``(N,)`` p(bot): the moderation score."""
        return self.predict_proba(X)[:, 1]

    def predict(self, X: pd.DataFrame, threshold: float | None = None) -> np.ndarray:
        """``classes_[1]`` where p(bot) ``>= threshold`` (default: the stored one)."""
        self._check_fitted()
        t = self.threshold if threshold is None else check_threshold(threshold)
        return self.classes_[(self.category_score(X) >= t).astype(np.int64)]

    def calibrate_threshold(self, X: pd.DataFrame, target_fpr: float = 0.05) -> AccountDetector:
        """Set :attr:`threshold` so that at most ``target_fpr`` of ``X``, held-out genuine
        accounts, is flagged; the rate achieved is in ``calibration_``."""
        self.threshold, achieved = fpr_threshold(self.category_score(X), target_fpr)
        self.calibration_ = {"target_fpr": float(target_fpr), "fpr": achieved, "n": len(X)}
        return self

    def moderate(self, X: pd.DataFrame, threshold: float | None = None) -> list[dict[str, Any]]:
        """One moderation record per row: ``{"flagged", "categories": {"bot": bool},
        "category_scores": {"bot": p}, "model", "thresholds": {"bot": t}}``."""
        from socialgan.text.detect.moderation import moderate

        self._check_fitted()
        return moderate(X, {CATEGORY: self}, threshold, model=self.name_)

    def feature_importance(self) -> pd.Series:
        """gbm: the total split gain of each feature, largest first."""
        self._check_fitted()
        if self.model != "gbm":
            raise ValueError("feature_importance needs model='gbm'")
        gain = self.booster_.feature_importance(importance_type="gain")
        series = pd.Series(gain, index=self.features_.feature_names_, name="gain")
        return series.sort_values(ascending=False)

    # ------------------------------------------------------------------ files

    def save_pretrained(
        self,
        directory: str | Path,
        *,
        metrics: dict[str, Any] | None = None,
        data: str | None = None,
        name: str | None = None,
    ) -> Path:
        """Write ``config.json`` (settings, features' state, threshold, metrics), the model
        (``lightgbm.txt`` for gbm, ``model.safetensors`` for mlp) and a ``README.md`` model
        card to ``directory``; returns it."""
        from socialgan.tabular.detect_io import save_detector

        self._check_fitted()
        return save_detector(self, Path(directory), metrics=metrics, data=data, name=name)

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> AccountDetector:
        """Read a folder written by :meth:`save_pretrained` (JSON, LightGBM's text model
        format and safetensors only; never a pickle)."""
        from socialgan.tabular.detect_io import load_detector

        det: AccountDetector = load_detector(cls, Path(directory))
        return det


def cross_validate(
    detector: AccountDetector,
    frame: pd.DataFrame,
    y: Any = None,
    *,
    folds: int = 5,
    seed: int = 0,
    progress: bool | None = False,
) -> dict[str, Any]:
    """Stratified ``folds``-fold CV of a copy of ``detector`` (unfitted settings) on
    ``frame``: mean and std over folds of accuracy and F1 (positive class, at the
    detector's threshold) and ROC AUC, as ``cv_*`` metrics for a model card. ``progress``:
    a bar over folds (``None``: only on a terminal)."""
    folds = check_int("folds", folds, minimum=2)
    frame = _frame(frame, "cross_validate")
    labels, _ = detector._labels(frame, y)
    if np.bincount(labels, minlength=2).min() < folds:
        raise DataError(f"{folds}-fold CV needs at least {folds} rows of each class")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores: dict[str, list[float]] = {"accuracy": [], "f1": [], "roc_auc": []}
    splits = splitter.split(np.zeros(len(labels)), labels)
    if progress is not False:
        from tqdm import tqdm

        splits = tqdm(
            splits, total=folds, desc="cv", unit="fold", disable=None if progress is None else False
        )
    for train, test in splits:
        y_train = None if y is None else np.asarray(y, dtype=object)[train]
        det = clone(detector).fit(frame.iloc[train], y_train)
        p = det.category_score(frame.iloc[test])
        flagged = (p >= det.threshold).astype(np.int64)
        scores["accuracy"].append(accuracy_score(labels[test], flagged))
        scores["f1"].append(f1_score(labels[test], flagged, zero_division=0.0))
        scores["roc_auc"].append(roc_auc_score(labels[test], p))
    out: dict[str, Any] = {"cv_folds": folds, "cv_seed": seed}
    for key, values in scores.items():
        out[f"cv_{key}"] = float(np.mean(values))
        out[f"cv_{key}_std"] = float(np.std(values))
    return out


def _frame(X: Any, where: str) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        raise DataError(f"{where}: expected a pandas DataFrame of accounts, got {type(X).__name__}")
    if len(X) == 0:
        raise DataError(f"{where}: the table has no rows")
    return X


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _lightgbm_names(names: Sequence[str]) -> list[str]:
    """Feature names LightGBM accepts (no JSON punctuation), unique by their index."""
    return [f"f{i}_{re.sub(r'[^0-9A-Za-z_]+', '_', n)}"[:120] for i, n in enumerate(names)]
