import numpy as np
import pytest

from socialgan.errors import DataError
from socialgan.recsys.data import read_interactions
from socialgan.recsys.split import (
    given_split,
    holdout_split,
    leave_one_out,
    make_split,
    ratio_split,
    split_counts,
    temporal_split,
)


def test_split_counts_follow_recbole():
    assert split_counts(10, [0.8, 0.1, 0.1]) == [8, 1, 1]
    assert split_counts(5, [0.8, 0.1, 0.1]) == [3, 1, 1]
    assert split_counts(2, [0.8, 0.1, 0.1]) == [1, 0, 1]
    assert split_counts(1, [0.8, 0.1, 0.1]) == [1, 0, 0]


def _same_rows(split, data):
    parts = [split.train, split.valid, split.test]
    total = sum(p.nnz for p in parts if p is not None)
    pairs = set()
    for p in parts:
        if p is not None:
            pairs |= set(zip(p.users.tolist(), p.items.tolist(), strict=True))
    return total == data.nnz and len(pairs) == data.nnz


@pytest.mark.parametrize(
    "make",
    [
        lambda d: ratio_split(d, seed=3),
        lambda d: holdout_split(d),
        lambda d: leave_one_out(d),
        lambda d: make_split(d, "holdout"),
    ],
)
def test_every_user_keeps_training_items_and_rows_are_partitioned(toy, make):
    split = make(toy)
    assert _same_rows(split, toy)
    per_user = np.bincount(split.train.users, minlength=toy.n_users)
    assert (per_user > 0).all()


def test_ratio_split_is_seeded_and_per_user(toy):
    a, b, c = ratio_split(toy, seed=1), ratio_split(toy, seed=1), ratio_split(toy, seed=2)
    assert a.test.items.tolist() == b.test.items.tolist()
    assert a.test.items.tolist() != c.test.items.tolist()
    assert set(np.unique(a.test.users)) == set(range(toy.n_users))  # 8 items each: 1 to test


def test_leave_one_out_and_temporal_use_time(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("".join(f"1 {i} 1 {100 - i}\n" for i in range(5)))
    data = read_interactions(path)
    loo = leave_one_out(data)
    assert data.item_ids[loo.test.items].tolist() == ["0"]  # the latest (timestamp 100)
    assert data.item_ids[loo.valid.items].tolist() == ["1"]
    temporal = temporal_split(data, (0.6, 0.2, 0.2))
    assert data.item_ids[temporal.test.items].tolist() == ["0"]
    no_time = tmp_path / "n.txt"
    no_time.write_text("1 1\n1 2\n")
    with pytest.raises(DataError, match="no timestamps"):
        temporal_split(read_interactions(no_time))


def test_an_empty_split_is_a_clear_error(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text("1 1\n2 2\n")
    with pytest.raises(DataError, match="valid split .* is empty"):
        ratio_split(read_interactions(path))


def test_given_split_fits_the_final_model_on_all_of_train(toy):
    inner = ratio_split(toy, (0.8, 0.2), seed=0)
    split = given_split(inner.train, inner.test)
    assert split.final_train is inner.train
    assert split.train.nnz + split.valid.nnz == inner.train.nnz
    assert split.test_exclude() == [inner.train]
    with pytest.raises(DataError, match="unknown split"):
        make_split(toy, "kfold")
