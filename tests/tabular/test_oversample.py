"""oversample: SMOTE-NC and the conditional synthesizer reach the target share, keep the
given rows as they are, fill text from real minority rows, and refuse bad input."""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from socialgan.errors import DataError
from socialgan.tabular.gan import TabularGAN
from socialgan.tabular.oversample import fit_synthesizer, oversample, rows_to_add

from .test_gan import TINY  # the tiny TabularGAN settings

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TEXT = ["screen_name", "description"]


def accounts(n: int = 160, bots: int = 16, seed: int = 0) -> pd.DataFrame:
    """Account-shaped rows, ``bots`` of them bots: counts, a number with gaps, a flag, a
    flag with gaps, a category, a date, an id-like and a free-text column, the label."""
    rng = np.random.default_rng(seed)
    bot = np.zeros(n, dtype=np.int64)
    bot[rng.choice(n, bots, replace=False)] = 1
    ratio = np.round(rng.normal(np.where(bot == 1, -1.0, 2.0), 0.3), 3)
    ratio[rng.random(n) < 0.1] = np.nan
    extended = pd.array(rng.random(n) < 0.5, dtype="boolean")
    extended[rng.random(n) < 0.1] = pd.NA
    return pd.DataFrame(
        {
            "screen_name": [f"user_{i}_{rng.integers(1e6)}" for i in range(n)],
            "followers_count": np.where(bot == 1, rng.poisson(20, n), rng.poisson(400, n)),
            "ratio": ratio,
            "verified": rng.random(n) < np.where(bot == 1, 0.05, 0.3),
            "has_extended_profile": extended,
            "lang": rng.choice(["en", "es", "fr"], n, p=[0.7, 0.2, 0.1]),
            "created_at": pd.to_datetime("2015-01-01")
            + pd.to_timedelta(rng.integers(0, 3 * 365 * 86400, n), unit="s"),
            "description": [f"account {i} says hello {rng.integers(1e6)}" for i in range(n)],
            "bot": bot,
        },
        index=pd.RangeIndex(1000, 1000 + n),  # not 0..n-1: the output index is fresh
    )


@pytest.fixture(scope="module")
def synthesizer() -> TabularGAN:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fit_synthesizer(accounts(), "bot", **TINY)
    finally:
        torch.set_num_threads(before)


def run(method: str, frame: pd.DataFrame, gan: TabularGAN | None, **kw: Any) -> pd.DataFrame:
    if method == "gan":
        kw.setdefault("synthesizer", gan)
    return oversample(frame, "bot", method=method, **kw)


def check_output(frame: pd.DataFrame, out: pd.DataFrame, target: float) -> pd.DataFrame:
    """The shared contract; returns the new rows."""
    n, minority = len(frame), int(frame["bot"].sum())
    assert list(out.columns) == list(frame.columns)
    assert (out.dtypes == frame.dtypes).all(), out.dtypes[out.dtypes != frame.dtypes]
    assert isinstance(out.index, pd.RangeIndex) and out.index[0] == 0
    # the given rows, unchanged and in order, then only new minority rows
    pd.testing.assert_frame_equal(out.iloc[:n], frame.reset_index(drop=True))
    new = out.iloc[n:]
    assert len(new) == rows_to_add(minority, n, target) > 0
    assert (new["bot"] == 1).all()
    assert (out["bot"] == 0).sum() == (frame["bot"] == 0).sum()  # majority untouched
    share = out["bot"].mean()
    assert share >= target and (out["bot"].sum() - 1) / (len(out) - 1) < target  # the fewest
    assert set(new["lang"]) <= set(frame["lang"])
    assert (new["followers_count"] >= 0).all()
    return new


@pytest.mark.parametrize("method", ["smote-nc", "gan"])
@pytest.mark.parametrize("target", [0.5, 0.3])
def test_reaches_the_target_and_keeps_the_given_rows(
    method: str, target: float, synthesizer: TabularGAN
) -> None:
    pytest.importorskip("imblearn", reason="the `tabular` extra: pip install 'socialgan[tabular]'")
    frame = accounts()
    before = frame.copy()
    out = run(method, frame, synthesizer, target_share=target)
    pd.testing.assert_frame_equal(frame, before)  # the input is not modified
    new = check_output(frame, out, target)
    # text and ids: all taken together from one real minority row
    bots = frame[frame["bot"] == 1]
    real_pairs = set(zip(bots["screen_name"], bots["description"], strict=True))
    assert set(zip(new["screen_name"], new["description"], strict=True)) <= real_pairs


def test_smote_nc_interpolates_within_the_minority(synthesizer: TabularGAN) -> None:
    pytest.importorskip("imblearn", reason="the `tabular` extra: pip install 'socialgan[tabular]'")
    frame = accounts()
    new = check_output(frame, run("smote-nc", frame, None), 0.5)
    bots = frame[frame["bot"] == 1]
    for column in ("followers_count", "ratio", "created_at"):  # on the segments' hull
        assert new[column].min() >= bots[column].min()
        assert new[column].max() <= bots[column].max()
    assert new["ratio"].notna().all()  # 2 of the 16 bots have a gap: a minority vote
    assert set(new["verified"]) <= set(bots["verified"])
    again = run("smote-nc", frame, None)
    pd.testing.assert_frame_equal(again, run("smote-nc", frame, None))  # seeded
    assert not run("smote-nc", frame, None, seed=1).equals(again)


