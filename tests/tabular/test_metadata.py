"""TableMetadata: kind inference on a small table with every column type, overrides,
serialization, and every refusal of infer and validate."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from socialgan.errors import DataError
from socialgan.tabular.metadata import KINDS, ColumnMeta, TableMetadata


def account_frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Every column type: whole counts with a zero, floats in two clusters, floats with
    NaNs, a category with a missing value, a flag, a datetime in seconds with a NaT, free
    text and an identifier."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(300, n)
    counts[0] = 0
    score = np.concatenate([rng.normal(-5.0, 0.5, n // 2), rng.normal(10.0, 1.0, n - n // 2)])
    ratio = rng.uniform(0.0, 1.0, n)
    ratio[[3, 7, 11]] = np.nan
    plan = pd.Series(rng.choice(["free", "pro", "team"], n))
    plan[[2, 5]] = None
    seconds = pd.to_timedelta(rng.integers(0, 10**8, n), unit="s")
    created = (pd.Timestamp("2020-01-01") + pd.Series(seconds)).astype("datetime64[s]")
    created[4] = pd.NaT
    return pd.DataFrame(
        {
            "followers": counts,
            "score": score,
            "ratio": ratio,
            "plan": plan,
            "verified": rng.random(n) < 0.3,
            "created": created,
            "bio": [f"I post about topic {i} every day" for i in range(n)],
            "handle": [f"user_{i:04d}" for i in range(n)],
        }
    )


EXPECTED = {
    "followers": ColumnMeta("followers", "continuous", integer=True, nonnegative=True),
    "score": ColumnMeta("score", "continuous"),
    "ratio": ColumnMeta("ratio", "continuous", nonnegative=True),
    "plan": ColumnMeta("plan", "categorical"),
    "verified": ColumnMeta("verified", "boolean"),
    "created": ColumnMeta("created", "datetime"),
    "bio": ColumnMeta("bio", "text"),
    "handle": ColumnMeta("handle", "id"),
}


def infer(frame: pd.DataFrame, **kw: object) -> TableMetadata:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return TableMetadata.infer(frame, max_categories=10, **kw)  # type: ignore[arg-type]


def test_infer_kinds_and_warns_about_text_and_ids() -> None:
    with pytest.warns(UserWarning, match=r"free text: bio; identifiers: handle") as caught:
        meta = TableMetadata.infer(account_frame(), max_categories=10)
    assert len(caught) == 1
    assert {c.name: c for c in meta.columns} == EXPECTED
    assert [c.name for c in meta.modeled()] == list(EXPECTED)[:6]
    assert meta["plan"].kind == "categorical"


def test_infer_parses_text_columns() -> None:
    frame = pd.DataFrame(
        {
            "n": ["1", "2", "30", None],
            "x": ["1.5", "-2", "3e2", "4"],
            "day": ["2021-01-05", "2021-02-03 10:00", None, "2022-12-31"],
            "flag": ["yes", "No", "YES", None],
            "tf": ["True", "false", "TRUE", "False"],
            "month": ["May", "June", "May", "July"],
            "obj_bool": pd.Series([True, False, None, True], dtype=object),
        }
    )
    kinds = {c.name: (c.kind, c.integer, c.nonnegative) for c in infer(frame).columns}
    assert kinds == {
        "n": ("continuous", True, True),
        "x": ("continuous", False, False),
        "day": ("datetime", False, False),
        "flag": ("boolean", False, False),
        "tf": ("boolean", False, False),
        "month": ("categorical", False, False),  # month names alone are not dates
        "obj_bool": ("boolean", False, False),
    }


def test_discrete_columns_and_overrides() -> None:
    frame = account_frame()
    meta = infer(
        frame,
        discrete_columns=["followers", "verified"],
        metadata={"score": {"kind": "continuous", "integer": True}, "bio": "categorical"},
    )
    assert meta["followers"] == ColumnMeta("followers", "categorical")
    assert meta["verified"].kind == "boolean"
    assert meta["score"] == ColumnMeta("score", "continuous", integer=True, nonnegative=False)
    assert meta["bio"].kind == "categorical"
    assert infer(frame, metadata={"ratio": "continuous"})["ratio"].nonnegative


def test_round_trip_through_json() -> None:
    meta = infer(account_frame())
    again = TableMetadata.from_dict(json.loads(json.dumps(meta.to_dict())))
    assert again == meta
    assert ColumnMeta.from_dict(meta["followers"].to_dict()) == meta["followers"]


def test_infer_errors() -> None:
    frame = account_frame()
    with pytest.raises(DataError, match=r"unknown column 'nope'.*followers, score"):
        infer(frame, metadata={"nope": "categorical"})
    with pytest.raises(DataError, match=r"unknown column 'nope'"):
        infer(frame, discrete_columns=["nope"])
    with pytest.raises(
        DataError, match="unknown kind 'number'; expected one of " + ", ".join(KINDS)
    ):
        infer(frame, metadata={"score": "number"})
    with pytest.raises(DataError, match=r"'plan'.*integer applies to continuous columns only"):
        infer(frame, metadata={"plan": {"kind": "categorical", "integer": True}})
    with pytest.raises(DataError, match=r"unknown column 'nope'; the columns are: followers"):
        infer(frame)["nope"]
    with pytest.raises(DataError, match="max_categories"):
        TableMetadata.infer(frame, max_categories=0)
    with pytest.raises(DataError, match="column names must be strings, got 0"):
        infer(pd.DataFrame({0: [1, 2]}))
    with pytest.raises(DataError, match="columns named twice: a"):
        infer(pd.DataFrame([[1, 2]], columns=["a", "a"]))


def test_validate_accepts_the_table() -> None:
    frame = account_frame()
    infer(frame).validate(frame)


@pytest.mark.parametrize(
    ("column", "values", "match"),
    [
        ("ratio", [np.nan] * 4, r"accounts.csv: column 'ratio' is empty \(every row is missing\)"),
        (
            "plan",
            ["pro", None, "pro", "pro"],
            r"column 'plan' holds a single value \('pro'\); drop it",
        ),
        ("score", [2.0, 2.0, np.nan, 2.0], r"'score' holds a single value.*fixed condition"),
        ("score", [1.0, np.inf, 2.0, 3.0], r"'score' is continuous but row 2 holds inf"),
    ],
)
def test_validate_refuses_bad_columns(column: str, values: list, match: str) -> None:
    meta = infer(account_frame())
    frame = account_frame().head(4).copy()
    frame[column] = values
    with pytest.raises(DataError, match=match):
        meta.validate(frame, source="accounts.csv")


def test_validate_refuses_mixed_types() -> None:
    frame = pd.DataFrame(
        {"n": ["1", "2", "x7", "4"], "day": ["2020-01-01", "2020-02-01", "?", None]}
    )
    meta = TableMetadata([ColumnMeta("n", "continuous"), ColumnMeta("day", "datetime")])
    with pytest.raises(
        DataError,
        match=r"column 'n' is continuous but row 3 holds 'x7', not a finite number.*"
        r"declare the column categorical \(metadata=\{'n': 'categorical'\}\)",
    ):
        meta.validate(frame)
    frame["n"] = ["1", "2", "3", "4"]
    with pytest.raises(
        DataError, match=r"column 'day' is datetime but row 3 holds '\?'.*categorical"
    ):
        meta.validate(frame)
    numbers = pd.DataFrame({"day": [1, 2, 3]})
    with pytest.raises(DataError, match=r"'day' is datetime but holds numbers"):
        TableMetadata([ColumnMeta("day", "datetime")]).validate(numbers)


def test_validate_refuses_bad_tables() -> None:
    meta = infer(account_frame())
    frame = account_frame().head(4).copy()
    with pytest.raises(DataError, match=r"t.csv: 1 row\(s\); expected at least 2 rows"):
        meta.validate(frame.head(1), source="t.csv")
    with pytest.raises(DataError, match=r"no column 'plan'; the columns are"):
        meta.validate(frame.drop(columns="plan"))
    text_only = TableMetadata([ColumnMeta("bio", "text"), ColumnMeta("handle", "id")])
    with pytest.raises(DataError, match="no column to model.*bio=text, handle=id"):
        text_only.validate(frame)
    with pytest.raises(DataError, match="columns named twice: plan"):
        TableMetadata([ColumnMeta("plan", "categorical"), ColumnMeta("plan", "boolean")])
