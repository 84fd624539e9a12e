"""MLETextGenerator on fifty tweets with tiny nets: training, sampling, conditioning,
persistence, run folders, exact resume and every bad input (CPU, fast)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

import socialgan
import socialgan.text.generate.mle as mle_module
import socialgan.text.generate.mle_train as train_module
from socialgan.engine.checkpoint import latest_checkpoint, read_checkpoint
from socialgan.errors import DataError
from socialgan.text.generate import MLETextGenerator

from .tweets import LABELS, NEGATIVE, POSITIVE, TWEETS

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TINY: dict[str, Any] = {
    "vocab_size": 120,
    "min_frequency": 1,
    "embed_dim": 16,
    "hidden_dim": 16,
    "batch_size": 8,
    "max_tokens": 24,
    "lr": 1e-2,
    "progress": False,
}


@pytest.fixture(scope="module")
def trained() -> MLETextGenerator:
    torch.set_num_threads(1)
    settings = {**TINY, "hidden_dim": 32, "tokenizer_kind": "word"}  # clearer conditioning
    return MLETextGenerator("gru", max_epochs=15, **settings).fit(TWEETS, LABELS)


def _last_checkpoint(run: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    path = latest_checkpoint(run / "checkpoints")
    assert path is not None
    return read_checkpoint(path)


def _same_weights(a: MLETextGenerator, b: MLETextGenerator) -> bool:
    sa, sb = a._fitted()[1].state_dict(), b._fitted()[1].state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# ------------------------------------------------------------------ training
def test_training_lowers_the_nll(trained: MLETextGenerator) -> None:
    untrained = MLETextGenerator("gru", max_epochs=1, **{**TINY, "lr": 1e-9})
    untrained.fit(TWEETS, LABELS)
    assert trained.nll(TWEETS, LABELS) < untrained.nll(TWEETS, LABELS) - 1.0
    vals = [h["val/nll"] for h in trained.history]
    assert vals[-1] < vals[0] and trained.metrics["val_nll"] == min(vals)
    assert trained.perplexity(TWEETS, LABELS) == pytest.approx(
        float(torch.tensor(trained.nll(TWEETS, LABELS)).exp())
    )


def test_nll_counts_the_eos_token(trained: MLETextGenerator) -> None:
    # an empty text is one predicted token, <eos>: its NLL is finite and positive
    assert 0 < trained.nll([""], ["positive"]) < 20


@pytest.mark.parametrize("model", ["gru", "transformer"])
@pytest.mark.parametrize("kind", ["bpe", "word"])
def test_every_net_and_tokenizer_kind_trains_and_samples(model: str, kind: str) -> None:
    gen = MLETextGenerator(model, tokenizer_kind=kind, heads=2, max_epochs=2, **TINY)
    texts = gen.fit(TWEETS).sample(4, seed=0)
    assert len(texts) == 4 and all(isinstance(t, str) for t in texts)
    assert gen.metrics["epochs"] == 2 and gen.params["layers"] == (1 if model == "gru" else 2)


# ------------------------------------------------------------------ sampling
def test_sampling_is_seeded(trained: MLETextGenerator) -> None:
    first = trained.sample(6, seed=3, label="positive")
    assert first == trained.sample(6, seed=3, label="positive")
    assert first != trained.sample(6, seed=4, label="positive")
    assert trained.sample(6, seed=3, label=1) == first  # an id into label_names
    assert trained.label_names == ["negative", "positive"]
    assert trained.sample(0) == []
    cold = trained.sample(5, seed=0, label="negative", temperature=0.5, top_p=0.9)
    assert len(cold) == 5


def test_a_conditional_sample_starts_from_the_label_token(
    trained: MLETextGenerator, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefixes: list[torch.Tensor] = []
    real = mle_module.sample

    def spy(net: Any, prefix: torch.Tensor, **kw: Any) -> list[list[int]]:
        prefixes.append(prefix.clone())
        return real(net, prefix, **kw)

    monkeypatch.setattr(mle_module, "sample", spy)
    tok = trained.tokenizer
    assert tok is not None
    trained.sample(3, label="negative")
    assert prefixes[-1].tolist() == [[1, tok.label_id("negative")]] * 3
    trained.sample(40, seed=0)  # no label: classes drawn from the training frequencies
    drawn = set(prefixes[-1][:, 1].tolist())
    assert drawn == {tok.label_id("negative"), tok.label_id("positive")}


def test_the_label_changes_what_is_likely(trained: MLETextGenerator) -> None:
    swapped = ["negative" if y == "positive" else "positive" for y in LABELS]
    assert trained.nll(TWEETS, LABELS) < trained.nll(TWEETS, swapped)
    pos_words = {"great", "love", "thank", "thanks", "kind"}
    neg_words = {"delayed", "lost", "rude", "worst", "angry", "cancelled", "broken"}

    def share(texts: list[str], words: set[str]) -> float:
        return sum(any(w in t for w in words) for t in texts) / len(texts)

    pos = trained.sample(40, seed=0, label="positive", temperature=0.7)
    neg = trained.sample(40, seed=0, label="negative", temperature=0.7)
    assert share(pos, pos_words) > share(neg, pos_words)
    assert share(neg, neg_words) > share(pos, neg_words)


# ------------------------------------------------------------------ persistence
def test_save_and_load_give_the_same_samples_and_nll(
    trained: MLETextGenerator, tmp_path: Path
) -> None:
    folder = trained.save_pretrained(tmp_path / "lm")
    assert {p.name for p in folder.iterdir()} == {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "README.md",
    }
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "socialgan.textgen.MLETextGenerator"
    assert config["data"]["n_texts"] == 50 and "val_nll" in config["metrics"]
    card = (folder / "README.md").read_text()
    assert "val_nll" in card and "50 texts" in card and "Intended use" in card
    for back in (MLETextGenerator.from_pretrained(folder), socialgan.load(folder)):
        assert isinstance(back, MLETextGenerator) and _same_weights(back, trained)
        assert back.sample(5, seed=7, label="negative") == trained.sample(
            5, seed=7, label="negative"
        )
        assert back.nll(TWEETS, LABELS) == trained.nll(TWEETS, LABELS)


def test_broken_folders_are_data_errors(trained: MLETextGenerator, tmp_path: Path) -> None:
    folder = trained.save_pretrained(tmp_path / "lm")
    (folder / "tokenizer.json").unlink()
    with pytest.raises(DataError, match="tokenizer.json: missing"):
        MLETextGenerator.from_pretrained(folder)
    folder = trained.save_pretrained(tmp_path / "lm2")
    config = json.loads((folder / "config.json").read_text())
    config["params"]["hidden_dim"] = 8
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(DataError, match="model.safetensors: the weights do not fit"):
        socialgan.load(folder)


# ------------------------------------------------------------------ run folder, resume
def test_run_folder_holds_config_stats_samples_and_checkpoints(tmp_path: Path) -> None:
    run = tmp_path / "run"
    MLETextGenerator(max_epochs=2, run_dir=run, **TINY).fit(TWEETS, LABELS)
    config = json.loads((run / "config.json").read_text())
    assert config["params"]["max_epochs"] == 2 and config["run"]["run_dir"] == str(run)
    stats = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    assert [s["epoch"] for s in stats if "epoch" in s] == [1, 2]
    assert all("val/nll" in s for s in stats if "epoch" in s)
    samples = sorted(p.name for p in (run / "samples").iterdir())
    assert samples == ["step-000006.txt", "step-000012.txt"]  # 45 train texts / 8 = 6 steps
    assert (run / "samples" / samples[0]).read_text().startswith("[negative] ")
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "step-0000006",
        "step-0000012",
    ]
    assert (run / "tokenizer.json").is_file() and list(run.glob("events.out.tfevents.*"))


def test_resume_after_an_epoch_ends_in_the_same_weights(tmp_path: Path) -> None:
    whole = MLETextGenerator(max_epochs=2, run_dir=tmp_path / "a", **TINY).fit(TWEETS, LABELS)
    MLETextGenerator(max_epochs=1, run_dir=tmp_path / "b", **TINY).fit(TWEETS, LABELS)
    resumed = MLETextGenerator(max_epochs=2, run_dir=tmp_path / "b", **TINY)
    resumed.fit(TWEETS, LABELS, resume=True)
    assert _same_weights(whole, resumed)
    (ta, sa), (tb, sb) = _last_checkpoint(tmp_path / "a"), _last_checkpoint(tmp_path / "b")
    assert ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta)  # Adam, RNG
    assert sa["progress"] == sb["progress"]
    assert resumed.history == whole.history
    assert resumed.sample(4, seed=0) == whole.sample(4, seed=0)


def test_resume_mid_epoch_after_the_cpu_budget(tmp_path: Path) -> None:
    whole = MLETextGenerator(max_epochs=2, **TINY).fit(TWEETS)
    run = tmp_path / "run"
    cut = MLETextGenerator(max_epochs=2, run_dir=run, cpu_seconds=0, **TINY).fit(TWEETS)
    assert cut.metrics["epochs"] == 0  # stopped after one batch
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["step-0000001"]
    resumed = MLETextGenerator(max_epochs=2, run_dir=run, **TINY).fit(TWEETS, resume=True)
    assert _same_weights(whole, resumed)


def test_resume_refuses_other_data_or_settings(tmp_path: Path) -> None:
    run = tmp_path / "run"
    MLETextGenerator(max_epochs=1, run_dir=run, **TINY).fit(TWEETS)
    with pytest.raises(DataError, match="trained on other texts or labels"):
        MLETextGenerator(max_epochs=2, run_dir=run, **TINY).fit(TWEETS[:40], resume=True)
    before = (run / "config.json").read_text()
    with pytest.raises(DataError, match=r"other settings \(hidden_dim: 16 -> 32\)"):
        MLETextGenerator(max_epochs=2, run_dir=run, **{**TINY, "hidden_dim": 32}).fit(
            TWEETS, resume=True
        )
    assert (run / "config.json").read_text() == before  # the run folder is left as it was
    with pytest.raises(DataError, match="already holds the checkpoints of a run"):
        MLETextGenerator(max_epochs=2, run_dir=run, **TINY).fit(TWEETS)


def test_early_stopping_keeps_the_best_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    scores = iter([3.0, 2.0, 2.5, 2.6, 2.7])  # best after epoch 2, then worse
    real = train_module.nll_sum
    snapshots: list[dict[str, torch.Tensor]] = []

    def fake(model: Any, *args: Any) -> tuple[float, int]:
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        real(model, *args)
        return next(scores), 1

    monkeypatch.setattr(train_module, "nll_sum", fake)
    gen = MLETextGenerator(max_epochs=5, patience=2, **TINY).fit(POSITIVE + NEGATIVE)
    assert gen.metrics["epochs"] == 4 and gen.metrics["best_epoch"] == 2
    assert gen.metrics["val_nll"] == 2.0
    best = snapshots[1]
    assert all(torch.equal(v, best[k]) for k, v in gen._fitted()[1].state_dict().items())


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("texts", "labels", "match"),
    [
        ([], None, "empty corpus"),
        ("one tweet", None, "got a single string"),
        (["  ", "", "\n"], None, "all 3 texts are empty or blank"),
        (["ok", 5], None, "text 1: expected a string, found int"),
        (TWEETS, ["positive"] * 50, "single class \\('positive'\\)"),
        (TWEETS, LABELS[:49], "49 labels for 50 texts"),
    ],
)
def test_bad_training_data_is_a_data_error(texts: Any, labels: Any, match: str) -> None:
    with pytest.raises(DataError, match=match):
        MLETextGenerator(max_epochs=1, **TINY).fit(texts, labels)


def test_bad_sampling_and_scoring_requests_are_data_errors(trained: MLETextGenerator) -> None:
    with pytest.raises(DataError, match="unknown label 'spam'; this model knows 0='negative'"):
        trained.sample(2, label="spam")
    with pytest.raises(DataError, match="temperature must be > 0"):
        trained.sample(2, temperature=0)
    for top_p in (0.0, 1.1):
        with pytest.raises(DataError, match="top_p must be in \\(0, 1\\]"):
            trained.sample(2, top_p=top_p)
    with pytest.raises(DataError, match="conditional on \\['negative', 'positive'\\]"):
        trained.nll(TWEETS)
    with pytest.raises(DataError, match="'neutral' is not one of label_names"):
        trained.nll(TWEETS[:1], ["neutral"])
    plain = MLETextGenerator(max_epochs=1, **TINY).fit(TWEETS)
    with pytest.raises(DataError, match="this model is unconditional"):
        plain.sample(2, label="positive")
    with pytest.raises(DataError, match="labels given, but this model is unconditional"):
        plain.nll(TWEETS, LABELS)


def test_bad_settings_name_the_option() -> None:
    with pytest.raises(DataError, match="model: expected one of gru, transformer"):
        MLETextGenerator("lstm")
    with pytest.raises(DataError, match="validation_fraction: expected a number"):
        MLETextGenerator(validation_fraction=1.0)
    with pytest.raises(DataError, match="embed_dim=10 must be a multiple of heads=4"):
        MLETextGenerator("transformer", embed_dim=10)
    with pytest.raises(RuntimeError, match="not fitted"):
        MLETextGenerator().sample(1)


def test_a_saved_generator_is_not_a_text_detector(tmp_path):
    from socialgan.text.attack.hardening import load_text_detector

    gen = MLETextGenerator("gru", max_epochs=1, **TINY).fit(TWEETS)
    gen.save_pretrained(tmp_path / "g")
    with pytest.raises(DataError, match="MLETextGenerator"):
        load_text_detector(tmp_path / "g")
