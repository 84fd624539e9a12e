"""The linear classifier of the classic detector as plain float arrays, scored with numpy.

Fitted scikit-learn estimators are converted to a :class:`LinearHead` right after training,
and the detector always predicts through it, so a model saved as safetensors and loaded back
scores exactly like the one that was trained (no pickles anywhere).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, softmax
from sklearn.calibration import CalibratedClassifierCV

__all__ = ["HEAD_KINDS", "LinearHead"]

#: ``sigmoid``: one-vs-rest decision values through Platt sigmoids (scikit-learn's
#: ``CalibratedClassifierCV(method="sigmoid")``); ``logistic``: logistic regression
#: probabilities (binary expit, multi-class softmax); ``raw``: expit of the SVM decision
#: values normalized over classes (not calibrated).
HEAD_KINDS = ("sigmoid", "logistic", "raw")


@dataclass
class LinearHead:
    """``M`` linear models averaged: ``coef (M, n_out, F)``, ``intercept (M, n_out)``.

    ``n_out`` is 1 for a binary problem (the decision value of the positive class) and
    ``n_classes`` otherwise. ``sigmoid_a/b (M, n_out)`` are the Platt parameters
    (``p = 1 / (1 + exp(a * d + b))``) for kind ``sigmoid``.
    """

    kind: str
    n_classes: int
    coef: np.ndarray
    intercept: np.ndarray
    sigmoid_a: np.ndarray | None = None
    sigmoid_b: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.kind not in HEAD_KINDS:
            raise ValueError(f"head kind must be one of {HEAD_KINDS}, not {self.kind!r}")
        n_out = 1 if self.n_classes == 2 else self.n_classes
        if self.coef.ndim != 3 or self.coef.shape[1] != n_out:
            raise ValueError(f"coef must be (M, {n_out}, F), found {self.coef.shape}")
        if self.intercept.shape != self.coef.shape[:2]:
            raise ValueError(
                f"intercept must be {self.coef.shape[:2]}, found {self.intercept.shape}"
            )
        if self.kind == "sigmoid" and (
            self.sigmoid_a is None
            or self.sigmoid_b is None
            or self.sigmoid_a.shape != self.intercept.shape
            or self.sigmoid_b.shape != self.intercept.shape
        ):
            raise ValueError(f"sigmoid head needs sigmoid_a/b shaped {self.intercept.shape}")

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[2])

    def decision_function(self, X, m: int = 0) -> np.ndarray:
        """Decision values ``(N, n_out)`` of model ``m`` for a feature matrix ``X (N, F)``."""
        return np.asarray(X @ self.coef[m].T) + self.intercept[m]

    def _proba_one(self, d: np.ndarray, m: int) -> np.ndarray:
        k = self.n_classes
        if self.kind == "logistic":
            if k == 2:
                p = expit(d[:, 0])
                return np.stack([1 - p, p], axis=1)
            return softmax(d, axis=1)
        if self.kind == "sigmoid":
            assert self.sigmoid_a is not None and self.sigmoid_b is not None
            scores = expit(-(self.sigmoid_a[m] * d + self.sigmoid_b[m]))
        else:
            scores = expit(d)
        if k == 2:
            return np.stack([1 - scores[:, 0], scores[:, 0]], axis=1)
        total = scores.sum(axis=1, keepdims=True)
        uniform = np.full_like(scores, 1 / k)
        return np.divide(scores, total, out=uniform, where=total != 0)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(N, n_classes)``: the mean over the ``M`` models."""
        proba = np.zeros((X.shape[0], self.n_classes), dtype=np.float64)
        for m in range(self.coef.shape[0]):
            proba += self._proba_one(self.decision_function(X, m), m)
        proba /= self.coef.shape[0]
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba

    @classmethod
    def from_sklearn(cls, estimator, n_classes: int) -> LinearHead:
        """Convert a fitted ``CalibratedClassifierCV`` (sigmoid), ``LogisticRegression`` or
        ``LinearSVC`` (kind ``raw``) whose classes are ``0 .. n_classes - 1``."""
        if isinstance(estimator, CalibratedClassifierCV):
            if estimator.method != "sigmoid":
                raise ValueError("only sigmoid calibration can be exported")
            coefs, intercepts, a, b = [], [], [], []
            for cc in estimator.calibrated_classifiers_:
                inner = cc.estimator
                if len(inner.classes_) != n_classes:
                    raise ValueError("a calibration fold missed a class; use fewer folds")
                coefs.append(np.atleast_2d(inner.coef_))
                intercepts.append(np.atleast_1d(inner.intercept_))
                a.append([float(c.a_) for c in cc.calibrators])
                b.append([float(c.b_) for c in cc.calibrators])
            return cls(
                "sigmoid",
                n_classes,
                np.asarray(coefs, dtype=np.float64),
                np.asarray(intercepts, dtype=np.float64),
                np.asarray(a, dtype=np.float64),
                np.asarray(b, dtype=np.float64),
            )
        kind = "logistic" if hasattr(estimator, "predict_proba") else "raw"
        coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=np.float64))[None]
        intercept = np.atleast_1d(np.asarray(estimator.intercept_, dtype=np.float64))[None]
        return cls(kind, n_classes, coef, intercept)

    def arrays(self) -> dict[str, np.ndarray]:
        """Float tensors for safetensors."""
        out = {"head.coef": self.coef, "head.intercept": self.intercept}
        if self.sigmoid_a is not None and self.sigmoid_b is not None:
            out.update({"head.sigmoid_a": self.sigmoid_a, "head.sigmoid_b": self.sigmoid_b})
        return {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in out.items()}

    @classmethod
    def from_arrays(cls, kind: str, n_classes: int, arrays: dict[str, np.ndarray]) -> LinearHead:
        return cls(
            kind,
            n_classes,
            arrays["head.coef"],
            arrays["head.intercept"],
            arrays.get("head.sigmoid_a"),
            arrays.get("head.sigmoid_b"),
        )
