import numpy as np
import pytest

from socialgan.errors import DataError
from socialgan.text.data import (
    LIAR_LABELS,
    find_data_dir,
    load_airline,
    load_liar,
    load_named,
    load_ott,
    load_source,
    load_text_file,
    load_tweepfake,
    load_youtube_spam,
)


def test_youtube_spam_counts_groups_and_bom(shared_data):
    d = load_youtube_spam(shared_data)
    assert len(d) == 1956 and int(d.labels.sum()) == 1005
    assert d.label_names == ["ham", "spam"] and d.labels.dtype == np.int64
    assert sorted(set(d.groups)) == ["Eminem", "KatyPerry", "LMFAO", "Psy", "Shakira"]
    assert int((d.groups == "Psy").sum()) == 350
    assert not any("\ufeff" in t for t in d.texts)
    assert list(d.meta.columns) == ["comment_id", "author", "date", "video"]


def test_ott_counts_and_polarity(shared_data):
    d = load_ott(shared_data)
    assert len(d) == 1600 and d.class_counts() == {"truthful": 800, "deceptive": 800}
    assert d.meta["polarity"].value_counts().to_dict() == {"positive": 800, "negative": 800}


def test_liar_splits_labels_and_meta(shared_data):
    sizes = {s: len(load_liar(shared_data, s)) for s in ("train", "valid", "test")}
    assert sizes == {"train": 10269, "valid": 1284, "test": 1283}
    d = load_liar(shared_data, "train")
    assert d.label_names == list(LIAR_LABELS) and d.class_counts()["pants-fire"] == 842
    assert d.meta["party"].iloc[0] == "republican"
    assert d.meta["false_count"].dtype == np.float64
    with pytest.raises(DataError, match="split"):
        load_liar(shared_data, "dev")


def test_airline_and_named(shared_data):
    d = load_airline(shared_data)
    assert d.class_counts() == {"negative": 9178, "neutral": 3099, "positive": 2363}
    assert len(load_named("liar:test", shared_data)) == 1283
    with pytest.raises(DataError, match="unknown data set"):
        load_named("tweets")


def test_tweepfake_splits_families_and_accounts(shared_data):
    sizes = {s: len(load_tweepfake(shared_data, s)) for s in ("train", "validation", "test")}
    assert sizes == {"train": 20712, "validation": 2302, "test": 2558}
    d = load_named("tweepfake:test", shared_data)
    assert d.label_names == ["human", "bot"] and d.class_counts() == {"human": 1278, "bot": 1280}
    fam = d.meta["family"].value_counts().to_dict()
    assert fam == {"human": 1278, "others": 484, "rnn": 412, "gpt2": 384}
    assert (d.labels[d.meta["family"].to_numpy() == "human"] == 0).all()
    assert list(d.groups[:1]) == [d.meta["screen_name"].iloc[0]]
    assert any("\n" in t for t in d.texts)  # quoted multi-line fields survive
    with pytest.raises(DataError, match="split"):
        load_tweepfake(shared_data, "dev")


def test_tweepfake_bad_rows_name_the_row(tmp_path):
    folder = tmp_path / "tweepfake"
    folder.mkdir()
    (folder / "train.csv").write_text(
        "screen_name;text;account.type;class_type\na;hello;human;human\nb;hi;human;gpt2\n"
    )
    with pytest.raises(DataError, match="row 2.*disagrees"):
        load_tweepfake(tmp_path)
    (folder / "train.csv").write_text(
        "screen_name;text;account.type;class_type\na;hello;bot;gpt3\n"
    )
    with pytest.raises(DataError, match="row 1.*unknown family 'gpt3'"):
        load_tweepfake(tmp_path)


def test_airline_seeded_split(shared_data):
    parts = {s: load_named(f"airline:{s}", shared_data) for s in ("train", "validation", "test")}
    assert {s: len(d) for s, d in parts.items()} == {
        "train": 11712,
        "validation": 1464,
        "test": 1464,
    }
    assert parts["test"].class_counts() == {"negative": 918, "neutral": 310, "positive": 236}
    assert parts["test"].name == "airline:test"
    again = load_airline(shared_data, "test")
    assert again.texts == parts["test"].texts  # the same split every time
    with pytest.raises(DataError, match="split"):
        load_airline(shared_data, "dev")


def test_find_data_dir_lists_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOCIALGAN_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="looked in") as e:
        find_data_dir("no_such_folder_xyz")
    assert str(tmp_path / "nowhere" / "no_such_folder_xyz") in str(e.value)
    with pytest.raises(DataError, match="not found"):
        load_ott(tmp_path / "missing")


def _csv(tmp_path, body, name="d.csv", mode="w"):
    path = tmp_path / name
    if mode == "wb":
        path.write_bytes(body)
    else:
        path.write_text(body, encoding="utf-8")
    return path


def test_text_file_csv_and_jsonl(tmp_path):
    d = load_text_file(_csv(tmp_path, "text,label,user\nhi there,spam,a\nhello,ham,b\n"))
    assert d.texts == ["hi there", "hello"] and d.label_names == ["ham", "spam"]
    assert d.labels.tolist() == [1, 0] and list(d.meta.columns) == ["user"]
    p = _csv(tmp_path, '{"body": "a", "y": 1}\n\n{"body": "b", "y": 0}\n', "d.jsonl")
    d = load_text_file(p, "body", "y")
    assert d.labels.tolist() == [1, 0] and d.label_names == ["0", "1"]
    assert len(load_source(str(p), "body", "y")) == 2


@pytest.mark.parametrize(
    "body, match",
    [
        ("content,label\nx,1\ny,0\n", r"missing column\(s\) 'text'.*found columns: 'content'"),
        ("text,label\nok,1\n   ,0\n", r"row 2 \(line 3\), column 'text': empty text"),
        ("text,label\nok,1\nfine,\n", r"row 2 \(line 3\), column 'label': missing label"),
        ("text,label\nok,1\nfine\n", r"line 3: expected 2 fields"),
        ("text,label\nok,1\nok,1\n", r"at least 2 classes"),
        ("text,label\nok,1\n" + "a" * 30 + ",0\n", r"row 2 \(line 3\).*30 characters.*limit of 20"),
    ],
)
def test_csv_validation_errors(tmp_path, body, match):
    with pytest.raises(DataError, match=match) as e:
        load_text_file(_csv(tmp_path, body), max_chars=20)
    assert "d.csv" in str(e.value)


def test_bad_encoding_names_line_and_offset(tmp_path):
    path = _csv(tmp_path, b"text,label\nok,1\ncaf\xe9,0\n", mode="wb")
    with pytest.raises(DataError, match=r"d.csv: not valid UTF-8 at line 3, byte offset 19"):
        load_text_file(path)


def test_jsonl_errors(tmp_path):
    p = _csv(tmp_path, '{"text": "a", "label": 1}\n{"text": \n', "d.jsonl")
    with pytest.raises(DataError, match=r"d.jsonl: line 2: not valid JSON"):
        load_text_file(p)
    p = _csv(tmp_path, '{"text": "a", "label": 1}\n{"text": 5, "label": 0}\n', "e.jsonl")
    with pytest.raises(DataError, match=r"e.jsonl: row 2 \(line 2\), column 'text': expected"):
        load_text_file(p)


def test_subset_and_frame(tiny_multi):
    sub = tiny_multi.subset([0, 5])
    assert sub.texts == [tiny_multi.texts[0], tiny_multi.texts[5]]
    assert list(sub.to_frame().columns) == ["text", "party", "tags", "count"]