def test_smote_nc_keeps_gaps_as_gaps() -> None:
    pytest.importorskip("imblearn", reason="the `tabular` extra: pip install 'socialgan[tabular]'")
    frame = accounts()
    bots = np.flatnonzero(frame["bot"] == 1)
    frame.iloc[bots[:12], frame.columns.get_loc("ratio")] = np.nan  # most bots: no ratio
    new = check_output(frame, run("smote-nc", frame, None), 0.5)
    assert new["ratio"].isna().mean() > 0.5
    known = frame["ratio"].iloc[bots[12:]]
    assert new["ratio"].dropna().between(known.min(), known.max()).all()


def test_never_adds_rows_of_a_held_out_fold(synthesizer: TabularGAN) -> None:
    pytest.importorskip("imblearn", reason="the `tabular` extra: pip install 'socialgan[tabular]'")
    table = accounts(240, bots=30)
    train, test = table.iloc[:160], table.iloc[160:]
    for method in ("smote-nc", "gan"):
        out = run(method, train, None if method == "smote-nc" else synthesizer)
        assert not set(out["screen_name"]) & set(test["screen_name"])
        assert set(out["description"].dropna()) <= set(train["description"])


def test_gan_fits_its_own_synthesizer_on_the_given_rows() -> None:
    frame = accounts()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # text columns: no warning, handled
        out = oversample(frame, "bot", method="gan", seed=3, **TINY)
    check_output(frame, out, 0.5)


def test_text_missing_leaves_text_and_ids_empty(synthesizer: TabularGAN) -> None:
    frame = accounts()
    new = check_output(frame, run("gan", frame, synthesizer, text="missing"), 0.5)
    assert new[TEXT].isna().all().all()


def test_the_detector_copes_with_new_rows_without_text(synthesizer: TabularGAN) -> None:
    pytest.importorskip("lightgbm", reason="the `tabular` extra: pip install 'socialgan[tabular]'")
    from socialgan.tabular.detect import AccountDetector

    frame = accounts()
    out = run("gan", frame, synthesizer, text="missing")
    det = AccountDetector(n_estimators=5, min_child_samples=2).fit(out)
    p = det.predict_proba(out)[:, 1]
    assert p.shape == (len(out),) and np.isfinite(p).all()


def test_a_share_already_reached_adds_nothing() -> None:
    frame = accounts()
    out = oversample(frame, "bot", method="smote-nc", target_share=0.1)  # 16 of 160
    pd.testing.assert_frame_equal(out, frame.reset_index(drop=True))


def test_tables_of_one_kind() -> None:
    pytest.importorskip("imblearn", reason="the `tabular` extra: pip install 'socialgan[tabular]'")
    frame = accounts()
    for columns in (["followers_count", "ratio"], ["lang", "verified"]):  # SMOTE, SMOTEN
        part = frame[[*columns, "description", "bot"]]
        out = oversample(part, "bot", method="smote-nc")
        assert out["bot"].mean() == 0.5
        pd.testing.assert_frame_equal(out.iloc[: len(part)], part.reset_index(drop=True))


@pytest.mark.parametrize(
    ("minority", "total", "share", "expected"),
    [(10, 100, 0.5, 80), (10, 100, 0.1, 0), (1, 3, 0.5, 1), (10, 100, 0.25, 20)],
)
def test_rows_to_add(minority: int, total: int, share: float, expected: int) -> None:
    assert rows_to_add(minority, total, share) == expected


def test_bad_input(synthesizer: TabularGAN) -> None:
    frame = accounts()

    def refuses(match: str, table: Any = frame, **kw: Any) -> None:
        kw = {"method": "smote-nc", **kw}
        with pytest.raises(DataError, match=match):
            oversample(table, "bot", **kw)

    refuses("one class only", frame[frame["bot"] == 0])
    refuses("method: expected one of smote-nc, gan", method="smote")
    refuses("below the minority's current share 0.1000", target_share=0.05)
    refuses("target_share", target_share=1.0)
    refuses("target_share", target_share=0.0)
    refuses("text: expected one of", text="copy")
    refuses("no label column 'bot'", frame.drop(columns=["bot"]))
    refuses("row 3 has no label", frame.assign(bot=frame["bot"].where(np.arange(160) != 2)))
    refuses("3 classes", frame.assign(bot=np.arange(160) % 3))
    refuses("expected a pandas DataFrame", frame.to_numpy())
    refuses("no rows", frame.iloc[:0])
    refuses("unknown option", k=3)
    refuses("for method='gan'", synthesizer=synthesizer)
    refuses("would be ignored", method="gan", synthesizer=synthesizer, epochs=3)
    one_bot = frame[(frame["bot"] == 0) | (frame.index == frame.index[frame["bot"] == 1][0])]
    refuses("has 1 row", one_bot)
    refuses("only text", frame[["description", "bot"]])
    unconditioned = TabularGAN(**TINY)  # TINY: progress off
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        unconditioned.fit(frame.drop(columns=["bot"]).assign(bot=frame["bot"].astype(float)))
    refuses("not discrete", method="gan", synthesizer=unconditioned)


def test_missing_imbalanced_learn_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "imblearn", None)  # import imblearn -> ImportError
    with pytest.raises(DataError, match=r"socialgan\[tabular\]"):
        oversample(accounts(), "bot", method="smote-nc")
