"""The evaluation report of a synthetic account table: sdmetrics-equal quality scores, ML
efficacy, privacy flags for a copying "synthesizer", plots, and ``socialgan accounts
evaluate`` with its errors."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from socialgan.cli import app
from socialgan.errors import DataError
from socialgan.tabular.evaluate import (
    evaluate_model,
    evaluate_tables,
    fitted_on,
    holdout_split,
    model_frame,
)
from socialgan.tabular.evaluate_efficacy import efficacy, positive_class
from socialgan.tabular.evaluate_quality import has_sdmetrics, quality_scores
from socialgan.tabular.gan import TabularGAN

from .test_cli import TINY as TINY_CLI
from .test_gan import accounts, tiny

pytestmark = [
    pytest.mark.usefixtures("one_torch_thread"),
    pytest.mark.filterwarnings("ignore:columns left out:UserWarning"),
]

KINDS = {
    "followers_count": "continuous",
    "ratio": "continuous",
    "verified": "boolean",
    "lang": "categorical",
    "created_at": "datetime",
    "bot": "categorical",
}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def fitted() -> TabularGAN:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return tiny(discrete_columns=["bot"]).fit(accounts())


def real_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    return holdout_split(accounts(300)[list(KINDS)], 0.3, seed=0)


# ------------------------------------------------------------------ quality
SDTYPES = {
    "x": "numerical",
    "y": "numerical",
    "z": "numerical",
    "date": "datetime",
    "cat": "categorical",
    "flag": "boolean",
    "grp": "categorical",
}
#: sdmetrics 0.32.0's QualityReport of :func:`golden_tables` (pandas 3.1.1 and 2.3.3 alike).
GOLDEN = {
    "quality": 0.9089355616022199,
    "column_shapes": 0.9096059137931035,
    "column_pair_trends": 0.9082652094113364,
}
GOLDEN_PAIRS = {
    ("x", "y"): 0.9997275043120123,
    ("x", "grp"): 0.9166666666666666,
    ("y", "grp"): 0.9,
    ("date", "flag"): 0.8166666666666667,
}


def golden_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A real and a synthetic table built by arithmetic (no RNG): numbers, dates with gaps,
    a category with gaps and a synthetic-only value, a flag, a category tied to x."""
    i = np.arange(60)
    real = pd.DataFrame(
        {
            "x": i.astype(float),
            "y": 2.0 * i + i % 5,
            "z": (i * 37 % 11).astype(float),
            "date": pd.to_datetime("2020-01-01") + pd.to_timedelta(i * 3 % 50, unit="D"),
            "cat": np.array(["a", "b", "c"], dtype=object)[i % 3],
            "flag": i % 4 == 0,
            "grp": np.where(i > 30, "hi", "lo"),
        }
    )
    real.loc[[5, 17], "date"] = pd.NaT
    real.loc[[2, 40], "cat"] = np.nan
    j = i * 7 % 60
    synth = pd.DataFrame(
        {
            "x": j.astype(float),
            "y": 2.0 * j + i % 3,
            "z": (i % 11).astype(float),
            "date": pd.to_datetime("2020-01-05") + pd.to_timedelta(i % 40, unit="D"),
            "cat": np.array(["a", "b", "c", "d"], dtype=object)[i % 4],
            "flag": i % 3 == 0,
            "grp": np.where(j > 25, "hi", "lo"),
        }
    )
    return real, synth


def test_own_quality_equals_sdmetrics() -> None:
    real, synth = golden_tables()
    own = quality_scores(real, synth, SDTYPES, backend="socialgan")
    for key, value in GOLDEN.items():
        assert own[key] == pytest.approx(value, abs=1e-12), key
    counted = {tuple(p["columns"]): p["score"] for p in own["pairs"] if p["counts"]}
    assert counted == pytest.approx(GOLDEN_PAIRS, abs=1e-12)
    assert len(own["pairs"]) == 21 and own["columns"]["x"] == 1.0
    assert own["columns"]["cat"] == pytest.approx(0.75, abs=1e-6)  # 'd' is synthetic-only
    if has_sdmetrics():  # the bench extra: the live library agrees too
        live = quality_scores(real, synth, SDTYPES, backend="sdmetrics")
        assert live["backend"].startswith("sdmetrics")
        for key in GOLDEN:
            assert live[key] == pytest.approx(own[key], abs=1e-12)


def test_quality_is_one_for_a_copy_and_drops_for_shuffled_columns() -> None:
    real, synth = golden_tables()
    same = quality_scores(real, real.copy(), SDTYPES, backend="socialgan")
    assert same["quality"] == same["column_shapes"] == same["column_pair_trends"] == 1.0
    rng = np.random.default_rng(3)  # a permutation of its own for each column
    shuffled = real.apply(lambda c: c.to_numpy()[rng.permutation(len(c))])
    apart = quality_scores(real, shuffled, SDTYPES, backend="socialgan")
    assert apart["column_shapes"] == pytest.approx(1.0)  # marginals kept
    assert apart["column_pair_trends"] < 0.8  # the x-y correlation is gone
    with pytest.raises(ValueError, match="backend"):
        quality_scores(real, synth, SDTYPES, backend="nope")


