"""TableTransformer on a small table with every column type: exact round trip, layout,
one-hot spans, state round trip through JSON and safetensors, decoding of arbitrary G
output, conditional-vector lookups and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import load, save

from socialgan.errors import DataError
from socialgan.tabular.metadata import ColumnMeta, TableMetadata
from socialgan.tabular.transformer import TableTransformer
from tests.tabular.test_metadata import account_frame, infer

MODELED = ["followers", "score", "ratio", "plan", "verified", "created"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return account_frame()


@pytest.fixture(scope="module")
def fitted(frame: pd.DataFrame) -> TableTransformer:
    return TableTransformer(max_modes=5).fit(frame, infer(frame))


def assert_same(back: pd.DataFrame, frame: pd.DataFrame) -> None:
    """Equal column by column: floats to 1e-9 relative, everything else exactly."""
    assert list(back.columns) == list(frame.columns)
    for name in frame.columns:
        exact = not pd.api.types.is_float_dtype(frame[name].dtype)
        pd.testing.assert_series_equal(
            back[name], frame[name], check_exact=exact, rtol=1e-9, check_index=False
        )


def test_round_trip_is_exact(fitted: TableTransformer, frame: pd.DataFrame) -> None:
    assert fitted.columns == MODELED
    data = fitted.transform(frame, dtype=np.float64)
    assert data.dtype == np.float64 and data.shape == (len(frame), fitted.output_dim)
    assert_same(fitted.inverse_transform(data), frame[MODELED])


def test_float32_output_round_trips_to_float32_precision(
    fitted: TableTransformer, frame: pd.DataFrame
) -> None:
    data = fitted.transform(frame)
    assert data.dtype == np.float32
    back = fitted.inverse_transform(data)
    for name in ["followers", "plan", "verified"]:
        pd.testing.assert_series_equal(back[name], frame[name])
    pd.testing.assert_series_equal(back["score"], frame["score"], rtol=1e-5)
    assert (back["created"].isna() == frame["created"].isna()).all()
    gap = (back["created"] - frame["created"]).abs().max()
    assert gap <= pd.Timedelta(minutes=1)


def test_layout(fitted: TableTransformer, frame: pd.DataFrame) -> None:
    spans = fitted.spans
    assert sum(s.width for s in spans) == fitted.output_dim
    assert [s.start for s in spans] == list(np.cumsum([0] + [s.width for s in spans[:-1]]))
    kinds = {(s.column, s.kind) for s in spans}
    assert ("ratio", "missing") in kinds and ("created", "missing") in kinds
    assert ("followers", "missing") not in kinds
    for span in spans:
        assert span.activation == ("tanh" if span.kind == "alpha" else "softmax")
        assert span.width == 1 if span.kind == "alpha" else span.width >= 1
    score_modes = next(s for s in spans if s.column == "score" and s.kind == "mode")
    assert score_modes.width >= 2  # two clusters, two modes
    names = [d.name for d in fitted.discrete]
    assert names == ["plan", "verified"]
    plan, verified = fitted.discrete
    assert plan.categories == ["free", "pro", "team", None]
    assert sum(plan.counts) == len(frame) and plan.counts[-1] == 2
    assert verified.categories == [False, True]
    assert verified.counts == [int((~frame["verified"]).sum()), int(frame["verified"].sum())]
    for d in fitted.discrete:
        span = next(s for s in spans if s.column == d.name)
        assert (span.kind, span.start, span.width) == ("category", d.start, len(d.categories))


def test_softmax_spans_are_one_hot(fitted: TableTransformer, frame: pd.DataFrame) -> None:
    data = fitted.transform(frame)
    for span in fitted.spans:
        block = data[:, span.start : span.start + span.width]
        if span.activation == "softmax":
            assert set(np.unique(block)) <= {0.0, 1.0}
            assert (block.sum(axis=1) == 1).all()
    score = fitted.spans[[s.column for s in fitted.spans].index("score") + 1]
    modes = data[:, score.start : score.start + score.width].argmax(axis=1)
    low, high = frame["score"] < 0, frame["score"] > 0
    assert set(modes[low]).isdisjoint(modes[high])  # each cluster has its own mode


def test_state_round_trip(fitted: TableTransformer, frame: pd.DataFrame) -> None:
    state, arrays = fitted.to_state()
    text = json.dumps(state)
    assert all(a.dtype in (np.float64, np.int64) for a in arrays.values())
    again = TableTransformer.from_state(json.loads(text), load(save(arrays)))
    np.testing.assert_array_equal(again.transform(frame), fitted.transform(frame))
    assert again.spans == fitted.spans and again.discrete == fitted.discrete
    assert_same(again.inverse_transform(fitted.transform(frame, dtype=np.float64)), frame[MODELED])
    with pytest.raises(DataError, match="transformer state"):
        TableTransformer.from_state({"format": "other"}, arrays)
    with pytest.raises(DataError, match="transformer state: malformed"):
        TableTransformer.from_state(state, {})


def test_inverse_of_arbitrary_output_stays_in_range(
    fitted: TableTransformer, frame: pd.DataFrame
) -> None:
    rng = np.random.default_rng(1)
    back = fitted.inverse_transform(rng.uniform(-3, 3, (500, fitted.output_dim)))
    assert (back.dtypes == frame[MODELED].dtypes).all()
    for name in ["followers", "score", "ratio", "created"]:
        present = back[name].dropna()
        assert present.min() >= frame[name].min() and present.max() <= frame[name].max()
    assert (back["followers"] >= 0).all()
    assert (back["created"].dropna().dt.microsecond == 0).all()  # whole seconds, like the data
    assert back["ratio"].isna().any() and back["created"].isna().any()
    assert set(back["plan"].dropna()) <= {"free", "pro", "team"} and back["plan"].isna().any()
    assert back["verified"].dtype == bool


def test_category_index(fitted: TableTransformer) -> None:
    assert fitted.category_index("plan", "team") == 2
    assert fitted.category_index("plan", None) == 3
    assert fitted.category_index("plan", np.nan) == 3
    assert fitted.category_index("verified", np.True_) == 1
    with pytest.raises(DataError, match=r"column 'plan': unknown value 'gold'; expected one of "):
        fitted.category_index("plan", "gold")
    with pytest.raises(
        DataError, match=r"'score' is not a categorical.*columns are: plan, verified"
    ):
        fitted.category_index("score", 1.0)


def test_transform_errors(fitted: TableTransformer, frame: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"the frame has no column 'plan'"):
        fitted.transform(frame.drop(columns="plan"))
    bad = frame.copy()
    bad.loc[6, "plan"] = "gold"
    with pytest.raises(DataError, match=r"column 'plan': row 7 holds 'gold'.*one of 'free'"):
        fitted.transform(bad)
    bad = frame.copy()
    bad["followers"] = bad["followers"].astype(float)
    bad.loc[9, "followers"] = np.nan
    with pytest.raises(DataError, match=r"'followers': row 10 is missing, but the training"):
        fitted.transform(bad)
    with pytest.raises(DataError, match=r"expected an array \(rows, \d+\), got shape \(3, 2\)"):
        fitted.inverse_transform(np.zeros((3, 2)))
    with pytest.raises(DataError, match=r"empty \(every row is missing\)"):
        TableTransformer().fit(frame.assign(score=np.nan), infer(frame))
    with pytest.raises(RuntimeError, match="not fitted"):
        TableTransformer().transform(frame)
    with pytest.raises(DataError, match="max_modes"):
        TableTransformer(max_modes=0)


def test_text_columns_time_zones_and_category_dtypes_round_trip() -> None:
    n = 30
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "count": [str(v) for v in rng.integers(0, 9, n)],
            "joined": pd.Series(
                pd.date_range("2021-03-01", periods=n, freq="D", tz="Europe/Paris")
            ),
            "day": [f"2022-01-{d:02d}" for d in rng.integers(1, 29, n)],
            "tier": pd.Categorical(rng.choice(["a", "b"], n), categories=["b", "a", "c"]),
            "level": rng.choice([1, 2, 3], n),
        }
    )
    meta = infer(frame, discrete_columns=["level"])
    assert [c.kind for c in meta.columns] == [
        "continuous", "datetime", "datetime", "categorical", "categorical"
    ]  # fmt: skip
    tt = TableTransformer(max_modes=3, max_fit_rows=20).fit(frame, meta)
    back = tt.inverse_transform(tt.transform(frame, dtype=np.float64))
    pd.testing.assert_series_equal(back["count"], frame["count"].astype("int64"))
    pd.testing.assert_series_equal(back["joined"], frame["joined"])
    pd.testing.assert_series_equal(back["day"], pd.to_datetime(frame["day"]))
    pd.testing.assert_series_equal(back["tier"], frame["tier"])
    pd.testing.assert_series_equal(back["level"], frame["level"])
    assert tt.discrete[1].categories == [1, 2, 3]
    json.dumps(tt.to_state()[0])


def test_fit_is_seeded(frame: pd.DataFrame) -> None:
    meta = infer(frame)
    one = TableTransformer(max_fit_rows=30, seed=4).fit(frame, meta).to_state()
    two = TableTransformer(max_fit_rows=30, seed=4).fit(frame, meta).to_state()
    assert one[0] == two[0]
    for key in one[1]:
        np.testing.assert_array_equal(one[1][key], two[1][key])
    only_counts = TableMetadata([ColumnMeta("followers", "continuous", integer=True)])
    assert TableTransformer().fit(frame, only_counts).columns == ["followers"]


def long_tailed(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Follower-like counts (log-normal, median about 100, a tail into the millions, some
    zeros and gaps), a skewed float, and a symmetric count."""
    rng = np.random.default_rng(seed)
    followers = np.floor(rng.lognormal(4.6, 2.5, n)).astype(np.int64)
    followers[:20] = 0
    spend = rng.lognormal(1.0, 1.5, n)
    spend[[3, 9]] = np.nan
    return pd.DataFrame({"followers": followers, "spend": spend, "age": rng.poisson(40, n)})


