"""``StackedDetector``: a statement model and a metadata model, combined by stacking.

Concatenating a sparse one-hot metadata block (speaker, party, subject ...) to thousands of
TF-IDF columns makes one regularization strength serve two very different blocks: at full
weight the metadata swamps the text, down-weighted it is under-used. Stacked generalization
(Wolpert 1992) fits each block its own logistic regression and learns how much to trust
each from their *out-of-fold* class probabilities, so the combiner never sees a base
model's guesses on its own training rows.

Example:
    >>> import socialgan
    >>> from socialgan.text import StackedDetector, load_named
    >>> train = load_named("liar:train")
    >>> det = StackedDetector(meta_columns=["speaker", "party", "subject"]).fit(train)
    >>> det.predict_proba(load_named("liar:test")).shape  # (1283, 6)
    >>> det.save_pretrained("models/liar")  # text/ and meta/ sub-models + the combiner
    >>> socialgan.load("models/liar").predict(load_named("liar:valid"))
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from safetensors.numpy import load_file, save_file
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from socialgan.errors import DataError
from socialgan.model_selection import lowest_log_loss, out_of_fold_proba
from socialgan.text.data import TextDataset
from socialgan.text.detect.classic import TfidfDetector
from socialgan.text.detect.detector_api import TextDetectorMixin, encode_labels, training_labels
from socialgan.text.detect.linear_head import LinearHead
from socialgan.text.detect.model_card import TFIDF_LIMITS, write_card
from socialgan.text.detect.persistence import SavesPretrained, read_pretrained, restore_common

__all__ = ["StackedDetector"]

_EPS = 1e-6

#: Defaults of the statement model: word uni+bigrams, multinomial logistic regression.
TEXT_DEFAULTS: dict[str, Any] = {
    "model": "logreg",
    "calibration": "none",
    "word_ngrams": (1, 2),
    "char_ngrams": None,
    "style_weight": 0.0,
    "C": 1.0,
}
#: Defaults of the metadata model: only the metadata block, logistic regression.
META_DEFAULTS: dict[str, Any] = {
    "model": "logreg",
    "calibration": "none",
    "word_ngrams": None,
    "char_ngrams": None,
    "style_weight": 0.0,
    "C": 0.1,
}


def _take(X: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of a list of texts, a ``DataFrame`` or a :class:`TextDataset`."""
    if isinstance(X, TextDataset):
        return X.subset(idx)
    if isinstance(X, pd.DataFrame):
        return X.iloc[idx].reset_index(drop=True)
    return [X[i] for i in idx]


def _log(proba: np.ndarray) -> np.ndarray:
    return np.log(np.clip(proba, _EPS, 1.0))


def _n_rows(X: Any) -> int:
    if isinstance(X, (str, bytes)):
        raise DataError("expected a list of texts, got a single string (wrap it in a list)")
    return len(X)


