"""AccountFeatures on hand-made rows with known values, on a table without Twitter names,
JSON round trips and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from socialgan.errors import DataError
from socialgan.tabular.features import AccountFeatures
from socialgan.tabular.features_text import name_similarity, status_parts

DUMP = (
    "{'created_at': 'Fri Feb 26 17:01:15 +0000 2016', 'text': 'The price of duckNote is "
    "0.000085 USD #crypto @someone', 'source': '<a href=\"http://l50.co/cryptobot\" "
    "rel=\"nofollow\">Ducknote Price</a>', 'lang': 'en'}"
)
TWEEPY = (
    "Status(_api=<tweepy.api.API object at 0x1>, _json={'text': '@FoxNews hi'}, "
    "source='Twitter for Android', source_url='http://twitter.com/download/android')"
)


def rows() -> pd.DataFrame:
    """Three accounts with known feature values; the newest is created 2017-01-11."""
    return pd.DataFrame(
        {
            "screen_name": ["jane_doe", "Spam_Bot2017", "x"],
            "name": ["Jane Doe", "cheap deals", None],
            "followers_count": [100, 0, 5],
            "friends_count": [10, 2000, 0],
            "statuses_count": [500, 100000, 0],
            "favourites_count": [250, 0, 3],
            "listedcount": [4, 0, 0],
            "created_at": pd.to_datetime(["2016-12-12", "2017-01-01", "2017-01-11"]),
            "verified": [True, False, None],
            "lang": ["en", "en", "de"],
            "description": ["news at https://x.co #a #b @c", None, "hi"],
            "status": [DUMP, TWEEPY, "plain text"],
            "bot": [0, 1, 1],
        }
    )


@pytest.fixture(scope="module")
def fitted() -> tuple[AccountFeatures, pd.DataFrame]:
    feats = AccountFeatures(exclude=["bot"], min_category_count=2).fit(rows())
    return feats, feats.transform_frame(rows())


def test_counts_ages_and_ratios(fitted):
    feats, X = fitted
    assert not any(n.startswith("bot") for n in feats.feature_names_)
    assert X["followers_count:log1p"].tolist() == pytest.approx(np.log1p([100, 0, 5]))
    assert X["created_at:age_days"].tolist() == pytest.approx([30, 10, 0])
    assert X["ratio:followers_per_friend"].tolist() == pytest.approx(np.log1p([10, 0, 5]))
    assert X["ratio:statuses_per_day"].tolist() == pytest.approx(np.log1p([500 / 30, 1e4, 0]))
    assert X["ratio:favourites_per_status"].tolist() == pytest.approx(np.log1p([0.5, 0, 3]))
    assert X["ratio:listed_per_follower"].tolist() == pytest.approx(np.log1p([0.04, 0, 0]))
    assert feats.state_["reference"] == {"created_at": "2017-01-11T00:00:00"}


def test_flags_categories_and_text(fitted):
    _, X = fitted
    assert X["verified:true"].tolist() == [1, 0, 0]
    assert X["verified:missing"].tolist() == [0, 0, 1]
    assert X["lang=en"].tolist() == [1, 1, 0] and "lang=de" not in X  # seen once only
    assert X["lang:other"].tolist() == [0, 0, 1]
    assert X["description:urls"].tolist() == [1, 0, 0]
    assert X["description:hashtags"].tolist() == [2, 0, 0]
    assert X["description:mentions"].tolist() == [1, 0, 0]
    assert X["description:empty"].tolist() == [0, 1, 0]
    assert X["status:mentions"].tolist() == [1, 1, 0]  # the tweet text, not the dump
    assert "status:source:missing" in X


def test_screen_name_patterns(fitted):
    _, X = fitted
    assert X["screen_name:length"].tolist() == [8, 12, 1]
    assert X["screen_name:digits"].tolist() == [0, 4, 0]
    assert X["screen_name:digit_share"].tolist() == pytest.approx([0, 4 / 12, 0])
    assert X["screen_name:trailing_digits"].tolist() == [0, 4, 0]
    assert X["screen_name:upper_share"].tolist() == pytest.approx([0, 2 / 12, 0])
    assert X["screen_name:underscores"].tolist() == [1, 1, 0]
    assert X["screen_name:has_bot"].tolist() == [0, 1, 0]
    assert X["name:similarity"].tolist()[0] == 1.0 and X["name:similarity"].tolist()[2] == 0
    assert name_similarity("Jane Doe", "jane_doe") == 1.0
    assert 0 < name_similarity("cheap deals", "Spam_Bot2017") < 0.5


def test_status_dumps_give_their_text_and_client():
    assert status_parts(DUMP) == (
        "The price of duckNote is 0.000085 USD #crypto @someone",
        "ducknote price",
    )
    assert status_parts(TWEEPY) == ("@FoxNews hi", "twitter for android")
    assert status_parts("just a tweet") == ("just a tweet", None)
    assert status_parts(None) == ("", None)


def test_state_is_json_and_round_trips(fitted):
    feats, X = fitted
    again = AccountFeatures.from_dict(json.loads(json.dumps(feats.to_dict())))
    assert again.feature_names_ == feats.feature_names_
    np.testing.assert_array_equal(again.transform(rows()), X.to_numpy())


def test_reference_time_is_the_training_one(fitted):
    feats, _ = fitted
    later = rows().assign(created_at=pd.to_datetime(["2017-01-01", "2030-01-01", None]))
    X = feats.transform_frame(later.drop(columns="bot"))
    assert X["created_at:age_days"].tolist() == [10, 0, 0]  # the future clips to 0
    assert X["created_at:missing"].tolist() == [0, 0, 1]


def test_hashed_tfidf_block():
    feats = AccountFeatures(exclude=["bot"], hash_features=64).fit(rows())
    X = feats.transform(rows())
    mask = feats.text_columns()
    assert mask.sum() == 64 and X.shape[1] == len(feats.feature_names_)
    word, char = X[:, mask][:, :32], X[:, mask][:, 32:]
    assert np.linalg.norm(word, axis=1) == pytest.approx([1, 1, 1])
    assert np.linalg.norm(char, axis=1) == pytest.approx([1, 1, 1])
    again = AccountFeatures.from_dict(json.loads(json.dumps(feats.to_dict())))
    np.testing.assert_array_equal(again.transform(rows()), X)


def test_any_table_by_column_kind():
    table = pd.DataFrame(
        {
            "karma": [1.5, 20.0, 3.0, 4.0],
            "joined": ["2020-01-01", "2020-01-05", "2020-01-03", "2020-01-02"],
            "is_mod": ["yes", "no", "no", "yes"],
            "bio": ["I like cats and dogs", "buy now http://spam", "hello there friend", "x y"],
            "country": ["fr", "fr", "us", "fr"],
        }
    )
    feats = AccountFeatures(min_category_count=2).fit(table)
    X = feats.transform_frame(table)
    assert X["joined:age_days"].tolist() == [4, 0, 2, 3]
    assert X["is_mod:true"].tolist() == [1, 0, 0, 1]
    assert X["karma:log1p"].tolist() == pytest.approx(np.log1p([1.5, 20, 3, 4]))
    assert X["country=fr"].tolist() == [1, 1, 0, 1] and X["bio:urls"].tolist() == [0, 1, 0, 0]
    assert not any(n.startswith("ratio:") for n in feats.feature_names_)


def test_bad_input(fitted):
    feats, _ = fitted
    with pytest.raises(DataError, match=r"missing column\(s\) \['friends_count'\]"):
        feats.transform(rows().drop(columns="friends_count"))
    garbage = rows().astype({"followers_count": object})
    garbage.loc[1, "followers_count"] = "lots"
    with pytest.raises(DataError, match=r"'followers_count'.*row 2 holds 'lots'"):
        feats.transform(garbage)
    with pytest.raises(DataError, match=r"'followers_count'.*row 2 holds 'lots'"):
        AccountFeatures(exclude=["bot"]).fit(garbage)
    with pytest.raises(DataError, match=r"'verified' is a flag.*row 1 holds 'maybe'"):
        feats.transform(rows().assign(verified=["maybe", True, False]))
    with pytest.raises(DataError, match="no rows"):
        feats.transform(rows().iloc[:0])
    with pytest.raises(ValueError, match="not fitted"):
        AccountFeatures().transform(rows())
    with pytest.raises(DataError, match="incomplete"):
        AccountFeatures.from_dict({"params": {}})
