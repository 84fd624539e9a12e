"""The one lookup of the shared data folder (``socialgan.datapaths``) and its two users."""

from __future__ import annotations

from pathlib import Path

import pytest

import socialgan.datapaths
from socialgan.datapaths import DATA_ENV, data_candidates, find_shared_data
from socialgan.errors import DataError
from socialgan.image.data import find_att_faces
from socialgan.text.data import find_data_dir

SOURCE_DIR = Path(socialgan.datapaths.__file__).resolve().parent


def _shared(base: Path, *folders: str) -> Path:
    """``base/shared/data`` holding the given data-set folders."""
    root = base / "shared" / "data"
    for folder in folders:
        (root / folder).mkdir(parents=True)
    return root


def test_env_variable_wins_over_the_parent_search(tmp_path, monkeypatch):
    nearby = _shared(tmp_path / "work", "youtube_spam", "liar")
    env = tmp_path / "elsewhere"
    (env / "youtube_spam").mkdir(parents=True)
    (tmp_path / "work" / "main").mkdir()
    monkeypatch.chdir(tmp_path / "work" / "main")
    monkeypatch.delenv(DATA_ENV, raising=False)
    assert find_shared_data("youtube_spam") == nearby / "youtube_spam"
    monkeypatch.setenv(DATA_ENV, str(env))
    assert find_shared_data("youtube_spam") == env / "youtube_spam"
    assert find_shared_data() == env
    assert data_candidates("youtube_spam")[0] == env / "youtube_spam"
    # a variable whose folder lacks this data set does not hide the copy the search finds
    assert find_shared_data("liar") == nearby / "liar"


def test_parent_folder_search_from_a_deep_working_directory(tmp_path, monkeypatch):
    root = _shared(tmp_path, "ott_deceptive")
    deep = tmp_path.resolve() / "a" / "b" / "c"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    monkeypatch.delenv(DATA_ENV, raising=False)
    assert find_shared_data("ott_deceptive") == root / "ott_deceptive"
    places = data_candidates("ott_deceptive")
    assert places[:4] == [
        base / "shared" / "data" / "ott_deceptive"
        for base in (deep, deep.parent, deep.parent.parent, deep.parents[2])
    ]
    # then the folders above the source tree (a checkout next to shared/data)
    assert SOURCE_DIR.parent / "shared" / "data" / "ott_deceptive" in places
    assert len(places) == len(set(places))


def test_error_lists_every_place_tried(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="not found; looked in") as e:
        find_shared_data("no_such_folder_xyz")
    message = str(e.value)
    for place in data_candidates("no_such_folder_xyz"):
        assert str(place) in message
    assert str(tmp_path / "nowhere" / "no_such_folder_xyz") in message
    assert str(tmp_path / "shared" / "data" / "no_such_folder_xyz") in message
    assert DATA_ENV in message


def test_text_and_image_loaders_use_the_same_lookup(tmp_path, monkeypatch):
    root = _shared(tmp_path / "data-home", "liar", "images/att_faces/s1")
    (root / "images" / "att_faces" / "s1" / "1.pgm").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOCIALGAN_ATT_FACES", raising=False)
    monkeypatch.setenv(DATA_ENV, str(root))
    assert find_data_dir("liar") == root / "liar"
    assert find_att_faces() == root / "images" / "att_faces"
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "empty"))
    with pytest.raises(DataError, match="looked in") as e:
        find_data_dir("no_such_set_xyz")
    assert str(tmp_path / "empty" / "no_such_set_xyz") in str(e.value)
    monkeypatch.setenv("SOCIALGAN_ATT_FACES", str(tmp_path / "empty"))  # explicit: no fallback
    with pytest.raises(DataError, match="no AT&T faces"):
        find_att_faces()