def test_long_tailed_columns_are_modeled_in_log(frame: pd.DataFrame) -> None:
    table = long_tailed()
    meta = TableMetadata.infer(table)
    fitted = TableTransformer(max_modes=5).fit(table, meta)
    codecs = zip(fitted._metas, fitted._codecs, strict=True)
    logs = {m.name: getattr(c, "log", None) for m, c in codecs}
    assert logs == {"followers": True, "spend": True, "age": False}
    back = fitted.inverse_transform(fitted.transform(table, dtype=np.float64))
    pd.testing.assert_series_equal(back["followers"], table["followers"])  # whole numbers: exact
    pd.testing.assert_series_equal(back["spend"], table["spend"], rtol=1e-9)
    state, arrays = fitted.to_state()
    again = TableTransformer.from_state(json.loads(json.dumps(state)), load(save(arrays)))
    np.testing.assert_array_equal(again.transform(table), fitted.transform(table))
    # decoding arbitrary output stays in range, and in log the bulk is not lost: the
    # median of decoded mode centres is of the data's order, not of its tail
    rng = np.random.default_rng(1)
    out = fitted.inverse_transform(rng.uniform(-1, 1, (2000, fitted.output_dim)))
    assert out["followers"].between(0, table["followers"].max()).all()
    raw = TableTransformer(max_modes=5, log_long_tails=False).fit(table, meta)
    assert not any(getattr(c, "log", False) for c in raw._codecs)
    out_raw = raw.inverse_transform(rng.uniform(-1, 1, (2000, raw.output_dim)))
    real = table["followers"].median()
    assert abs(np.log1p(out["followers"].median()) - np.log1p(real)) < abs(
        np.log1p(out_raw["followers"].median()) - np.log1p(real)
    )
    # the existing (non-skewed) table keeps the raw scale
    plain = TableTransformer(max_modes=5).fit(frame, infer(frame))
    assert not any(getattr(c, "log", False) for c in plain._codecs)


def test_state_without_log_flag_loads_as_raw_scale(frame: pd.DataFrame) -> None:
    fitted = TableTransformer(max_modes=5).fit(frame, infer(frame))
    state, arrays = fitted.to_state()
    for column in state["columns"]:
        column.pop("log", None)  # a state saved before the flag existed
    state["params"].pop("log_long_tails")
    again = TableTransformer.from_state(state, arrays)
    np.testing.assert_array_equal(again.transform(frame), fitted.transform(frame))
