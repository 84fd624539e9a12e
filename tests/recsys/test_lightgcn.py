import numpy as np
import pytest
import scipy.sparse as sp
import torch

import socialgan
from socialgan.errors import DataError
from socialgan.recsys.models.lightgcn import LightGCN, normalized_adjacency, sample_negatives
from socialgan.recsys.models.social_lightgcn import SocialLightGCN

from .conftest import own_group_share

FAST = {"embedding_size": 16, "n_layers": 2, "lr": 0.01, "epochs": 100, "seed": 3}


def test_one_step_changes_the_embeddings_and_stays_finite(toy, monkeypatch):
    seen = []
    original = LightGCN._epoch

    def spy(self, ego, *args):
        before = ego.detach().clone()
        loss = original(self, ego, *args)
        seen.append((before, ego.detach().clone(), loss))
        return loss

    monkeypatch.setattr(LightGCN, "_epoch", spy)
    LightGCN(embedding_size=8, epochs=1, batch_size=10_000).fit(toy)  # one batch: one step
    ((before, after, loss),) = seen
    assert np.isfinite(loss) and torch.isfinite(after).all()
    assert not torch.equal(before, after)


def test_recovers_the_planted_groups(toy):
    model = LightGCN(**FAST).fit(toy)
    assert own_group_share(model) > 0.9
    assert own_group_share(LightGCN(**{**FAST, "epochs": 1}).fit(toy)) < 0.9
    losses = [loss for _, loss, _ in model.history_]
    assert losses[-1] < losses[0]


def test_same_seed_same_scores_other_seed_other_scores(toy):
    users = np.arange(toy.n_users)
    a = LightGCN(**FAST).fit(toy).score(users)
    b = LightGCN(**FAST).fit(toy).score(users)
    c = LightGCN(**{**FAST, "seed": 4}).fit(toy).score(users)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("cls", [LightGCN, SocialLightGCN])
def test_save_and_load_round_trip(toy, tmp_path, cls):
    model = cls(**{**FAST, "epochs": 5}).fit(toy)
    model.save_pretrained(tmp_path / "m")
    users = np.arange(toy.n_users)
    for loaded in (cls.from_pretrained(tmp_path / "m"), socialgan.load(tmp_path / "m")):
        assert type(loaded) is cls and loaded.get_params() == model.get_params()
        np.testing.assert_array_equal(loaded.score(users), model.score(users))
    assert loaded.recommend(["10"], k=3)[0].tolist() == model.recommend(["10"], k=3)[0].tolist()


def test_social_model_needs_a_graph(toy):
    with pytest.raises(DataError, match="needs a social graph"):
        SocialLightGCN(epochs=1).fit(toy.matrix())
    with pytest.raises(DataError, match="social_weight"):
        SocialLightGCN(epochs=1, social_weight=-1.0).fit(toy)


def test_the_social_graph_changes_the_scores(toy):
    users = np.arange(toy.n_users)
    ring = SocialLightGCN(**FAST).fit(toy).score(users)
    rng = np.random.default_rng(0)
    other = sp.random(toy.n_users, toy.n_users, density=0.1, random_state=rng, format="csr")
    shuffled = SocialLightGCN(**FAST).fit(toy, social=other).score(users)
    assert not np.allclose(ring, shuffled)
    # weight 0 drops the social edges: exactly plain LightGCN
    off = SocialLightGCN(**FAST, social_weight=0.0).fit(toy).score(users)
    np.testing.assert_array_equal(off, LightGCN(**FAST).fit(toy).score(users))


def test_normalized_adjacency_is_symmetric_and_degree_scaled():
    X = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 0]], np.float32))
    social = sp.csr_matrix(np.array([[0, 1], [0, 0]], np.float32))  # directed: symmetrized
    A = normalized_adjacency(X, social, social_weight=0.5).toarray()
    np.testing.assert_allclose(A, A.T)
    # user 0: degree 2 items + 0.5 friend = 2.5; item 1: degree 2; user 1: 1 + 0.5 = 1.5
    assert A[0, 2 + 1] == pytest.approx(1 / np.sqrt(2.5 * 2))
    assert A[0, 1] == pytest.approx(0.5 / np.sqrt(2.5 * 1.5))
    assert np.all(A[:, 2 + 2] == 0)  # an item nobody consumed stays isolated
    plain = normalized_adjacency(X).toarray()
    assert plain[0, 1] == 0 and plain[0, 2 + 1] == pytest.approx(1 / np.sqrt(2 * 2))


def test_negatives_are_never_consumed_items(toy):
    X = toy.matrix()
    users = np.repeat(np.arange(toy.n_users), 50)
    neg = sample_negatives(X, users, np.random.default_rng(0))
    assert X[users, neg].sum() == 0
    assert len(np.unique(neg)) > toy.n_items // 2  # spread over the unconsumed items


def test_early_stopping_on_a_validation_matrix(toy):
    rng = np.random.default_rng(1)
    X = toy.matrix()
    held = rng.random(X.nnz) < 0.2
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    train = sp.csr_matrix((X.data[~held], (rows[~held], X.indices[~held])), shape=X.shape)
    valid = sp.csr_matrix((X.data[held], (rows[held], X.indices[held])), shape=X.shape)
    model = LightGCN(**{**FAST, "epochs": 200}, eval_every=2, patience=3)
    model.valid_ = valid
    model.fit(train)
    evaluated = [ndcg for _, _, ndcg in model.history_ if not np.isnan(ndcg)]
    assert model.epochs_trained_ < 200  # stopped early
    assert model.best_valid_ndcg_ == pytest.approx(max(evaluated)) and max(evaluated) > 0.3
    assert model.best_epoch_ <= model.epochs_trained_ - 3 * 2
    bad = LightGCN(epochs=1)
    bad.valid_ = valid[:5]
    with pytest.raises(DataError, match="valid_"):
        bad.fit(train)


@pytest.mark.parametrize(
    "params", [{"n_layers": -1}, {"epochs": 0}, {"lr": 0.0}, {"embedding_size": 0}]
)
def test_bad_hyperparameters_are_data_errors(toy, params):
    with pytest.raises(DataError):
        LightGCN(**params).fit(toy)


def test_search_spaces_name_real_parameters():
    for cls in (LightGCN, SocialLightGCN):
        params = cls().get_params()
        assert set(cls.search_space) <= set(params)
        assert "social_weight" in SocialLightGCN.search_space