# ------------------------------------------------------------------ efficacy
def test_positive_class() -> None:
    assert positive_class(pd.Series([0, 1, 1, 1])) == 1
    assert positive_class(pd.Series([True, False, False])) is True
    assert positive_class(pd.Series(["<=50K", "<=50K", ">50K"])) == ">50K"


def test_efficacy_learns_from_real_rows_not_from_shuffled_labels() -> None:
    train, test = real_split()
    real = efficacy(train, test, quick=True, label="bot", positive=1)
    assert real["f1"] > 0.8 and real["gbm"]["auc"] > 0.9 and real["lr"]["auc"] > 0.9
    noise = train.assign(bot=train["bot"].sample(frac=1.0, random_state=0).to_numpy())
    shuffled = efficacy(noise, test, quick=True, label="bot", positive=1)
    assert shuffled["gbm"]["auc"] < 0.75 and shuffled["lr"]["auc"] < 0.75
    one_class = efficacy(train.assign(bot=0), test, label="bot", positive=1)
    assert one_class["f1"] == 0.0 and one_class["gbm"]["auc"] == 0.5
    with pytest.raises(DataError, match="one class"):
        efficacy(train, test.assign(bot=1), label="bot", positive=1)


# ------------------------------------------------------------------ the report
def test_copying_synthesizer_gets_high_quality_and_privacy_warnings(tmp_path: Path) -> None:
    train, test = real_split()
    copy = evaluate_tables(train, test, train.copy(), KINDS, label="bot", quick=True)
    assert copy["quality"]["quality"] == pytest.approx(1.0)
    p = copy["privacy"]
    assert p["exact_copies"] == 1.0 and p["dcr_synthetic_median"] == 0.0
    assert p["dcr_holdout_median"] > 0 and p["membership_auc"] > 0.9
    assert any("exact copies" in w for w in p["warnings"])
    assert any("membership" in w for w in p["warnings"])
    assert copy["efficacy"]["synthetic"]["f1"] == copy["efficacy"]["real"]["f1"]
    # independent marginals: shapes kept, trends lost, nothing copied
    rng = np.random.default_rng(0)
    apart = train.apply(lambda c: c.to_numpy()[rng.permutation(len(c))])
    report = evaluate_tables(train, test, apart, KINDS, label="bot", out_dir=tmp_path, quick=True)
    q = report["quality"]
    assert q["column_shapes"] == pytest.approx(1.0) and q["column_pair_trends"] < 0.85
    assert report["privacy"]["exact_copies"] < 0.05
    assert not any("exact copies" in w for w in report["privacy"]["warnings"])
    assert report["efficacy"]["synthetic"]["gbm"]["auc"] < 0.75
    for name in ("marginals", "correlations"):
        path = Path(report["plots"][name])
        assert path == tmp_path / f"{name}.png" and path.read_bytes()[:8] == PNG
        assert path.stat().st_size > 10_000  # panels were drawn, not an empty canvas


def test_report_of_a_model(fitted: TabularGAN, tmp_path: Path) -> None:
    train, test = holdout_split(accounts(), 0.25, seed=1)
    report = evaluate_model(
        fitted, train, test, n=120, label="bot", seed=2, out_dir=tmp_path, quick=True
    )
    assert set(report) >= {"model", "data", "seed", "timing", "rows", "columns"}
    assert set(report) >= {"quality", "efficacy", "privacy", "plots", "report"}
    assert report["rows"] == {"train": 150, "held_out": 50, "synthetic": 120}
    assert list(report["columns"]) == list(KINDS)  # the free-text column is left out
    assert report["model"]["left_out"] == ["description"]
    q = report["quality"]
    assert all(0 <= q[k] <= 1 for k in ("quality", "column_shapes", "column_pair_trends"))
    assert set(q["columns"]) == set(KINDS)
    e = report["efficacy"]
    assert e["label"] == "bot" and e["positive"] == 1
    for side in ("synthetic", "real"):
        for model in ("gbm", "lr"):
            assert 0 <= e[side][model]["f1"] <= 1 and 0 <= e[side][model]["auc"] <= 1
    p = report["privacy"]
    assert p["rows"] == 50 and 0 <= p["membership_auc"] <= 1 and p["dcr_synthetic_median"] > 0
    assert report["timing"]["sample_seconds"] > 0 and report["timing"]["fit_seconds"] is None
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved == report
    json.dumps(saved, allow_nan=False)  # strict JSON: no NaN
    again = evaluate_model(fitted, train, test, n=120, label="bot", seed=2, quick=True)
    assert again["quality"] == report["quality"] and again["privacy"] == report["privacy"]


