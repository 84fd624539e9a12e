"""IRGAN: one update of each player, learning a planted structure, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import socialgan
from socialgan.errors import DataError
from socialgan.recsys.data import Interactions
from socialgan.recsys.models.irgan import IRGAN

from .conftest import own_group_share, planted

#: A short game with larger (Adam) steps than the ML-100K defaults, for 40 users x 30
#: items; no pretraining, so what G knows it learned from D's rewards. (With the authors'
#: SGD at 0.001, D needs far more passes to leave its near-zero start.)
TINY = dict(
    optimizer="adam",
    emb_dim=8,
    epochs=3,
    d_epochs=5,
    g_epochs=5,
    batch_size=32,
    g_batch_size=8,
    lr_g=0.01,
    lr_d=0.02,
    reg_d=0.01,
    pretrain_epochs=0,
)


@pytest.fixture(scope="module")
def data() -> Interactions:
    return planted()


@pytest.fixture(scope="module")
def fitted(data: Interactions) -> IRGAN:
    return IRGAN(**TINY, seed=0).fit(data)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_one_d_step_and_one_g_step_change_their_nets(data: Interactions, optimizer: str) -> None:
    game = IRGAN(**{**TINY, "optimizer": optimizer})._build_game(data.matrix())
    g0 = [p.detach().clone() for p in game.gen.parameters()]
    d0 = [p.detach().clone() for p in game.dis.parameters()]
    game.sample_negatives()
    assert game.negatives.shape == game.items.shape
    loss_d = game.d_step(torch.arange(16))
    assert np.isfinite(loss_d)
    assert any(not torch.equal(a, b) for a, b in zip(d0, game.dis.parameters(), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(g0, game.gen.parameters(), strict=True))
    d1 = [p.detach().clone() for p in game.dis.parameters()]
    loss_g = game.g_step(torch.arange(8))
    assert np.isfinite(loss_g)
    assert any(not torch.equal(a, b) for a, b in zip(g0, game.gen.parameters(), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(d1, game.dis.parameters(), strict=True))
    for p in (*game.gen.parameters(), *game.dis.parameters()):
        assert torch.isfinite(p).all()


def test_pretraining_step_moves_the_generator(data: Interactions) -> None:
    game = IRGAN(**TINY)._build_game(data.matrix())
    before = game.gen.item.detach().clone()
    opt = torch.optim.Adam(game.gen.parameters(), lr=0.01)
    assert np.isfinite(game.pretrain_step(torch.arange(32), opt))
    assert not torch.equal(before, game.gen.item)


def test_generator_learns_the_planted_taste_groups(fitted: IRGAN, data: Interactions) -> None:
    assert own_group_share(fitted) >= 0.75
    untrained = IRGAN(**{**TINY, "epochs": 0}).fit(data)
    assert own_group_share(untrained) < 0.7  # the check can fail: chance is about 0.5


def test_scorer_switches_to_the_discriminator(fitted: IRGAN) -> None:
    users = np.arange(fitted.n_users)
    g = fitted.score(users)
    fitted.set_params(scorer="discriminator")
    try:
        d = fitted.score(users)  # near equilibrium D need not rank well: only its scores
    finally:
        fitted.set_params(scorer="generator")
    assert d.shape == g.shape and np.isfinite(d).all()
    assert not np.array_equal(g, d)


def test_same_seed_same_scores(data: Interactions) -> None:
    users = np.arange(data.n_users)
    fast = {**TINY, "epochs": 1, "pretrain_epochs": 2}
    a = IRGAN(**fast, seed=4).fit(data).score(users)
    b = IRGAN(**fast, seed=4).fit(data).score(users)
    c = IRGAN(**fast, seed=5).fit(data).score(users)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_save_and_load_give_the_same_scores(fitted: IRGAN, tmp_path: Path) -> None:
    users = np.arange(fitted.n_users)
    fitted.save_pretrained(tmp_path / "irgan")
    loaded = socialgan.load(tmp_path / "irgan")
    assert isinstance(loaded, IRGAN)
    assert loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(loaded.score(users), fitted.score(users))
    assert loaded.discriminator_ is not None and fitted.discriminator_ is not None
    torch.testing.assert_close(loaded.discriminator_.item, fitted.discriminator_.item)
    again = IRGAN.from_pretrained(tmp_path / "irgan")
    np.testing.assert_array_equal(
        again.recommend(["10", "35"], k=5)[0], fitted.recommend(["10", "35"], k=5)[0]
    )


def test_recommend_excludes_seen_items(fitted: IRGAN, data: Interactions) -> None:
    X = data.matrix()
    items, scores = fitted.recommend(list(data.user_ids), k=10)
    assert items.shape == (data.n_users, 10) and np.isfinite(scores).all()
    for u, row in enumerate(items):
        seen = set(data.item_ids[X.indices[X.indptr[u] : X.indptr[u + 1]]])
        assert not seen & set(row)


@pytest.mark.parametrize(
    "bad",
    [
        {"emb_dim": 0},
        {"scorer": "both"},
        {"reward": "log"},
        {"temperature": 0},
        {"lr_d": -1},
        {"optimizer": "rmsprop"},
    ],
)
def test_bad_hyperparameters_are_data_errors(bad: dict) -> None:
    with pytest.raises(DataError):
        IRGAN(**bad)


def test_search_space_names_hyperparameters() -> None:
    params = IRGAN().get_params()
    assert IRGAN.search_space and set(IRGAN.search_space) <= set(params)
    for name, values in IRGAN.search_space.items():
        for value in values:
            IRGAN(**{name: value})  # every grid value is valid
