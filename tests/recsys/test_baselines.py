import numpy as np
import pytest
import scipy.sparse as sp

import socialgan
from socialgan.errors import DataError
from socialgan.recsys.evaluate import MODELS, make_model
from socialgan.recsys.models.ease import EASE, WeightedEASE, log_weights
from socialgan.recsys.models.neighbors import ItemKNN, RP3beta, TopPop, keep_top_k
from socialgan.recsys.models.social import SocialEASE, SocialItemKNN

from .conftest import own_group_share

FAST = [
    "toppop",
    "itemknn",
    "rp3beta",
    "ease",
    "ease-weighted",
    "puresvd",
    "social-itemknn",
    "social-ease",
]


@pytest.mark.parametrize("name", [n for n in FAST if n != "toppop"])
def test_models_recover_the_planted_groups(toy, name):
    params = {"factors": 2} if name == "puresvd" else {}  # two groups: rank 2
    model = make_model(name, **params).fit(toy)
    assert own_group_share(model) > 0.9


def test_toppop_ranks_by_count(toy):
    model = TopPop().fit(toy)
    counts = np.bincount(toy.items, minlength=toy.n_items)
    assert model.score(np.array([0]))[0].tolist() == counts.astype(np.float32).tolist()


@pytest.mark.parametrize("kwargs", [{"l2": 3.0}, {"l2": 3.0, "l2_diag": 1.0, "weighting": "log"}])
def test_ease_woodbury_equals_the_items_inverse(toy, kwargs):
    a = EASE(solver="items", **kwargs).fit(toy).score(np.arange(toy.n_users))
    b = EASE(solver="users", **kwargs).fit(toy).score(np.arange(toy.n_users))
    np.testing.assert_allclose(a, b, atol=1e-4)
    # the items x items solution is EASE's definition: B = I - P / diag(P), diag(B) = 0
    X = toy.matrix().toarray().astype(np.float64)
    if kwargs.get("weighting") == "log":
        X = log_weights(toy.matrix(binary=False)).toarray()
    a_diag = kwargs["l2"] + kwargs.get("l2_diag", 0.0) * (X**2).sum(0)
    P = np.linalg.inv(X.T @ X + np.diag(a_diag))
    B = np.eye(len(P)) - P / np.diag(P)
    np.testing.assert_allclose(a, X @ B, atol=1e-4)


def test_log_weights_average_one_per_user():
    W = log_weights(sp.csr_matrix(np.array([[1.0, 100.0, 0.0], [5.0, 0.0, 0.0]])))
    assert np.asarray(W.sum(axis=1)).ravel() == pytest.approx([2.0, 1.0])
    assert W[0, 1] > W[0, 0]


def test_itemknn_is_shrunk_cosine_with_top_k():
    X = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]], np.float32))
    model = ItemKNN(top_k=1, shrink=1.0).fit(X)
    W = model.W_.toarray()
    # item 0 and 1 share 2 users, norms sqrt(2), sqrt(3): 2 / (sqrt(6) + 1)
    assert W[0, 1] == pytest.approx(2 / (np.sqrt(6) + 1), rel=1e-4)
    assert (W != 0).sum(axis=0).max() == 1  # one neighbour kept per target item
    assert np.all(np.diag(W) == 0)


def test_keep_top_k_keeps_the_largest_per_row():
    m = keep_top_k(sp.csr_matrix(np.array([[0.1, 0.5, 0.3], [0.0, 0.2, 0.0]])), 2)
    np.testing.assert_allclose(m.toarray(), [[0.0, 0.5, 0.3], [0.0, 0.2, 0.0]])


def test_rp3beta_popularity_penalty_lowers_popular_items(toy):
    flat = RP3beta(beta=0.0, normalize=False).fit(toy).W_.toarray()
    penalized = RP3beta(beta=1.0, normalize=False).fit(toy).W_.toarray()
    degree = np.bincount(toy.items, minlength=toy.n_items)
    j = int(np.argmax(degree))
    nz = flat[:, j] > 0
    np.testing.assert_allclose(penalized[nz, j], flat[nz, j] / degree[j], rtol=1e-4)


