"""Full-ranking evaluation of recommenders, and a hyperparameter search on validation only.

:func:`evaluate` ranks every item for each test user, with the items of ``exclude`` (the
training, and at test time also the validation, interactions) removed, and reports the
metrics of :mod:`socialgan.recsys.metrics`. :func:`search` gives every model the same
budget: its defaults plus ``budget - 1`` configurations drawn from its ``search_space``
(all of them when the grid is smaller), each fitted on the training part and scored on the
validation part. :func:`run` then fits the chosen configuration once more and touches the
test part once, the way RecBole does: the model is trained on the training part only, and
at test time the training and validation items are excluded from the ranking.

Example:
    >>> split = make_split(load_lastfm(), "recbole", seed=2020)  # doctest: +SKIP
    >>> rows = run(["ease", "itemknn"], split, budget=10)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import ParameterGrid, ParameterSampler

from socialgan.errors import DataError

from .data import Interactions
from .metrics import DEFAULT_KS, beyond_accuracy, hit_matrix, ranking_metrics, top_k
from .models.base import Recommender
from .split import Split

__all__ = [
    "MODELS",
    "Result",
    "Trial",
    "evaluate",
    "make_model",
    "model_names",
    "run",
    "search",
]

#: ``--models`` names -> ``"module:Class"`` (imported on first use: torch or ``implicit``
#: load only for the models that need them).
MODELS: dict[str, str] = {
    "toppop": "socialgan.recsys.models.neighbors:TopPop",
    "itemknn": "socialgan.recsys.models.neighbors:ItemKNN",
    "rp3beta": "socialgan.recsys.models.neighbors:RP3beta",
    "ease": "socialgan.recsys.models.ease:EASE",
    "ease-weighted": "socialgan.recsys.models.ease:WeightedEASE",
    "puresvd": "socialgan.recsys.models.svd:PureSVD",
    "bpr": "socialgan.recsys.models.factorization:BPR",
    "als": "socialgan.recsys.models.factorization:ALS",
    "lightgcn": "socialgan.recsys.models.lightgcn:LightGCN",
    "cfgan": "socialgan.recsys.models.cfgan:CFGAN",
    "irgan": "socialgan.recsys.models.irgan:IRGAN",
    "social-itemknn": "socialgan.recsys.models.social:SocialItemKNN",
    "social-ease": "socialgan.recsys.models.social:SocialEASE",
    "social-lightgcn": "socialgan.recsys.models.social_lightgcn:SocialLightGCN",
}


def model_names(text: str | Iterable[str]) -> list[str]:
    """Checked model names from ``"a,b"`` or a list; ``DataError`` lists the known ones."""
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text)]
    names = [n for n in names if n]
    if not names:
        raise DataError(f"no model named; choose from {', '.join(MODELS)}")
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise DataError(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    return list(dict.fromkeys(names))


def model_class(name: str) -> type[Recommender]:
    module, cls = MODELS[model_names([name])[0]].split(":")
    found: type[Recommender] = getattr(importlib.import_module(module), cls)
    return found


def make_model(name: str, **params: Any) -> Recommender:
    """A model by its CLI name with ``params`` over its defaults (unknown ones: ValueError)."""
    cls = model_class(name)
    model = cls()
    model.set_params(**params)
    return model


def _matrix(part: Interactions | sp.spmatrix) -> sp.csr_matrix:
    if isinstance(part, Interactions):
        return part.matrix()
    return sp.csr_matrix(part, dtype=np.float32)


def evaluate(
    model: Recommender,
    truth: Interactions | sp.spmatrix,
    exclude: Interactions | sp.spmatrix | Sequence[Interactions | sp.spmatrix],
    ks: Sequence[int] = DEFAULT_KS,
    batch_size: int = 256,
) -> dict[str, float]:
    """Ranking metrics of a fitted ``model`` against the ``truth`` interactions, ranking
    all items but those of ``exclude`` (one part or several), for every user with truth."""
    T = _matrix(truth)
    parts = exclude if isinstance(exclude, list | tuple) else [exclude]
    mask = sum((_matrix(p) for p in parts), sp.csr_matrix(T.shape, dtype=np.float32))
    mask = sp.csr_matrix(mask)
    counts = np.diff(T.indptr)
    users = np.flatnonzero(counts)
    if not len(users):
        raise DataError("no user has an interaction to evaluate against (an empty split)")
    depth = max(ks)
    ranked = np.zeros((len(users), min(depth, T.shape[1])), np.int64)
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        ranked[start : start + len(batch)] = top_k(model.score(batch, exclude=mask), depth)
    hits = hit_matrix(ranked, T, users)
    out = ranking_metrics(hits, counts[users], ks)
    out.update(beyond_accuracy(ranked, model.train_, ks))
    out["users"] = float(len(users))
    return out


@dataclass
class Trial:
    params: dict[str, Any]
    metrics: dict[str, float]
    fit_s: float


@dataclass
class Result:
    """One model's search and its single test evaluation."""

    name: str
    params: dict[str, Any]
    valid: dict[str, float]
    test: dict[str, float]
    fit_s: float
    trials: list[Trial] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "params": self.params,
            "valid": self.valid,
            "test": self.test,
            "fit_s": self.fit_s,
            "trials": [
                {"params": t.params, "metrics": t.metrics, "fit_s": t.fit_s} for t in self.trials
            ],
        }


