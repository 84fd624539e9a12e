"""NB-SVM (Wang and Manning, ACL 2012): a linear SVM on features scaled by naive Bayes
log-count ratios. A strong baseline for short texts; still one linear model per class in the
original feature space (``coef_ = svm_coef * r``), so it persists like a plain SVM."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import LinearSVC

__all__ = ["NBSVMClassifier", "log_count_ratio"]


def log_count_ratio(X: sp.spmatrix, positive: np.ndarray, alpha: float) -> np.ndarray:
    """``r = log((p / |p|_1) / (q / |q|_1))`` with ``p, q`` the smoothed feature sums of the
    positive and negative rows; columns with negative values (standardized numbers) keep
    ``r = 1``, since the ratio is defined for counts only."""
    signed = np.asarray(X.min(axis=0).todense()).ravel() < 0
    Xc = sp.csr_matrix(X, copy=True)
    Xc.data = np.abs(Xc.data)
    p = alpha + np.asarray(Xc[positive].sum(axis=0)).ravel()
    q = alpha + np.asarray(Xc[~positive].sum(axis=0)).ravel()
    r = np.log(p / p.sum()) - np.log(q / q.sum())
    r[signed] = 1.0
    return r


class NBSVMClassifier(ClassifierMixin, BaseEstimator):
    """Binary or one-vs-rest NB-SVM; ``decision_function`` like ``LinearSVC``.

    Args:
        C: SVM regularization. Default 1.0.
        alpha: naive Bayes smoothing. Default 1.0.
        class_weight: ``None`` or ``"balanced"``.
        random_state: seed of the SVM solver. Default 0.
    """

    def __init__(
        self,
        C: float = 1.0,
        alpha: float = 1.0,
        class_weight: str | None = None,
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.alpha = alpha
        self.class_weight = class_weight
        self.random_state = random_state

    def _fit_binary(self, X: sp.csr_matrix, positive: np.ndarray) -> tuple[np.ndarray, float]:
        r = log_count_ratio(X, positive, self.alpha)
        svm = LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)
        svm.fit(sp.csr_matrix(X.multiply(r[None, :])), positive.astype(np.int64))
        return svm.coef_.ravel() * r, float(svm.intercept_[0])

    def fit(self, X, y) -> NBSVMClassifier:
        X = sp.csr_matrix(X, dtype=np.float64)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError("NB-SVM needs at least 2 classes")
        targets = self.classes_[1:] if len(self.classes_) == 2 else self.classes_
        fitted = [self._fit_binary(X, y == c) for c in targets]
        self.coef_ = np.array([w for w, _ in fitted])
        self.intercept_ = np.array([b for _, b in fitted])
        self.n_features_in_ = X.shape[1]
        return self

    def decision_function(self, X) -> np.ndarray:
        scores = np.asarray(X @ self.coef_.T) + self.intercept_
        return scores.ravel() if len(self.classes_) == 2 else scores

    def predict(self, X) -> np.ndarray:
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(np.int64)]
        return self.classes_[scores.argmax(axis=1)]