def test_real_rows_are_read_as_the_models_columns(fitted: TabularGAN, tmp_path: Path) -> None:
    frame = accounts(50)
    frame.to_csv(tmp_path / "a.csv", index=False)
    text = pd.read_csv(tmp_path / "a.csv", dtype=str)  # every column as text
    read = model_frame(fitted, text)
    assert list(read.columns) == list(KINDS)
    assert str(read["created_at"].dtype).startswith("datetime64")
    assert read["verified"].tolist() == frame["verified"].tolist()
    assert read["bot"].tolist() == frame["bot"].tolist() and read["ratio"].dtype == float
    with pytest.raises(DataError, match="no column 'lang'"):
        model_frame(fitted, frame.drop(columns=["lang"]))
    with pytest.raises(DataError, match="row 3"):
        model_frame(fitted, text.assign(ratio=["1.5", "2", "many", *["0"] * 47]))
    with pytest.raises(DataError, match="unknown label column 'nope'"):
        evaluate_model(fitted, frame, frame, label="nope")


def test_fitted_on_recognizes_the_training_table(fitted: TabularGAN, tmp_path: Path) -> None:
    back = TabularGAN.from_pretrained(fitted.save_pretrained(tmp_path / "m"))
    assert fitted_on(back, accounts()) and fitted_on(fitted, accounts())
    assert not fitted_on(back, accounts().iloc[:-1])
    assert not fitted_on(back, accounts(seed=1))


def test_holdout_split_is_seeded_and_disjoint() -> None:
    frame = accounts(101)
    train, held = holdout_split(frame, 0.2, seed=4)
    assert (len(train), len(held)) == (81, 20)
    assert not set(train["description"]) & set(held["description"])
    pd.testing.assert_frame_equal(held, holdout_split(frame, 0.2, seed=4)[1])
    assert not held.equals(holdout_split(frame, 0.2, seed=5)[1])
    with pytest.raises(DataError, match="too few"):
        holdout_split(frame.iloc[:3])


# ------------------------------------------------------------------ the command
@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("evaluate")
    data = root / "accounts.csv"
    accounts().to_csv(data, index=False)
    args = ["accounts", "fit", "--data", str(data), "--run-dir", str(root / "run")]
    result = CliRunner().invoke(app, [*args, "--discrete-columns", "bot", *TINY_CLI])
    assert result.exit_code == 0, result.output
    return data, root / "run" / "model"


def invoke(*args: Any) -> Any:
    return CliRunner().invoke(app, ["accounts", "evaluate", *map(str, args)])


def test_cli_prints_the_report_and_writes_files(run: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = run
    out = tmp_path / "eval"
    result = invoke(model, "--data", data, "-n", 100, "--out", out)
    assert result.exit_code == 0, result.output
    text = result.output
    parts = ("Quality (", "column pair trends", "ML efficacy", "label 'bot'", "Privacy")
    for part in (*parts, "membership-attack AUC"):
        assert part in text, part
    assert "a seeded 20% of" in text and "fitted on all of" in text  # the holdout is not unseen
    assert {p.name for p in out.iterdir()} == {"report.json", "marginals.png", "correlations.png"}
    report = json.loads((out / "report.json").read_text())
    assert report["rows"] == {"train": 160, "held_out": 40, "synthetic": 100}
    assert report["data"]["fitted_on_data"] is True
    assert report["timing"]["fit_seconds"] > 0  # from the run folder's stats.jsonl
    test = tmp_path / "test.csv"
    accounts(60, seed=5).to_csv(test, index=False)
    as_json = invoke(model, "--data", data, "--test", test, "-n", 80, "--out", out, "--json")
    assert as_json.exit_code == 0, as_json.output
    parsed = json.loads(as_json.stdout)
    assert parsed["rows"]["held_out"] == 60 and parsed["data"]["holdout"] == str(test)
    assert parsed["data"]["warnings"] == []


def test_cli_bad_input_is_one_line_and_exit_2(run: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = run
    other = tmp_path / "other.csv"
    accounts(30).drop(columns=["lang"]).to_csv(other, index=False)
    for args, message in (
        ([tmp_path / "nope", "--data", data], "no such model folder"),
        ([model, "--data", data, "--label", "colour"], "--label 'colour'"),
        ([model, "--data", other], "no column 'lang'"),
        ([model, "--data", data, "--test", other], "no column 'lang'"),
        ([model, "--data", tmp_path / "missing.csv"], "missing.csv"),
        ([model, "--data", data, "-n", 0], "-n"),
    ):
        result = invoke(*args, "--out", tmp_path / "o")
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
