"""``TfidfDetector``: word + character n-gram TF-IDF and a calibrated linear classifier.

The strong classic baseline for spam, deceptive reviews and fake news. scikit-learn style
(hyperparameters in ``__init__``, learned state after ``fit``); Hugging Face style
persistence (``config.json`` + ``model.safetensors`` + ``README.md``), never pickles.

Example:
    >>> import socialgan
    >>> from socialgan.text import TfidfDetector, load_youtube_spam
    >>> data = load_youtube_spam()
    >>> det = TfidfDetector().fit(data.texts, data.labels, label_names=data.label_names)
    >>> det.predict_proba(["check out my channel http://x.co"])[:, 1]  # P(spam)
    >>> det.save_pretrained("models/spam")
    >>> socialgan.load("models/spam").predict(["nice song"])  # or TfidfDetector.from_pretrained
    >>> # transductive: also learn from unlabeled texts (e.g. the comments to moderate)
    >>> det = TfidfDetector().fit(data.texts, data.labels, unlabeled_texts=new_comments)
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from socialgan.errors import DataError
from socialgan.model_selection import lowest_log_loss, out_of_fold_proba
from socialgan.text.detect.detector_api import (
    TextDetectorMixin,
    encode_labels,
    split_text_input,
    training_labels,
)
from socialgan.text.detect.linear_head import LinearHead
from socialgan.text.detect.nbsvm import NBSVMClassifier
from socialgan.text.detect.persistence import (
    MODEL_TYPE,
    SavesPretrained,
    json_params,
    load_tfidf,
    write_tfidf,
)
from socialgan.text.detect.self_training import check_self_training, split_unlabeled
from socialgan.text.features import MetaEncoder, StyleEncoder, make_vectorizer, preprocess_texts

__all__ = ["TfidfDetector"]


class TfidfDetector(TextDetectorMixin, SavesPretrained, ClassifierMixin, BaseEstimator):
    """Word + character n-gram TF-IDF features, optional metadata, a linear SVM or logistic
    regression, and Platt (sigmoid) calibrated probabilities.

    Args:
        model: ``"svm"`` (``LinearSVC``), ``"nbsvm"`` (SVM on naive-Bayes-scaled features,
            Wang and Manning 2012) or ``"logreg"`` (``LogisticRegression``). Default svm.
        word_ngrams: word n-gram range, or ``None`` for no word block. Default ``(1, 2)``.
        char_ngrams: character n-gram range, or ``None`` for no char block. Default ``(2, 5)``.
        char_analyzer: ``"char_wb"`` (n-grams inside word boundaries, padded with spaces)
            or ``"char"`` (n-grams across spaces and punctuation, so ``"my channel"`` or
            ``".com/"`` are single features). Default char_wb.
        preprocess: text clean-up before the n-grams: ``"web"`` (HTML entities and tags,
            odd spaces) or ``"none"``. Default web.
        sublinear_tf: use ``1 + log(tf)``. Default True.
        min_df: drop terms in fewer documents than this. Default 1.
        max_df: drop terms in more than this fraction of documents. Default 1.0.
        lowercase: lower-case before n-grams. Default True.
        max_features: keep the most frequent terms per block (``None``: all).
        C: inverse regularization strength, or a list of candidates. Default 1.0.
        C_cv: inner folds for choosing among candidate values. Default 3.
        class_weight: ``None`` or ``"balanced"``.
        calibration: ``"sigmoid"`` (Platt scaling on out-of-fold decision values) or
            ``"none"`` (logreg: its own probabilities; svm: uncalibrated expit). Default sigmoid.
        calibration_cv: folds for calibration. Default 5.
        calibration_ensemble: average the per-fold models (True) or one model on all the
            data with a sigmoid fitted out-of-fold (False, the default; smaller and faster).
        style_weight: scale of 10 standardized surface-style features (length, links,
            digits, capitals, ``!``/``?``, non-ASCII share; see ``features.STYLE_FEATURES``)
            added beside the n-grams; 0 leaves them out. A number or candidates.
            Default ``(0.0, 0.2)``: they help short comments and hurt long reviews, so the
            training data decides.
        meta_columns: metadata columns used as extra features (X must then be a
            ``DataFrame`` or :class:`TextDataset`): numbers are log-scaled and standardized,
            other columns one-hot (comma-separated values multi-hot). Default none.
        meta_weight: scale of the metadata block relative to the text blocks. Default 1.0.
        meta_min_count: keep metadata values seen at least this often. Default 1.
        positive_labels: label names that count as "flagged" in moderation; ``None`` means
            the last class of a binary problem.
        text_column: the text column when X is a ``DataFrame``. Default ``"text"``.
        random_state: seed for calibration folds and the solvers. Default 0.
        self_training_threshold: with unlabeled texts, the smallest top-class probability
            for a text to join the training set with its predicted label; in (0.5, 1].
            Default 0.9.
        self_training_rounds: self-training rounds with unlabeled texts (0: ignore them).
            Default 2.

    Where ``C`` or ``style_weight`` lists several candidates, ``fit`` picks the pair with
    the best ``C_cv``-fold accuracy of the uncalibrated model on the training data only
    (so an outer CV of the detector is a nested, honest estimate); the choice is in
    ``C_`` and ``style_weight_``, the inner scores in ``selection_scores_``.

    ``threshold`` (attribute, default 0.5; see :meth:`calibrate_threshold`) is where a binary
    detector's ``predict`` flags; it is saved with the model.

    Unlabeled texts (``fit(..., unlabeled_texts=...)`` or ``-1`` labels) are used by
    self-training: after the fit on the labeled texts, each round labels every unlabeled
    text with the current model and refits (vocabularies, idf, calibration; the chosen
    ``C_`` and ``style_weight_`` are kept) on the labeled texts plus those predicted with
    probability >= ``self_training_threshold``. ``pseudo_labeled_`` counts them per round.
    Giving the texts to be scored (e.g. a new video's comments) adapts the model to
    their domain: on YouTube spam, leave-one-video-out accuracy rises from 95.4% to 96.1%
    (threshold 0.9, or chosen per held-out video by ``nested_group_selection``).
    """

    model_type = MODEL_TYPE

    def __init__(
        self,
        model: str = "svm",
        word_ngrams: tuple[int, int] | None = (1, 2),
        char_ngrams: tuple[int, int] | None = (2, 5),
        char_analyzer: str = "char_wb",
        preprocess: str = "web",
        sublinear_tf: bool = True,
        min_df: int | float = 1,
        max_df: float = 1.0,
        lowercase: bool = True,
        max_features: int | None = None,
        C: float | Sequence[float] = 1.0,
        C_cv: int = 3,
        class_weight: str | None = None,
        calibration: str = "sigmoid",
        calibration_cv: int = 5,
        calibration_ensemble: bool = False,
        style_weight: float | Sequence[float] = (0.0, 0.2),
        meta_columns: Sequence[str] | None = None,
        meta_weight: float = 1.0,
        meta_min_count: int = 1,
        positive_labels: Sequence[str] | None = None,
        text_column: str = "text",
        random_state: int = 0,
        self_training_threshold: float = 0.9,
        self_training_rounds: int = 2,
    ) -> None:
        self.model = model
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.char_analyzer = char_analyzer
        self.preprocess = preprocess
        self.sublinear_tf = sublinear_tf
        self.min_df = min_df
        self.max_df = max_df
        self.lowercase = lowercase
        self.max_features = max_features
        self.C = C
        self.C_cv = C_cv
        self.class_weight = class_weight
        self.calibration = calibration
        self.calibration_cv = calibration_cv
        self.calibration_ensemble = calibration_ensemble
        self.style_weight = style_weight
        self.meta_columns = meta_columns
        self.meta_weight = meta_weight
        self.meta_min_count = meta_min_count
        self.positive_labels = positive_labels
        self.text_column = text_column
        self.random_state = random_state
        self.self_training_threshold = self_training_threshold
        self.self_training_rounds = self_training_rounds

    # ----------------------------------------------------------------- input handling
    def _split_input(self, X: Any) -> tuple[list[str], pd.DataFrame | None]:
        """``(texts, meta frame or None)`` from a list of texts, a DataFrame or a TextDataset."""
        return split_text_input(X, self.text_column)

    def _vectorizer_settings(self, ngrams: Sequence[int], analyzer: str) -> dict[str, Any]:
        return {
            "analyzer": analyzer,
            "ngram_range": [int(ngrams[0]), int(ngrams[1])],
            "sublinear_tf": bool(self.sublinear_tf),
            "min_df": self.min_df,
            "max_df": self.max_df,
            "lowercase": bool(self.lowercase),
            "max_features": self.max_features,
        }

    def _features(self, texts: list[str], meta: pd.DataFrame | None) -> sp.csr_matrix:
        clean = preprocess_texts(texts, self.preprocess)
        blocks = [vec.transform(clean) for vec in self.vectorizers_.values()]
        if self.style_encoder_ is not None:
            blocks.append(self.style_encoder_.transform(clean) * self.style_weight_)
        if self.meta_encoder_ is not None:
            wanted = self.meta_encoder_.columns
            absent = [c for c in wanted if meta is None or c not in meta.columns]
            if absent:
                warnings.warn(
                    f"metadata columns {absent} missing from the input: scored as unknown",
                    stacklevel=3,
                )
            blocks.append(self.meta_encoder_.transform(meta, len(texts)) * self.meta_weight)
        return sp.hstack(blocks, format="csr", dtype=np.float64)

    # ----------------------------------------------------------------- fit / predict
    def _base_estimator(self, C: float):
        if self.model == "svm":
            return LinearSVC(C=C, class_weight=self.class_weight, random_state=self.random_state)
        if self.model == "logreg":
            return LogisticRegression(C=C, class_weight=self.class_weight, max_iter=2000)
        if self.model == "nbsvm":
            return NBSVMClassifier(
                C=C, class_weight=self.class_weight, random_state=self.random_state
            )
        raise ValueError(f"model must be 'svm', 'nbsvm' or 'logreg', not {self.model!r}")

    def _select(
        self, assemble: Callable[[float], sp.csr_matrix], y: np.ndarray
    ) -> tuple[float, float]:
        """``(C, style_weight)`` with the lowest inner-CV log-loss of the calibrated model
        (``model_selection.lowest_log_loss``); ties go to the first candidate in
        (style_weight, C) ascending order: the simpler, more regularized one."""
        cs = sorted(float(c) for c in np.atleast_1d(self.C))
        ws = sorted(float(w) for w in np.atleast_1d(self.style_weight))
        grid = [(c, w) for w in ws for c in cs]
        self.selection_scores_: dict[str, float] = {}
        if len(grid) == 1:
            return grid[0]
        folds = StratifiedKFold(self.C_cv, shuffle=True, random_state=self.random_state + 1)
        splits = list(folds.split(np.zeros(len(y)), y))
        n_classes = len(self.classes_)
        features = functools.lru_cache(maxsize=None)(assemble)

        def oof(candidate: tuple[float, float]) -> np.ndarray:
            c, w = candidate
            X = features(w)

            def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
                with warnings.catch_warnings():  # weak candidates may not converge
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    smallest = int(np.bincount(y[train]).min())
                    est = self._make_estimator(c, smallest).fit(X[train], y[train])
                return LinearHead.from_sklearn(est, n_classes).predict_proba(X[test])

            return out_of_fold_proba(fit_predict, len(y), n_classes, splits)

        best, _, losses = lowest_log_loss(grid, oof, y, n_classes)
        for (c, w), loss in losses.items():
            self.selection_scores_[f"C={c:g},style_weight={w:g}"] = loss
        return best

    def _make_estimator(self, C: float, smallest_class: int | None = None):
        """The (calibrated) linear model. ``smallest_class``: inside the C search, the
        calibration folds are capped at the inner training fold's smallest class count (a
        few labels per class would otherwise be too few for ``calibration_cv`` folds)."""
        base = self._base_estimator(C)
        if self.calibration == "none":
            return base
        if self.calibration != "sigmoid":
            raise ValueError(f"calibration must be 'sigmoid' or 'none', not {self.calibration!r}")
        n_folds = self.calibration_cv
        if smallest_class is not None:
            n_folds = min(n_folds, smallest_class)
            if n_folds < 2:
                return base
        folds = StratifiedKFold(n_folds, shuffle=True, random_state=self.random_state)
        return CalibratedClassifierCV(
            base, method="sigmoid", cv=folds, ensemble=self.calibration_ensemble
        )

    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        label_names: Sequence[str] | None = None,
        unlabeled_texts: Any = None,
    ) -> TfidfDetector:
        """Learn vocabularies, idf, metadata encodings and the calibrated linear model.

        ``X``: list of texts, a ``DataFrame`` (``text_column`` + metadata) or a
        :class:`TextDataset` (then ``y`` and ``label_names`` default to its own).
        ``label_names[k]`` names integer label ``k``; string labels name themselves.
        Integer label ``-1`` marks an unlabeled row. ``unlabeled_texts`` (a list, a
        ``DataFrame`` or a :class:`TextDataset`, whose labels are ignored) are more
        unlabeled texts; with any, ``self_training_rounds`` of self-training follow.
        """
        threshold, rounds = check_self_training(
            self.self_training_threshold, self.self_training_rounds
        )
        y, label_names = training_labels(X, y, label_names)
        texts, meta = self._split_input(X)
        if len(y) != len(texts):
            raise DataError(f"{len(y)} labels for {len(texts)} texts")
        extra = None if unlabeled_texts is None else self._split_input(unlabeled_texts)
        texts, meta, y, unl_texts, unl_meta = split_unlabeled(
            texts, meta, y, extra, self.meta_columns
        )
        self.classes_, y_enc, self.label_names_ = encode_labels(y, label_names)
        if self.char_analyzer not in ("char_wb", "char"):
            raise ValueError(
                f"char_analyzer must be 'char_wb' or 'char', not {self.char_analyzer!r}"
            )
        self._fit_model(texts, meta, y_enc)
        self.pseudo_labeled_: list[int] = []
        chosen = (self.C_, self.style_weight_)
        for _ in range(rounds if unl_texts else 0):
            proba = self.head_.predict_proba(self._features(unl_texts, unl_meta))
            keep = np.flatnonzero(proba.max(axis=1) >= threshold)
            self.pseudo_labeled_.append(len(keep))
            if not len(keep):
                break
            self._fit_model(
                texts + [unl_texts[i] for i in keep],
                None
                if unl_meta is None
                else pd.concat([meta, unl_meta.iloc[keep]], ignore_index=True),
                np.concatenate([y_enc, proba[keep].argmax(axis=1)]),
                chosen,
            )
        return self

    def _fit_model(
        self,
        texts: list[str],
        meta: pd.DataFrame | None,
        y_enc: np.ndarray,
        chosen: tuple[float, float] | None = None,
    ) -> None:
        """Fit features and model on ``texts``; ``chosen``: ``(C, style_weight)`` to use
        instead of selecting them by inner CV."""
        self.vectorizers_ = {}
        blocks = []
        clean = preprocess_texts(texts, self.preprocess)
        for name, ngrams, analyzer in (
            ("word", self.word_ngrams, "word"),
            ("char", self.char_ngrams, self.char_analyzer),
        ):
            if ngrams is not None:
                vec = make_vectorizer(**self._vectorizer_settings(ngrams, analyzer))
                blocks.append(vec.fit_transform(clean))
                self.vectorizers_[name] = vec
        self.style_encoder_ = None
        style = None
        weights = np.atleast_1d(self.style_weight if chosen is None else chosen[1])
        if np.any(weights):
            self.style_encoder_ = StyleEncoder().fit(clean)
            style = self.style_encoder_.transform(clean)
        self.meta_encoder_ = None
        meta_block = []
        if self.meta_columns:
            self.meta_encoder_ = MetaEncoder(self.meta_columns, self.meta_min_count).fit(meta)
            meta_block = [self.meta_encoder_.transform(meta, len(texts)) * self.meta_weight]

        def assemble(weight: float) -> sp.csr_matrix:
            extra = [style * weight] if style is not None and weight else []
            parts = blocks + extra + meta_block
            if not parts:
                raise ValueError("no features: set word_ngrams, char_ngrams or meta_columns")
            return sp.hstack(parts, format="csr", dtype=np.float64)

        if chosen is None:
            self.C_, self.style_weight_ = self._select(assemble, y_enc)
        else:
            self.C_, self.style_weight_ = chosen
        if not self.style_weight_:
            self.style_encoder_ = None
        features = assemble(self.style_weight_)
        self.estimator_ = self._make_estimator(self.C_).fit(features, y_enc)
        self.head_ = LinearHead.from_sklearn(self.estimator_, len(self.classes_))
        self.n_features_ = features.shape[1]

    def _check_fitted(self) -> None:
        if not hasattr(self, "head_"):
            raise ValueError("this TfidfDetector is not fitted: call fit() or from_pretrained()")

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw linear scores of the first (or only) linear model: ``(N,)`` for a binary
        detector (larger = the positive class), ``(N, K)`` otherwise (scikit-learn's shape)."""
        self._check_fitted()
        texts, meta = self._split_input(X)
        scores = self.head_.decision_function(self._features(texts, meta))
        return scores[:, 0] if len(self.classes_) == 2 else scores

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(N, K)`` in the order of ``classes_``."""
        self._check_fitted()
        texts, meta = self._split_input(X)
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return self.head_.predict_proba(self._features(texts, meta))

    # ----------------------------------------------------------------- persistence
    def json_params(self) -> dict[str, Any]:
        """Hyperparameters as JSON-ready values (what ``config.json`` stores)."""
        return json_params(self)

    def _default_name(self) -> str:
        return f"socialgan-tfidf-{self.model}"

    def _write_pretrained(self, directory: Path, config: dict[str, Any]) -> None:
        write_tfidf(self, directory, config)

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> TfidfDetector:
        """Load a detector written by :meth:`save_pretrained` (JSON + safetensors only)."""
        return load_tfidf(cls, directory)