class StackedDetector(TextDetectorMixin, SavesPretrained, ClassifierMixin, BaseEstimator):
    """Statement TF-IDF model + metadata model, combined by a logistic regression on their
    out-of-fold log-probabilities.

    Args:
        meta_columns: metadata columns of the metadata model (X must then be a
            ``DataFrame`` or :class:`TextDataset`). Required.
        text_params: :class:`TfidfDetector` arguments of the statement model, over
            :data:`TEXT_DEFAULTS` (word 1-2-grams, logistic regression, C=1). A list ``C``
            is chosen by out-of-fold log-loss (the same ``cv`` folds that feed the combiner).
        meta_params: :class:`TfidfDetector` arguments of the metadata model, over
            :data:`META_DEFAULTS` (the metadata block only, logistic regression, C=0.1).
        combiner_C: inverse regularization of the combiner, or candidates chosen by
            ``cv``-fold log-loss on the out-of-fold features. Default 1.0.
        cv: folds of the out-of-fold base-model probabilities. Default 5.
        positive_labels: label names flagged in moderation (``None``: the last class of a
            binary problem).
        text_column: the text column when X is a ``DataFrame``. Default ``"text"``.
        random_state: seed of the folds. Default 0.

    Every choice uses log-loss, a proper scoring rule: with six noisy labels (LIAR) inner
    accuracies tie within a few texts, and the choice then flips with solver tolerance or
    BLAS thread count; log-loss separates the candidates smoothly.

    After ``fit``: ``text_model_`` and ``meta_model_`` (base models refitted on all the
    data), ``head_`` (the combiner), ``combiner_C_``, ``selection_scores_`` and
    ``selected_`` (every chosen C). ``threshold`` (attribute, default 0.5) is where a
    binary detector's ``predict`` flags; it is saved with the model.
    """

    model_type = "socialgan.text.StackedDetector"

    def __init__(
        self,
        meta_columns: Sequence[str] | None = None,
        text_params: dict[str, Any] | None = None,
        meta_params: dict[str, Any] | None = None,
        combiner_C: float | Sequence[float] = 1.0,
        cv: int = 5,
        positive_labels: Sequence[str] | None = None,
        text_column: str = "text",
        random_state: int = 0,
    ) -> None:
        self.meta_columns = meta_columns
        self.text_params = text_params
        self.meta_params = meta_params
        self.combiner_C = combiner_C
        self.cv = cv
        self.positive_labels = positive_labels
        self.text_column = text_column
        self.random_state = random_state

    # ----------------------------------------------------------------- base models
    def _base_params(self) -> tuple[dict[str, Any], dict[str, Any]]:
        if not self.meta_columns:
            raise ValueError("StackedDetector needs meta_columns (use TfidfDetector for text only)")
        common = {"text_column": self.text_column, "random_state": self.random_state}
        text = {**TEXT_DEFAULTS, **(self.text_params or {}), **common, "meta_columns": None}
        meta = {**META_DEFAULTS, **(self.meta_params or {}), **common}
        meta["meta_columns"] = list(self.meta_columns)
        text.pop("positive_labels", None)  # moderation is the stacked detector's job
        meta.pop("positive_labels", None)
        return text, meta

    def _full_proba(self, det: TfidfDetector, X: Any) -> np.ndarray:
        """``det``'s probabilities in the columns of ``classes_`` (a fold may miss a class)."""
        proba = np.full((_n_rows(X), len(self.classes_)), _EPS)
        proba[:, np.asarray(det.classes_, dtype=np.int64)] = det.predict_proba(X)
        return proba

    def _stack_features(self, X: Any, text: TfidfDetector, meta: TfidfDetector) -> np.ndarray:
        parts = [self._full_proba(text, X), self._full_proba(meta, X)]
        return _log(np.hstack(parts))

    def _oof_proba(
        self, X: Any, y: np.ndarray, params: dict[str, Any], folds: list[tuple[Any, Any]]
    ) -> np.ndarray:
        """Out-of-fold class probabilities ``(N, K)`` of a base model with ``params``."""

        def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
            det = TfidfDetector(**params).fit(_take(X, train), y[train])
            return self._full_proba(det, _take(X, test))

        return out_of_fold_proba(fit_predict, len(y), len(self.classes_), folds)

    def _lowest_log_loss(
        self, what: str, candidates: Any, y: np.ndarray, oof: Callable[[float], np.ndarray]
    ) -> tuple[float, np.ndarray]:
        """``(C, out-of-fold probabilities)`` of the candidate whose ``oof(C)`` has the
        lowest log-loss (ties: the smaller, more regularized C); every loss goes into
        ``selection_scores_`` as ``{what}_C={C}``."""
        cs = sorted(float(v) for v in np.atleast_1d(candidates))
        best, proba, losses = lowest_log_loss(cs, oof, y, len(self.classes_))
        self.selection_scores_.update({f"{what}_C={c:g}": v for c, v in losses.items()})
        return best, proba

    def _combiner(self, C: float) -> LogisticRegression:
        return LogisticRegression(C=C, max_iter=3000)

    def _select_combiner(self, features: np.ndarray, y: np.ndarray) -> float:
        """The combiner C with the lowest ``cv``-fold log-loss on the out-of-fold features."""
        if np.size(self.combiner_C) == 1:
            return float(np.ravel(self.combiner_C)[0])
        folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state + 1)

        def oof(c: float) -> np.ndarray:
            return cross_val_predict(
                self._combiner(c), features, y, cv=folds, method="predict_proba"
            )

        return self._lowest_log_loss("combiner", self.combiner_C, y, oof)[0]

    # ----------------------------------------------------------------- fit / predict
    def fit(
        self, X: Any, y: Any = None, *, label_names: Sequence[str] | None = None
    ) -> StackedDetector:
        """Out-of-fold probabilities of both base models (choosing each C), the combiner on
        them, then both base models refitted on all of X. ``X``: a :class:`TextDataset`
        (labels and names default to its own) or a ``DataFrame`` with the text and
        metadata columns."""
        y, label_names = training_labels(X, y, label_names)
        if len(y) != _n_rows(X):
            raise DataError(f"{len(y)} labels for {_n_rows(X)} texts")
        self.classes_, y_enc, self.label_names_ = encode_labels(y, label_names)
        min_count = int(np.bincount(y_enc).min())
        if not 2 <= self.cv <= min_count:
            raise DataError(f"cv must be between 2 and the smallest class count ({min_count})")
        text, meta = self._base_params()
        folds = list(
            StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state).split(
                np.zeros(len(y_enc)), y_enc
            )
        )
        self.selection_scores_: dict[str, float] = {}

        def oof(params: dict[str, Any]) -> Callable[[float], np.ndarray]:
            return lambda c: self._oof_proba(X, y_enc, {**params, "C": c}, folds)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            text["C"], text_oof = self._lowest_log_loss("text", text["C"], y_enc, oof(text))
            meta["C"], meta_oof = self._lowest_log_loss("meta", meta["C"], y_enc, oof(meta))
            features = _log(np.hstack([text_oof, meta_oof]))
            self.combiner_C_ = self._select_combiner(features, y_enc)
            combiner = self._combiner(self.combiner_C_).fit(features, y_enc)
        self.head_ = LinearHead.from_sklearn(combiner, len(self.classes_))
        self.text_model_ = TfidfDetector(**text).fit(X, y_enc)
        self.meta_model_ = TfidfDetector(**meta).fit(X, y_enc)
        self.selected_ = {"text_C": text["C"], "meta_C": meta["C"], "combiner_C": self.combiner_C_}
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "head_"):
            raise ValueError("this StackedDetector is not fitted: call fit() or from_pretrained()")

    def _stacked(self, X: Any) -> np.ndarray:
        """The combiner's input for ``X``: both base models' log-probabilities."""
        return self._stack_features(X, self.text_model_, self.meta_model_)

    def decision_function(self, X: Any) -> np.ndarray:
        """The combiner's linear scores: ``(N,)`` for a binary detector (larger = the
        positive class), ``(N, K)`` otherwise (scikit-learn's shape)."""
        self._check_fitted()
        features = self._stacked(X) if _n_rows(X) else np.zeros((0, self.head_.n_features))
        scores = self.head_.decision_function(features)
        return scores[:, 0] if len(self.classes_) == 2 else scores

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(N, K)`` in the order of ``classes_``."""
        self._check_fitted()
        if _n_rows(X) == 0:
            return np.zeros((0, len(self.classes_)))
        return self.head_.predict_proba(self._stacked(X))

    # ----------------------------------------------------------------- persistence
    def json_params(self) -> dict[str, Any]:
        """Hyperparameters as JSON-ready values (what ``config.json`` stores)."""
        return json.loads(json.dumps(self.get_params(), default=list))

    def _default_name(self) -> str:
        return "socialgan-stacked"

    def _write_pretrained(self, directory: Path, config: dict[str, Any]) -> None:
        """The base models in ``text/`` and ``meta/``, then the combiner and the card."""
        self.text_model_.save_pretrained(directory / "text", data=config["data"])
        self.meta_model_.save_pretrained(directory / "meta", data=config["data"])
        config.update(
            head={"kind": self.head_.kind, "n_classes": self.head_.n_classes},
            selected=self.selected_,
            selection_scores=self.selection_scores_,
        )
        save_file(self.head_.arrays(), str(directory / "model.safetensors"))
        (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
        model = (
            f"Stacking: a word n-gram TF-IDF logistic regression of the text "
            f"(C={self.text_model_.C_:g}) and a logistic regression of the metadata "
            f"{', '.join(self.meta_columns or [])} (C={self.meta_model_.C_:g}), combined by "
            f"a logistic regression (C={self.combiner_C_:g}) on their {self.cv}-fold "
            "out-of-fold log-probabilities. Base models in `text/` and `meta/`."
        )
        write_card(directory / "README.md", config, model, TFIDF_LIMITS)

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> StackedDetector:
        """Load a detector written by :meth:`save_pretrained` (JSON + safetensors only)."""
        directory = Path(directory)
        config, arrays = read_pretrained(directory, cls.model_type, load_file)
        try:
            det = cls(**config["params"])
            restore_common(det, config)
            det.head_ = LinearHead.from_arrays(
                config["head"]["kind"], config["head"]["n_classes"], arrays
            )
            det.combiner_C_ = float(config["selected"]["combiner_C"])
            det.selected_ = {k: float(v) for k, v in config["selected"].items()}
            det.selection_scores_ = dict(config.get("selection_scores") or {})
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(
                f"{directory}: incomplete or inconsistent saved detector ({e})"
            ) from None
        det.text_model_ = TfidfDetector.from_pretrained(directory / "text")
        det.meta_model_ = TfidfDetector.from_pretrained(directory / "meta")
        if det.head_.n_features != 2 * len(det.classes_):
            raise DataError(
                f"{directory / 'model.safetensors'}: combiner does not match "
                f"{len(det.classes_)} classes"
            )
        return det