@pytest.mark.parametrize("name", FAST)
def test_save_and_load_give_the_same_recommendations(toy, tmp_path, name):
    model = make_model(name).fit(toy)
    model.save_pretrained(tmp_path / name)
    again = socialgan.load(tmp_path / name)
    assert type(again) is type(model) and again.get_params() == model.get_params()
    users = np.arange(toy.n_users)
    np.testing.assert_allclose(again.score(users), model.score(users), atol=1e-5)
    a, b = model.recommend(["10", "25"], k=4), again.recommend(["10", "25"], k=4)
    assert a[0].tolist() == b[0].tolist()
    assert (tmp_path / name / "README.md").read_text().startswith("# ")


def test_recommend_excludes_seen_items_and_uses_raw_ids(toy):
    model = EASE(l2=5).fit(toy)
    items, scores = model.recommend(["10"], k=5)
    seen = set(toy.item_ids[toy.items[toy.users == 0]])
    assert not seen & set(items[0].tolist())
    assert np.all(np.diff(scores[0]) <= 0)
    with_seen, _ = model.recommend(["10"], k=toy.n_items, exclude_seen=False)
    assert seen <= set(with_seen[0].tolist())
    assert model.item_name(items[0][0]).startswith("item ")


def test_a_new_user_gets_popular_items_with_a_warning(toy):
    model = ItemKNN().fit(toy)
    with pytest.warns(UserWarning, match="unknown user.*999.*most popular"):
        items, scores = model.recommend(["999"], k=3)
    assert items[0].tolist() == toy.item_ids[model.popular()[:3]].tolist()
    assert np.isnan(scores).all()


def test_a_non_integer_user_id_is_a_clear_error(toy):
    model = TopPop().fit(toy)
    with pytest.raises(DataError, match="'abc' is not an integer"):
        model.recommend(["abc"])
    bare = TopPop().fit(toy.matrix())  # no catalog: users are row numbers
    with pytest.raises(DataError, match="not an integer"):
        bare.recommend(["x"])
    assert bare.recommend([0], k=2)[0].shape == (1, 2)


def test_social_models_need_a_graph_and_reduce_to_the_base_at_beta_zero(toy):
    with pytest.raises(DataError, match="needs a social graph"):
        SocialItemKNN().fit(toy.matrix())
    users = np.arange(toy.n_users)
    np.testing.assert_allclose(
        SocialItemKNN(beta=0.0).fit(toy).score(users), ItemKNN().fit(toy).score(users)
    )
    np.testing.assert_allclose(
        SocialEASE(beta=0.0).fit(toy).score(users),
        WeightedEASE().fit(toy).score(users),
        atol=1e-5,
    )
    assert not np.allclose(
        SocialEASE(beta=0.5).fit(toy).score(users), WeightedEASE().fit(toy).score(users)
    )
    with pytest.raises(DataError, match="social graph is 3 x 3"):
        ItemKNN().fit(toy, social=sp.eye(3))


def test_fitting_nothing_and_unknown_names_are_errors(toy):
    with pytest.raises(DataError, match="no interactions"):
        EASE().fit(sp.csr_matrix((3, 3)))
    with pytest.raises(DataError, match="unknown model"):
        make_model("deepfm")
    with pytest.raises(ValueError, match="no parameter"):
        make_model("ease", alpha=1)
    assert set(FAST) <= set(MODELS)


def test_ease_pop_penalty_divides_scores_by_popularity(toy):
    plain = EASE(l2=5).fit(toy).score(np.arange(5))
    penalized = EASE(l2=5, pop_penalty=0.5).fit(toy).score(np.arange(5))
    popularity = np.maximum(np.bincount(toy.items, minlength=toy.n_items), 1)
    np.testing.assert_allclose(penalized, plain / np.sqrt(popularity), rtol=1e-5)
