import json

import numpy as np
from typer.testing import CliRunner

from socialgan.cli import app

runner = CliRunner()


def _npz(tmp_path, n=64):
    rng = np.random.default_rng(0)
    path = tmp_path / "imgs.npz"
    np.savez(
        path, images=rng.integers(0, 255, (n, 28, 28), dtype=np.uint8), labels=np.arange(n) % 4
    )
    return path


def test_help_explains_commands():
    out = runner.invoke(app, ["--help"]).output
    assert "demo" in out and "image" in out
    out = runner.invoke(app, ["image", "train", "--help"]).output
    assert "--resume" in out and "--dry-run" in out and "--set" in out
    assert "--debug" in runner.invoke(app, ["--help"]).output


def test_dry_run_prints_resolved_config(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("train:\n  loss: hinge\nmodel:\n  arch: seed\n")
    res = runner.invoke(
        app, ["image", "train", "-c", str(cfg), "--set", "train.steps=7", "--dry-run"]
    )
    assert res.exit_code == 0, res.output
    assert "loss: hinge" in res.output and "steps: 7" in res.output and "arch: seed" in res.output


def test_bad_input_gives_one_line_and_exit_2(tmp_path):
    res = runner.invoke(app, ["image", "train", "--data", str(tmp_path / "missing.npz")])
    assert res.exit_code == 2 and "missing.npz" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["image", "train", "--set", "train.bogus=1", "--dry-run"])
    assert res.exit_code == 2 and "bogus" in res.output
    res = runner.invoke(app, ["image", "sample", str(tmp_path)])
    assert res.exit_code == 2 and "config.json" in res.output


def test_train_sample_resume_roundtrip(tmp_path):
    run = tmp_path / "run"
    base = ["image", "train", "--data", str(_npz(tmp_path)), "--run-dir", str(run)]
    tiny = [
        "--set",
        "model.width=8",
        "--set",
        "train.batch_size=16",
        "--set",
        "train.tensorboard=false",
    ]
    res = runner.invoke(app, [*base, "--steps", "2", *tiny])
    assert res.exit_code == 0, res.output
    assert (run / "model/model.safetensors").is_file()
    res = runner.invoke(app, [*base, "--steps", "4", *tiny])
    assert res.exit_code == 2 and "--resume" in res.output
    res = runner.invoke(app, [*base, "--steps", "4", *tiny, "--resume"])
    assert res.exit_code == 0, res.output
    assert json.loads((run / "checkpoints/step-0000004/state.json").read_text())["step"] == 4
    out = tmp_path / "grid.png"
    res = runner.invoke(app, ["image", "sample", str(run / "model"), "-n", "9", "-o", str(out)])
    assert res.exit_code == 0 and out.is_file()
    res = runner.invoke(
        app, ["image", "sample", str(run / "model"), "--interpolate", "-n", "5", "-o", str(out)]
    )
    assert res.exit_code == 0


def test_demo_smoke(tmp_path):
    out = tmp_path / "demo"
    res = runner.invoke(app, ["demo", "--out", str(out), "--steps", "6", "--n-eval", "300"])
    assert res.exit_code == 0, res.output
    assert "precision" in res.output and "floor" in res.output
    for name in ("losses.png", "metrics.md", "metrics.json", "model/model.safetensors"):
        assert (out / name).is_file(), name
    assert list((out / "samples").glob("step-*.png"))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_fake"] == 300 and 0 <= metrics["precision"] <= 1
    # the floor rests on as many images as the score, KID has its spread beside it
    assert metrics["n_real"] == metrics["floor"]["n_a"] == metrics["floor"]["n_b"] == 300
    table = (out / "metrics.md").read_text()
    kid_row = next(line for line in table.splitlines() if line.startswith("| KID"))
    assert kid_row.count("±") == 2
    assert "Features: mnist (28x28): the shipped net trained on mnist data" in table


def test_metrics_table_says_when_fewer_samples_were_scored():
    from socialgan.image.scoring import format_metrics

    floor = {"fld": 1.0, "kid": -0.0002, "kid_std": 0.001, "precision": 0.8, "recall": 0.8}
    r = {
        **floor,
        "fld": 9.0,
        "kid": 0.0123,
        "floor": {**floor, "n_a": 2500, "n_b": 2500},
        "min_class_share": 0.08,
        "classes_covered": 10,
        "class_shares": [0.1] * 10,
        "real_class_shares": [0.1] * 10,
        "n_fake": 2500,
        "n_real": 2500,
        "n_requested": 5000,
        "n_reference": 5000,
        "reference": "mnist5k",
        "extractor": "mnist",
        "extractor_size": 28,
        "extractor_reason": "the shipped net trained on mnist data",
        "kid_feature_scale": 2.8,
        "kid_subsets": 100,
        "kid_subset_size": 1000,
    }
    table = format_metrics(r)
    assert "| KID x1000 (lower is better) | 12.30 ± 1.00 | -0.20 ± 1.00 |" in table
    assert "Scored 2,500 of the 5,000 requested samples: mnist5k has 5,000 images" in table
    assert "2,500 generated vs 2,500 real images; floor: those 2,500 real vs 2,500" in table
