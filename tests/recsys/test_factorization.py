import numpy as np
import pytest
import scipy.sparse as sp
from implicit.cpu.bpr import BayesianPersonalizedRanking

import socialgan
from socialgan.errors import DataError
from socialgan.recsys.models.factorization import ALS, BPR

from .conftest import own_group_share

BPR_FAST = {"factors": 2, "lr": 0.05, "iterations": 300, "seed": 1}
ALS_FAST = {"factors": 2, "regularization": 1.0, "alpha": 5.0, "iterations": 15, "seed": 1}


@pytest.mark.parametrize("cls,params", [(BPR, BPR_FAST), (ALS, ALS_FAST)])
def test_training_moves_the_factors_and_keeps_them_finite(toy, cls, params):
    one = cls(**{**params, "iterations": 1}).fit(toy)
    two = cls(**{**params, "iterations": 2}).fit(toy)
    for model in (one, two):
        assert all(np.isfinite(v).all() for v in model._state().values())
    assert not np.allclose(one.item_factors_, two.item_factors_)


@pytest.mark.parametrize("cls,params", [(BPR, BPR_FAST), (ALS, ALS_FAST)])
def test_recovers_the_planted_groups(toy, cls, params):
    assert own_group_share(cls(**params).fit(toy)) > 0.9
    assert own_group_share(cls(**{**params, "iterations": 1}).fit(toy)) < 0.9


def test_bpr_scores_are_implicits_own_including_the_item_bias(toy):
    model = BPR(**BPR_FAST).fit(toy)
    ref = BayesianPersonalizedRanking(
        factors=2,
        learning_rate=0.05,
        regularization=0.01,
        iterations=300,
        num_threads=1,
        random_state=1,
    )
    ref.fit(toy.matrix(), show_progress=False)
    expected = ref.user_factors @ ref.item_factors.T
    np.testing.assert_allclose(model.score(np.arange(toy.n_users)), expected, rtol=1e-5, atol=1e-6)
    assert model.user_factors_.shape[1] == 2 and np.abs(model.item_bias_).max() > 0


def test_als_item_factors_solve_the_confidence_weighted_normal_equations(toy):
    """After the last half-step each item's factors minimise sum_u c_ui (p_ui - x_u y_i)^2
    + reg |y_i|^2 with c = 1 + alpha for consumed items and 1 elsewhere."""
    alpha, reg = 5.0, 1.0
    model = ALS(factors=4, regularization=reg, alpha=alpha, iterations=60, seed=0).fit(toy)
    U, V = model.user_factors_.astype(np.float64), model.item_factors_.astype(np.float64)
    X = toy.matrix().toarray()

    def solve(conf_pos):
        out = np.zeros_like(V)
        for i in range(X.shape[1]):
            c = np.where(X[:, i] > 0, conf_pos, 1.0)
            A = U.T @ (c[:, None] * U) + reg * np.eye(U.shape[1])
            out[i] = np.linalg.solve(A, U.T @ (c * X[:, i]))
        return out

    np.testing.assert_allclose(V, solve(1 + alpha), atol=2e-3)
    assert np.abs(V - solve(alpha)).max() > 1e-2  # confidence alpha * x would not fit


@pytest.mark.parametrize("cls,params", [(BPR, BPR_FAST), (ALS, ALS_FAST)])
def test_same_seed_same_scores(toy, cls, params):
    users = np.arange(toy.n_users)
    a = cls(**params).fit(toy).score(users)
    np.testing.assert_array_equal(a, cls(**params).fit(toy).score(users))
    assert not np.allclose(a, cls(**{**params, "seed": 2}).fit(toy).score(users))


@pytest.mark.parametrize("cls,params", [(BPR, BPR_FAST), (ALS, ALS_FAST)])
def test_save_and_load_round_trip(toy, tmp_path, cls, params):
    model = cls(**params).fit(toy)
    model.save_pretrained(tmp_path / "m")
    users = np.arange(toy.n_users)
    for loaded in (cls.from_pretrained(tmp_path / "m"), socialgan.load(tmp_path / "m")):
        assert type(loaded) is cls and loaded.get_params() == model.get_params()
        np.testing.assert_array_equal(loaded.score(users), model.score(users))


@pytest.mark.parametrize(
    "cls,params",
    [
        (BPR, {"factors": 0}),
        (BPR, {"lr": 0.0}),
        (BPR, {"iterations": 0}),
        (ALS, {"alpha": -1.0}),
        (ALS, {"regularization": float("nan")}),
    ],
)
def test_bad_hyperparameters_are_data_errors(toy, cls, params):
    with pytest.raises(DataError):
        cls(**params).fit(toy)


def test_fits_a_plain_matrix_and_search_spaces_name_real_parameters():
    X = sp.csr_matrix(np.eye(6, dtype=np.float32) + np.eye(6, k=1, dtype=np.float32))
    assert ALS(factors=2, iterations=2).fit(X).score(np.arange(6)).shape == (6, 6)
    for cls in (BPR, ALS):
        assert set(cls.search_space) <= set(cls().get_params())
