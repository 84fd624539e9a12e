"""Account-table loading: a user's files (tiny fixtures) and the real named tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from socialgan.errors import DataError
from socialgan.tabular.data import (
    LABEL_COLUMNS,
    NAMED_TABLES,
    TWITTER_BOOL_COLUMNS,
    TWITTER_COUNT_COLUMNS,
    load_adult,
    load_table,
    load_twitter_bots,
    read_table,
)
from socialgan.text.readers import read_text


def _write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


LATIN1 = "name,city\nann,Paris\nbob,Orl\xe9ans\n".encode("latin-1")


def test_latin1_read_as_utf8_names_file_line_byte_and_the_fix(tmp_path):
    path = _write(tmp_path, "t.csv", LATIN1)
    with pytest.raises(DataError, match=r"t.csv: not valid UTF-8 at line 3, byte offset 27") as e:
        read_table(path)
    assert "(byte 0xe9)" in str(e.value) and "--encoding latin-1" in str(e.value)


def test_latin1_read_with_its_encoding(tmp_path):
    frame = read_table(_write(tmp_path, "t.csv", LATIN1), encoding="latin-1")
    assert frame["city"].tolist() == ["Paris", "Orléans"]
    with pytest.raises(DataError, match="unknown text encoding 'klingon'"):
        read_text(tmp_path / "t.csv", "klingon")


def test_empty_fields_are_missing_but_na_strings_are_values(tmp_path):
    frame = read_table(_write(tmp_path, "t.tsv", "name\tn\nNA\t1\n\t2\n"))
    assert frame["name"].iloc[0] == "NA" and pd.isna(frame["name"].iloc[1])
    assert frame["n"].dtype == "int64"
    assert read_table(_write(tmp_path, "t.txt", "a;b\n1;2\n"), sep=";").shape == (1, 2)


def test_header_only_and_empty(tmp_path):
    with pytest.raises(DataError, match=r"h.csv: no rows"):
        read_table(_write(tmp_path, "h.csv", "a,b\n"))
    with pytest.raises(DataError, match=r"e.csv: file is empty"):
        read_table(_write(tmp_path, "e.csv", "\n"))


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("a,b\n1,2\n3,4,5\n", r"b.csv: line 3: expected 2 fields \(a, b\), found 3"),
        ("a,b\n1,2\n\n3\n", r"b.csv: line 4: expected 2 fields"),  # pandas would pad it
        ('a,b\n1,"x\ny"\n1,2,3\n', r"b.csv: line 4: expected 2 fields"),  # a quoted newline
        ("a,a\n1,2\n", r"b.csv: line 1: duplicate column name"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path, body, match):
    with pytest.raises(DataError, match=match):
        read_table(_write(tmp_path, "b.csv", body))


def test_jsonl(tmp_path):
    frame = read_table(_write(tmp_path, "t.jsonl", '{"a": 1, "b": "x"}\n\n{"a": 2, "c": true}\n'))
    assert list(frame.columns) == ["a", "b", "c"] and frame["a"].tolist() == [1, 2]
    with pytest.raises(DataError, match=r"u.jsonl: line 2: not valid JSON"):
        read_table(_write(tmp_path, "u.jsonl", '{"a": 1}\n{"a": \n'))
    with pytest.raises(DataError, match=r"v.jsonl: line 1: expected a JSON object, found list"):
        read_table(_write(tmp_path, "v.jsonl", "[1, 2]\n"))


def test_load_table_names_and_files(tmp_path):
    with pytest.raises(DataError, match=r"'nope' is neither a named table \(twitter-bots, adult"):
        load_table("nope")
    assert load_table(str(_write(tmp_path, "t.csv", "a\n1\n")))["a"].tolist() == [1]
    assert set(LABEL_COLUMNS) == set(NAMED_TABLES)


_HEADER = (
    "id,id_str,screen_name,location,description,url,followers_count,friends_count,"
    "listedcount,created_at,favourites_count,verified,statuses_count,lang,status,"
    "default_profile,default_profile_image,has_extended_profile,name,bot\n"
)


def test_twitter_bots_cleaning_on_a_tiny_copy(tmp_path):
    folder = tmp_path / "twitter_bots"
    folder.mkdir()
    bots = _HEADER + (
        "8.41E+17,8.41E+17,b1,,Pok\u00e9mon bot,None,1,2,3,13/03/2017 22:21,4,FALSE,5,en,"
        "None,TRUE,FALSE,,B1,1\n"
        '7,"""7""","""b2""","""""","""a\\nb""",null,1,2,3,"""Sat Oct 17 22:35:31 +0000 2015""",'
        '4,TRUE,5,"""zh-CN""",null,FALSE,FALSE,TRUE,"""B2""",1\n'
        "9,9,Both,,,,1,2,3,12/30/2015 4:20,4,FALSE,5,en,x,TRUE,TRUE,FALSE,X,1\n"
    )
    humans = _HEADER + "9,9,both,,,,1,2,3,12/30/2015 4:20,4,FALSE,5,en,x,TRUE,TRUE,FALSE,X,0\n"
    (folder / "bots_data.csv").write_bytes(bots.encode("mac_roman"))
    (folder / "nonbots_data.csv").write_bytes(humans.encode("mac_roman"))

    frame = load_twitter_bots(tmp_path)
    assert frame["screen_name"].tolist() == ["b1", "b2"]  # "Both"/"both" conflict dropped
    assert frame["created_at"].tolist() == [
        pd.Timestamp("2017-03-13 22:21"),
        pd.Timestamp("2015-10-17 22:35:31"),
    ]
    assert frame["description"].tolist() == ["Pokémon bot", "a\nb"]
    assert frame[["url", "status", "location"]].isna().all().all()
    assert frame["lang"].tolist() == ["en", "zh-cn"] and frame["name"].tolist() == ["B1", "B2"]
    assert frame["verified"].dtype == bool and frame["has_extended_profile"].dtype == "boolean"
    assert frame["followers_count"].dtype == "int64" and "id" not in frame.columns
    kept = load_twitter_bots(folder, drop_conflicts=False)
    assert kept["bot"].tolist() == [1, 1, 1, 0]
    assert kept["created_at"].iloc[3] == pd.Timestamp("2015-12-30 04:20")


def test_twitter_bots_real(shared_data):
    frame = load_twitter_bots(shared_data)
    assert len(frame) == 2_221 and frame["bot"].sum() == 1_051
    kept = load_twitter_bots(shared_data, drop_conflicts=False)
    assert len(kept) == 2_231 and kept["bot"].sum() == 1_056  # 1,056 + 1,175
    assert frame["screen_name"].str.lower().is_unique
    assert frame["created_at"].dtype == "datetime64[ns]" and frame["created_at"].notna().all()
    assert frame["created_at"].between("2006-01-01", "2018-01-01").all()
    for column in TWITTER_BOOL_COLUMNS:
        assert frame[column].dtype in (bool, pd.BooleanDtype()), column
    assert frame["has_extended_profile"].isna().sum() == 78
    assert all(frame[c].dtype == "int64" for c in TWITTER_COUNT_COLUMNS)
    assert not frame["screen_name"].str.startswith('"').any()
    assert frame["bot"].dtype == "int64" and LABEL_COLUMNS["twitter-bots"] == "bot"


def test_adult_real(shared_data):
    train, test = load_adult(shared_data), load_adult(shared_data, "test")
    assert (len(train), len(test)) == (32_561, 16_281)
    for frame in (train, test):
        assert set(frame["Y"]) == {"<=50K", ">50K"}
        assert frame["age"].dtype == "int64" and (frame["workclass"] == "?").any()
    assert len(load_adult(shared_data, "all")) == 48_842
    with pytest.raises(DataError, match="unknown split 'dev'"):
        load_adult(shared_data, "dev")
