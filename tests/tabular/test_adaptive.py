"""Adaptive bots: the attack lowers a frozen detector's detection rate through its answers
only, leaves the given synthesizer as it was, keeps rows whole and of the class; hardening
catches the adapted rows; the two-sample test tells real from shifted rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from socialgan.errors import DataError
from socialgan.tabular import AccountDetector, TabularGAN
from socialgan.tabular.adaptive import AdaptiveBots, harden, realism_auc
from socialgan.tabular.oversample import complete_rows, fit_synthesizer

from .test_gan import TINY
from .test_oversample import accounts

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class FewFollowers:
    """A black-box rule: the fewer followers, the more bot-like (p = 0.5 at 60)."""

    threshold = 0.5
    calls = 0

    def category_score(self, X: pd.DataFrame) -> np.ndarray:
        self.calls += len(X)
        x = np.log1p(X["followers_count"].to_numpy(dtype=np.float64))
        return 1.0 / (1.0 + np.exp(4.0 * (x - np.log1p(60.0))))


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return accounts(n=400, bots=120, seed=1)


@pytest.fixture(scope="module")
def synthesizer(table: pd.DataFrame) -> TabularGAN:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fit_synthesizer(table, "bot", **{**TINY, "epochs": 30})
    finally:
        torch.set_num_threads(before)


def weights(gan: TabularGAN) -> list[torch.Tensor]:
    assert gan.ema_generator is not None and gan.discriminator is not None
    return [
        p.detach().clone()
        for p in (*gan.ema_generator.parameters(), *gan.discriminator.parameters())
    ]


def attack(gan: TabularGAN, detector: Any, table: pd.DataFrame, **kw: Any) -> AdaptiveBots:
    kw = {
        "rounds": 4,
        "steps_per_round": 25,
        "queries": 200,
        "evasion_weight": 3.0,
        "lr_g": 2e-3,
        **kw,
    }
    return AdaptiveBots(gan, detector, table, **kw).fit()


def test_attack_evades_the_black_box(synthesizer: TabularGAN, table: pd.DataFrame) -> None:
    before = weights(synthesizer)
    detector = FewFollowers()
    att = attack(synthesizer, detector, table)
    h = att.history_
    assert [r["round"] for r in h] == [0, 1, 2, 3, 4]
    assert [r["step"] for r in h] == [0, 25, 50, 75, 100]
    # every query is counted: the reference rows, then one batch a round
    assert detector.calls == h[-1]["queries"] == len(table) + 5 * 200
    assert h[0]["detection_rate"] > 0.45  # many of the synthesizer's bots have few followers
    assert h[-1]["detection_rate"] < h[0]["detection_rate"] - 0.2
    assert 0.0 <= h[-1]["surrogate_agreement"] <= 1.0
    rates = [r["detection_rate"] for r in h]
    assert att.best_round_ == int(np.argmin(rates)) > 0  # the round the attacker keeps
    # the given synthesizer is untouched; the adapted one is a separate copy
    for a, b in zip(before, weights(synthesizer), strict=True):
        assert torch.equal(a, b)
    assert att.synthesizer_ is not synthesizer
    rows = att.sample(300, seed=3)
    assert list(rows.columns) == list(table.columns)
    assert (rows.dtypes == table.dtypes).all()
    assert (rows["bot"] == 1).all()
    assert rows["description"].isin(table.loc[table["bot"] == 1, "description"]).all()
    fresh = float(np.mean(detector.category_score(rows) >= 0.5))
    plain = synthesizer.sample(300, seed=3, conditions={"bot": 1})
    assert fresh < float(np.mean(detector.category_score(plain) >= 0.5)) - 0.2
    # same seed, same rows
    pd.testing.assert_frame_equal(rows, att.sample(300, seed=3))


def test_adapted_synthesizer_saves_and_loads(
    synthesizer: TabularGAN, table: pd.DataFrame, tmp_path: Path
) -> None:
    att = attack(synthesizer, FewFollowers(), table, rounds=1, steps_per_round=2, queries=50)
    att.synthesizer_.save_pretrained(tmp_path / "adapted")
    back = TabularGAN.from_pretrained(tmp_path / "adapted")
    want = att.synthesizer_.sample(50, seed=1, conditions={"bot": 1})
    pd.testing.assert_frame_equal(back.sample(50, seed=1, conditions={"bot": 1}), want)


def test_hardening_catches_the_adapted_rows(synthesizer: TabularGAN, table: pd.DataFrame) -> None:
    detector = AccountDetector(n_estimators=40, seed=0).fit(table)
    att = attack(synthesizer, detector, table, rounds=2)
    adversarial = att.sample(200, seed=1)
    hardened = harden(detector, table, adversarial)
    assert hardened is not detector
    fresh = att.sample(200, seed=2)
    assert hardened.predict(fresh).mean() >= detector.predict(fresh).mean()
    assert hardened.predict(fresh).mean() > 0.8
    with pytest.raises(DataError, match="lack the column"):
        harden(detector, table, adversarial.drop(columns=["description"]))


def test_realism_auc_tells_shifted_rows(table: pd.DataFrame) -> None:
    cols = ["followers_count", "ratio", "verified", "lang"]
    real = table[cols].iloc[:200]
    same = table[cols].iloc[200:]
    shifted = same.assign(followers_count=same["followers_count"] * 10 + 1000)
    assert abs(realism_auc(real, same, cols) - 0.5) < 0.15
    assert realism_auc(real, shifted, cols) > 0.95


def test_complete_rows(synthesizer: TabularGAN, table: pd.DataFrame) -> None:
    rows = synthesizer.sample(30, seed=0, conditions={"bot": 1}).drop(columns=["bot"])
    full = complete_rows(rows, table, "bot", 1)
    assert list(full.columns) == list(table.columns) and (full["bot"] == 1).all()
    empty = complete_rows(rows, table, "bot", 1, text="missing")
    assert empty["description"].isna().all()
    with pytest.raises(DataError, match="no row with bot = 7"):
        complete_rows(rows, table, "bot", 7)
    with pytest.raises(DataError, match="no label column"):
        complete_rows(rows, table.drop(columns=["bot"]), "bot", 1)


def test_bad_input(synthesizer: TabularGAN, table: pd.DataFrame) -> None:
    det = FewFollowers()
    with pytest.raises(DataError, match="expected a TabularGAN"):
        AdaptiveBots("gan", det, table)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="category_score"):
        AdaptiveBots(synthesizer, object(), table)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="label column 'bot'"):
        AdaptiveBots(synthesizer, det, table.drop(columns=["bot"]))
    with pytest.raises(DataError, match="rounds"):
        AdaptiveBots(synthesizer, det, table, rounds=0)
    with pytest.raises(DataError, match="unknown value"):
        AdaptiveBots(synthesizer, det, table, value=5).fit()
    few = pd.concat([table[table["bot"] == 0], table[table["bot"] == 1].head(2)])
    with pytest.raises(DataError, match="at least pac"):
        AdaptiveBots(synthesizer, det, few).fit()
    with pytest.raises(RuntimeError, match="call fit"):
        AdaptiveBots(synthesizer, det, table).sample(3)


def test_unknown_training_option(synthesizer: TabularGAN, table: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="unknown training option.*lr_x"):
        AdaptiveBots(synthesizer, FewFollowers(), table, lr_x=1.0)