def candidates(name: str, budget: int, seed: int) -> list[dict[str, Any]]:
    """The defaults, then up to ``budget - 1`` distinct configurations of the model's
    ``search_space`` (the whole grid when it is smaller), drawn with ``seed``."""
    cls = model_class(name)
    space: dict[str, list[Any]] = dict(getattr(cls, "search_space", {}) or {})
    configs: list[dict[str, Any]] = [{}]
    if budget <= 1 or not space:
        return configs
    grid = ParameterGrid(space)
    drawn: Iterable[dict[str, Any]]
    if len(grid) <= budget - 1:
        drawn = list(grid)
    else:
        drawn = ParameterSampler(space, n_iter=budget - 1, random_state=seed)
    defaults = cls().get_params()
    for params in drawn:
        config = {k: _plain(v) for k, v in params.items()}
        if any(config.get(k, defaults[k]) != defaults[k] for k in config) or not config:
            configs.append(config)
    return configs[:budget]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _fit(
    name: str,
    params: dict[str, Any],
    train: Interactions,
    fixed: dict[str, Any],
    valid: Interactions | None = None,
) -> tuple[Recommender, float]:
    """Fit a model; one that stops early (it has a ``valid_`` attribute, as LightGCN does)
    watches ``valid``, as RecBole's trainer watches its validation metric."""
    model = make_model(name, **{**params, **fixed})
    if valid is not None and hasattr(model, "valid_"):
        model.valid_ = valid.matrix()  # type: ignore[attr-defined]
    start = time.perf_counter()
    model.fit(train)
    return model, time.perf_counter() - start


def search(
    name: str,
    split: Split,
    budget: int = 10,
    seed: int = 0,
    metric: str = "ndcg@10",
    fixed: dict[str, Any] | None = None,
    on_trial: Callable[[Trial], None] | None = None,
) -> tuple[list[Trial], Recommender]:
    """Fit each of :func:`candidates` on ``split.train`` and score it on ``split.valid``;
    returns the trials and the best model (by ``metric``)."""
    if split.valid is None:
        raise DataError(f"the split ({split.protocol}) has no validation part to search on")
    trials: list[Trial] = []
    best: Recommender | None = None
    for params in candidates(name, budget, seed):
        model, seconds = _fit(name, params, split.train, fixed or {}, split.valid)
        scores = evaluate(model, split.valid, split.train)
        if metric not in scores:
            raise ValueError(f"unknown metric {metric!r}; known: {', '.join(scores)}")
        if best is None or scores[metric] > max(t.metrics[metric] for t in trials):
            best = model
        # a drawn value that ``fixed`` overrides is recorded as the value that was used
        used = {k: (fixed or {}).get(k, v) for k, v in params.items()}
        trials.append(Trial(used, scores, seconds))
        if on_trial is not None:
            on_trial(trials[-1])
    assert best is not None
    return trials, best


def run(
    names: Sequence[str],
    split: Split,
    budget: int = 10,
    seed: int = 0,
    metric: str = "ndcg@10",
    fixed: dict[str, dict[str, Any]] | None = None,
    on_trial: Callable[[str, Trial], None] | None = None,
) -> list[Result]:
    """Search each model on validation, then evaluate the best configuration once on the
    test part. As RecBole does, that model is the one fitted on the training part, and the
    test ranking excludes the training and validation items; for a given train / test pair
    (:func:`~socialgan.recsys.split.given_split`) the best configuration is refitted on the
    whole given train."""
    results: list[Result] = []
    for name in model_names(names):
        extra = (fixed or {}).get(name, {})
        report = None if on_trial is None else (lambda t, n=name: on_trial(n, t))
        trials, model = search(name, split, budget, seed, metric, extra, report)
        best = max(trials, key=lambda t: t.metrics[metric])
        seconds = best.fit_s
        if split.full_train is not None:
            model, seconds = _fit(name, best.params, split.full_train, extra)
        test = evaluate(model, split.test, split.test_exclude())
        results.append(Result(name, model.get_params(), best.metrics, test, seconds, trials))
    return results
