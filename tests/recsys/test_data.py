from pathlib import Path

import numpy as np
import pytest

from socialgan.errors import DataError
from socialgan.recsys.data import (
    load_dataset,
    load_filmtrust,
    load_lastfm,
    read_interactions,
    read_pair,
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text",
    [
        "1\t10\t5\t100\n1\t11\t3\t200\n2\t10\t4\t150\n",
        "user,item,rating,ts\n1,10,5,100\n1,11,3,200\n2,10,4,150\n",
        "1 10 5 100\n1  11 3 200\n2 10 4 150\n",
    ],
)
def test_reads_tab_comma_and_space_files_with_or_without_header(tmp_path, text):
    data = read_interactions(write(tmp_path, "u.data", text))
    assert (data.n_users, data.n_items, data.nnz) == (2, 2, 3)
    assert data.user_ids.tolist() == ["1", "2"]
    assert data.ratings.tolist() == [5, 3, 4]
    assert data.timestamps is not None and data.timestamps.tolist() == [100, 200, 150]
    assert data.matrix().toarray().tolist() == [[1, 1], [1, 0]]


def test_min_rating_makes_implicit_feedback(tmp_path):
    data = read_interactions(write(tmp_path, "r.txt", "1 10 5\n1 11 2\n2 10 4\n"), min_rating=4)
    assert data.nnz == 2 and data.item_ids.tolist() == ["10"]
    with pytest.raises(DataError, match="min_rating"):
        read_interactions(write(tmp_path, "r2.txt", "1 10 1\n"), min_rating=4)


def test_user_item_pairs_without_ratings(tmp_path):
    data = read_interactions(write(tmp_path, "pairs.txt", "a x\nb y\n"))
    assert data.ratings.tolist() == [1.0, 1.0] and data.timestamps is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("1 10 5\n1 10 4\n", r"line 2: user '1' and item '10' appear again \(first at line 1\)"),
        ("1 10 5\n2 11 -1\n", "line 2: the rating '-1' is negative"),
        ("1 10 5\n2 11 good\n", "line 2: the rating 'good' is not a number"),
        ("1 10 5 100\n2 11 3 yesterday\n", "line 2: the timestamp 'yesterday' is not a number"),
        ("1 10 5\n7\n", "line 2: expected 'user item"),
    ],
)
def test_bad_files_name_the_line(tmp_path, text, message):
    path = write(tmp_path, "bad.txt", text)
    with pytest.raises(DataError, match=message) as info:
        read_interactions(path)
    assert str(path) in str(info.value)


def test_duplicates_can_keep_first_or_last(tmp_path):
    path = write(tmp_path, "dup.txt", "1 10 5\n1 10 2\n2 10 3\n")
    assert read_interactions(path, duplicates="last").ratings.tolist() == [2, 3]
    assert read_interactions(path, duplicates="first").ratings.tolist() == [5, 3]


def test_given_pair_shares_the_train_id_space(tmp_path):
    train = write(tmp_path, "a.train", "1 10 1\n1 11 1\n2 12 1\n")
    test = write(tmp_path, "a.test", "2 10 1\n3 10 1\n1 99 1\n")
    a, b = read_pair(train, test)
    assert b.nnz == 1  # user 3 and item 99 are unknown to train
    assert b.user_ids is a.user_ids
    assert a.user_ids[b.users[0]] == "2" and a.item_ids[b.items[0]] == "10"
    with pytest.raises(DataError, match="none of its users"):
        read_pair(train, write(tmp_path, "b.test", "9 99 1\n"))


def test_missing_or_folder_paths_are_clear(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_dataset(tmp_path / "nope.txt")
    with pytest.raises(DataError, match="a folder"):
        load_dataset(tmp_path)


def test_lastfm_matches_recbole_gnn_counts(shared_data):
    data = load_lastfm(shared_data / "lastfm_hetrec")
    assert (data.n_users, data.n_items, data.nnz) == (1892, 17632, 92834)
    assert data.social is not None and data.social.nnz == 25434  # undirected, both ways
    assert (data.social != data.social.T).nnz == 0
    assert data.item_names is not None and data.item_names[0] == "MALICE MIZER"


def test_filmtrust_keeps_the_directed_trust_network(shared_data):
    data = load_filmtrust(shared_data / "filmtrust")
    assert data.nnz == 35494 and data.n_users == 1508
    assert data.social is not None and data.social.nnz > 0
    assert (data.social != data.social.T).nnz > 0
    assert np.all(data.ratings > 0)
