"""CFGAN: the engine's game steps, the masks, learning a planted structure, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import socialgan
from socialgan.errors import DataError
from socialgan.recsys.data import Interactions
from socialgan.recsys.models.cfgan import CFGAN, PurchaseBatches

from .conftest import own_group_share, planted

#: Small nets and a faster game than the ML-100K defaults, for 40 users x 30 items.
TINY = dict(hidden_g=32, hidden_d=16, lr_g=1e-3, lr_d=1e-3, batch_size=8)


@pytest.fixture(scope="module")
def data() -> Interactions:
    return planted()


@pytest.fixture(scope="module")
def fitted(data: Interactions) -> CFGAN:
    model = CFGAN(**TINY, epochs=200, seed=0)
    model.fit(data)
    return model


def test_one_d_step_and_one_g_step_change_their_nets(data: Interactions) -> None:
    trainer = CFGAN(**TINY, epochs=1)._build_trainer(data.matrix())
    g0 = [p.detach().clone() for p in trainer.G.parameters()]
    d0 = [p.detach().clone() for p in trainer.D.parameters()]
    d_out = trainer.d_step()
    assert d_out is not None and torch.isfinite(d_out["loss_d"])
    assert any(not torch.equal(a, b) for a, b in zip(d0, trainer.D.parameters(), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(g0, trainer.G.parameters(), strict=True))
    g_out = trainer.g_step()
    assert g_out is not None and torch.isfinite(g_out["loss_g"])
    assert float(g_out["g_reg"]) > 0  # ZR + L2 on G are in the generator's loss
    assert any(not torch.equal(a, b) for a, b in zip(g0, trainer.G.parameters(), strict=True))
    for p in (*trainer.G.parameters(), *trainer.D.parameters()):
        assert torch.isfinite(p).all()


def test_masks_sample_only_non_purchased_items(data: Interactions) -> None:
    X = data.matrix()
    batches = PurchaseBatches(X, batch_size=16, seed=3, zr_ratio=0.7, pm_ratio=0.3)
    real, y = batches.batch(5)
    n = X.shape[1]
    c, pm, zr = y[:, :n], y[:, n : 2 * n], y[:, 2 * n :]
    assert torch.equal(c, real)
    assert torch.equal(pm * c, c)  # e_u + k_u keeps every purchase ...
    assert not bool((zr * c).any())  # ... and ZR never picks one
    free = (c == 0).sum()
    assert 0.55 < float(zr.sum() / free) < 0.85
    assert 0.15 < float(((pm - c).sum()) / free) < 0.45
    again = batches.batch(5)  # a pure function of the index (the engine's contract)
    assert torch.equal(again[0], real) and torch.equal(again[1], y)
    off = PurchaseBatches(X, batch_size=16, seed=3, zr_ratio=0.0, pm_ratio=0.0).batch(5)[1]
    assert torch.equal(off[:, n : 2 * n], off[:, :n]) and not bool(off[:, 2 * n :].any())


def test_learns_the_planted_taste_groups(fitted: CFGAN) -> None:
    assert own_group_share(fitted) >= 0.8
    untrained = CFGAN(**{**TINY, "lr_g": 1e-9, "lr_d": 1e-9}, epochs=1).fit(fitted.train_)
    assert own_group_share(untrained) < 0.75  # the check can fail: chance is about 0.5


def test_item_mode_learns_too(data: Interactions) -> None:
    model = CFGAN(**TINY, mode="item", epochs=150, seed=0).fit(data)
    assert own_group_share(model) >= 0.8


def test_same_seed_same_scores(data: Interactions) -> None:
    users = np.arange(data.n_users)
    a = CFGAN(**TINY, epochs=5, seed=4).fit(data).score(users)
    b = CFGAN(**TINY, epochs=5, seed=4).fit(data).score(users)
    c = CFGAN(**TINY, epochs=5, seed=5).fit(data).score(users)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_save_and_load_give_the_same_scores(fitted: CFGAN, tmp_path: Path) -> None:
    users = np.arange(fitted.n_users)
    fitted.save_pretrained(tmp_path / "cfgan")
    loaded = socialgan.load(tmp_path / "cfgan")
    assert isinstance(loaded, CFGAN)
    assert loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(loaded.score(users), fitted.score(users))
    again = CFGAN.from_pretrained(tmp_path / "cfgan")
    np.testing.assert_array_equal(
        again.recommend(["10", "35"], k=5)[0], fitted.recommend(["10", "35"], k=5)[0]
    )


def test_item_mode_round_trip(data: Interactions, tmp_path: Path) -> None:
    model = CFGAN(**TINY, mode="item", epochs=3).fit(data)
    model.save_pretrained(tmp_path / "item")
    loaded = socialgan.load(tmp_path / "item")
    users = np.arange(data.n_users)
    np.testing.assert_array_equal(loaded.score(users), model.score(users))


def test_recommend_excludes_seen_items(fitted: CFGAN, data: Interactions) -> None:
    X = data.matrix()
    items, scores = fitted.recommend(list(data.user_ids), k=10)
    assert items.shape == (data.n_users, 10) and np.isfinite(scores).all()
    for u, row in enumerate(items):
        seen = set(data.item_ids[X.indices[X.indptr[u] : X.indptr[u + 1]]])
        assert not seen & set(row)


@pytest.mark.parametrize(
    "bad",
    [{"scheme": "xx"}, {"mode": "both"}, {"epochs": 0}, {"zr_ratio": 1.5}, {"lr_g": 0.0}],
)
def test_bad_hyperparameters_are_data_errors(bad: dict) -> None:
    with pytest.raises(DataError):
        CFGAN(**bad)


def test_search_space_names_hyperparameters() -> None:
    params = CFGAN().get_params()
    assert CFGAN.search_space and set(CFGAN.search_space) <= set(params)
    for name, values in CFGAN.search_space.items():
        for value in values:
            CFGAN(**{name: value})  # every grid value is valid
