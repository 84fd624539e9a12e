"""TabularGAN on a tiny mixed-type table: fit, exact conditional sampling, reproducible
sampling, save / load, resume equivalence, and bad input."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

import socialgan
from socialgan.engine.checkpoint import latest_checkpoint
from socialgan.errors import DataError
from socialgan.tabular.gan import TabularGAN

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY: dict[str, Any] = {
    "epochs": 2,
    "batch_size": 40,
    "pac": 4,
    "z_dim": 8,
    "generator_dims": (16,),
    "discriminator_dims": (16,),
    "max_modes": 3,
    "progress": False,
    "tensorboard": False,
}


def accounts(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """A small table shaped like account profiles: counts, a flag, a category, a date, a
    label, and a free-text column the model leaves out."""
    rng = np.random.default_rng(seed)
    bot = rng.random(n) < 0.3
    return pd.DataFrame(
        {
            "followers_count": np.where(bot, rng.poisson(20, n), rng.poisson(400, n)),
            "ratio": np.round(rng.normal(np.where(bot, -1.0, 2.0), 0.3), 3),
            "verified": rng.random(n) < np.where(bot, 0.01, 0.2),
            "lang": rng.choice(["en", "es", "fr"], n, p=[0.7, 0.2, 0.1]),
            "created_at": pd.to_datetime("2015-01-01")
            + pd.to_timedelta(rng.integers(0, 3 * 365 * 86400, n), unit="s"),
            "description": [f"account number {i} says hello {rng.integers(1e6)}" for i in range(n)],
            "bot": bot.astype(np.int64),
        }
    )


def tiny(**kw: Any) -> TabularGAN:
    return TabularGAN(**{**TINY, **kw})


@pytest.fixture(scope="module")
def fitted() -> TabularGAN:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the free-text column is left out
        return tiny(discrete_columns=["bot"]).fit(accounts())


def test_fit_and_sample_the_modeled_columns(fitted: TabularGAN) -> None:
    rows = fitted.sample(300, seed=0)
    real = accounts()
    assert len(rows) == 300
    assert list(rows.columns) == [c for c in real.columns if c != "description"]
    assert fitted.data_info["left_out"] == ["description"]
    assert rows["followers_count"].dtype == np.int64 and (rows["followers_count"] >= 0).all()
    assert (
        rows["followers_count"]
        .between(real.followers_count.min(), real.followers_count.max())
        .all()
    )
    assert set(rows["lang"]) <= {"en", "es", "fr"} and set(rows["bot"]) <= {0, 1}
    assert str(rows["created_at"].dtype).startswith("datetime64")
    assert fitted.trainer is not None and fitted.trainer.step == 2 * (200 // 40)
    assert all(np.isfinite(h["loss_d"]) for h in fitted.history)


def test_sampling_is_reproducible_and_conditions_hold_on_every_row(fitted: TabularGAN) -> None:
    a, b = fitted.sample(50, seed=3), fitted.sample(50, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(fitted.sample(50, seed=4))
    bots = fitted.sample(200, seed=0, conditions={"bot": 1})
    assert (bots["bot"] == 1).all()
    french = fitted.sample(100, seed=0, conditions={"lang": "fr"})
    assert (french["lang"] == "fr").all()


def test_condition_and_sample_errors(fitted: TabularGAN) -> None:
    with pytest.raises(DataError, match="'nope' is not a modeled column"):
        fitted.sample(5, conditions={"nope": 1})
    with pytest.raises(DataError, match="'ratio' is not discrete"):
        fitted.sample(5, conditions={"ratio": 1.0})
    with pytest.raises(DataError, match="lang"):
        fitted.sample(5, conditions={"lang": "de"})
    with pytest.raises(DataError, match="one discrete column at a time"):
        fitted.sample(5, conditions={"lang": "fr", "bot": 1})
    with pytest.raises(DataError, match="n"):
        fitted.sample(0)


def test_save_and_load_round_trip(fitted: TabularGAN, tmp_path: Path) -> None:
    folder = fitted.save_pretrained(tmp_path / "model")
    assert {p.name for p in folder.iterdir()} >= {"config.json", "model.safetensors", "README.md"}
    back = socialgan.load(folder)
    assert isinstance(back, TabularGAN)
    pd.testing.assert_frame_equal(back.sample(40, seed=7), fitted.sample(40, seed=7))
    pd.testing.assert_frame_equal(
        back.sample(20, seed=1, conditions={"bot": 0}),
        fitted.sample(20, seed=1, conditions={"bot": 0}),
    )


def _weights(gan: TabularGAN) -> dict[str, torch.Tensor]:
    assert gan.trainer is not None
    return gan.trainer.state_tensors()


def test_resume_reaches_the_same_weights(tmp_path: Path) -> None:
    data = accounts()
    opts = {**TINY, "discrete_columns": ["bot"], "checkpoint_every": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        whole = TabularGAN(run_dir=tmp_path / "a", **opts).fit(data)
        cut = TabularGAN(run_dir=tmp_path / "b", cpu_seconds=0, **opts).fit(data)
        assert cut.trainer is not None and cut.trainer.step == 0
        assert latest_checkpoint(tmp_path / "b" / "checkpoints") is not None
        with pytest.raises(DataError, match="already holds the checkpoints"):
            TabularGAN(run_dir=tmp_path / "b", **opts).fit(data)
        with pytest.raises(DataError, match="other settings"):
            TabularGAN(run_dir=tmp_path / "b", **{**opts, "z_dim": 4}).fit(data, resume=True)
        resumed = TabularGAN(run_dir=tmp_path / "b", **opts).fit(data, resume=True)
    a, b = _weights(whole), _weights(resumed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "a" / "samples").is_dir() and (tmp_path / "a" / "stats.jsonl").is_file()


@pytest.mark.filterwarnings("ignore:columns left out:UserWarning")
def test_bad_settings_and_tables() -> None:
    with pytest.raises(DataError, match="multiple of pac"):
        TabularGAN(batch_size=45, pac=10)
    with pytest.raises(DataError, match="unknown option"):
        TabularGAN(stepz=3)
    with pytest.raises(DataError, match="larger than the table"):
        tiny(batch_size=400).fit(accounts(100))
    with pytest.raises(DataError, match="DataFrame"):
        tiny().fit([[1, 2], [3, 4]])  # type: ignore[arg-type]
    const = accounts().assign(lang="en")
    with pytest.raises(DataError, match="lang"):
        tiny().fit(const)
