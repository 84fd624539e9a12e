"""SeqGANTextGenerator with tiny nets on fifty tweets: one G step and one D step, D
pretraining, rollout rewards, seeded sampling, persistence, run folders, exact resume and
bad inputs (CPU, seconds)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import socialgan
import socialgan.text.generate.seqgan_train as train_module
from socialgan.engine.checkpoint import latest_checkpoint, read_checkpoint
from socialgan.errors import DataError
from socialgan.text.generate import (
    GRULanguageModel,
    MLETextGenerator,
    SeqGANTextGenerator,
    TransformerLanguageModel,
)
from socialgan.text.generate.seqgan_nets import CNNDiscriminator
from socialgan.text.generate.seqgan_train import SeqGANTrainer

from .tweets import LABELS, TWEETS

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TINY: dict[str, Any] = {
    "vocab_size": 120,
    "min_frequency": 1,
    "embed_dim": 16,
    "hidden_dim": 16,
    "batch_size": 8,
    "max_tokens": 24,
    "lr": 1e-2,
    "max_epochs": 2,
    "progress": False,
    "adversarial_steps": 4,
    "rollouts": 2,
    "adv_batch_size": 8,
    "adv_lr": 1e-3,
    "d_steps": 1,
    "d_pretrain_epochs": 1,
    "d_embed_dim": 8,
    "d_filters": 4,
    "d_widths": [2, 3],
    "checkpoint_every": 2,
}
D_TOTAL = 6  # 45 training texts in batches of 8: one epoch of D pretraining


def tiny(model: str = "gru", **kw: Any) -> SeqGANTextGenerator:
    return SeqGANTextGenerator(model, **{**TINY, **kw})


@pytest.fixture(scope="module")
def trained() -> SeqGANTextGenerator:
    torch.set_num_threads(1)
    return tiny().fit(TWEETS, LABELS)


def _weights(gen: SeqGANTextGenerator) -> dict[str, torch.Tensor]:
    assert gen.discriminator is not None
    g = {f"g.{k}": v for k, v in gen._fitted()[1].state_dict().items()}
    return g | {f"d.{k}": v for k, v in gen.discriminator.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------ the trainer's steps
def _trainer(real: list[list[int]], **config: Any) -> SeqGANTrainer:
    torch.manual_seed(0)
    base = {
        "adv_lr": 1e-2,
        "d_lr": 1e-2,
        "batch_size": 8,
        "d_pretrain_epochs": 1,
        "adversarial_steps": 0,
        "max_tokens": 6,
        "rollouts": 2,
        "rollout_update": 0.8,
        "adv_batch_size": 4,
        "mle_every": 1,
        "d_steps": 1,
        "seed": 0,
    }
    return SeqGANTrainer(
        GRULanguageModel(20, embed_dim=8, hidden_dim=16),
        CNNDiscriminator(20, embed_dim=8, filters=4, widths=(2, 3)),
        real,
        prefix_len=1,
        draw_prefix=lambda n, gen: torch.ones(n, 1, dtype=torch.long),
        banned=[0, 1, 3],
        config=base | config,
        fingerprint="test",
        device=torch.device("cpu"),
        progress=False,
    )


def _snapshot(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in net.state_dict().items()}


REAL = [[1, 5, 6, 7, 2], [1, 8, 9, 2], [1, 5, 5, 5, 5, 2], [1, 10, 11, 12, 13, 14, 15]]


def test_one_generator_step_and_one_discriminator_step_change_their_weights() -> None:
    trainer = _trainer(REAL)
    g0, d0 = _snapshot(trainer.g), _snapshot(trainer.d)
    stats = trainer._g_step(torch.Generator().manual_seed(0))
    assert not _same(g0, trainer.g.state_dict()) and _same(d0, trainer.d.state_dict())
    assert 0 < stats["g/reward"] < 1 and stats["g/length"] >= 1
    g1 = _snapshot(trainer.g)
    stats = trainer._d_step(REAL, torch.Generator().manual_seed(1))
    assert not _same(d0, trainer.d.state_dict()) and _same(g1, trainer.g.state_dict())
    assert stats["d/loss"] > 0 and 0 <= stats["d/accuracy"] <= 1


def test_rollout_rewards_and_the_delayed_rollout_policy() -> None:
    trainer = _trainer(REAL)
    gen = torch.Generator().manual_seed(0)
    seqs = trainer._fake(6, gen)
    reward = trainer.rewards(seqs, gen)
    lengths = [len(s) - 1 for s in seqs]
    assert not {0, 1, 3} & {k for s in seqs for k in s[1:]}  # banned ids are never drawn
    assert reward.shape == (6, max(lengths))
    for i, n in enumerate(lengths):  # in (0, 1) on real tokens, 0 on padding
        assert bool((reward[i, :n] > 0).all() and (reward[i, :n] < 1).all())
        assert bool((reward[i, n:] == 0).all())
    finished = trainer._score(seqs)  # the last token's reward is D on the text itself
    assert torch.equal(reward[torch.arange(6), torch.tensor(lengths) - 1], finished)
    old = _snapshot(trainer.rollout)
    trainer._g_step(gen)
    trainer._update_rollout()
    for k, v in trainer.rollout.state_dict().items():
        assert torch.allclose(v, 0.8 * old[k] + 0.2 * trainer.g.state_dict()[k])
    # D reads a text without <bos>: a class token would be the first thing it sees
    assert trainer._d_input([[1, 9, 7, 2]]).tolist() == [[9, 7, 2]]


def test_d_pretraining_separates_an_easy_case() -> None:
    real = [[1, 5, 5, 5, 5, 5, 5, 2]] * 16  # the untrained G writes random tokens instead
    trainer = _trainer(real, d_pretrain_epochs=15)
    losses = [h["d/pretrain_loss"] for h in trainer.fit().history]
    assert len(losses) == 30
    assert sum(losses[-3:]) / 3 < 0.2 < sum(losses[:3]) / 3


@pytest.mark.parametrize("kind", ["gru", "transformer"])
def test_select_state_repeats_and_drops_rows(kind: str) -> None:
    torch.manual_seed(0)
    lm = GRULanguageModel(20, 8, 16) if kind == "gru" else TransformerLanguageModel(20, 8, 2, 1, 16)
    lm.eval()
    prefix = torch.tensor([[1, 5, 6], [1, 7, 8]])
    logits, state = lm.start(prefix)
    assert torch.allclose(logits, lm(prefix)[:, -1], atol=1e-6)
    index = torch.tensor([1, 1, 0])
    picked, _ = lm.step(torch.tensor([9, 9, 9]), lm.select_state(state, index))
    direct, _ = lm.step(torch.tensor([9, 9]), state)
    assert torch.allclose(picked, direct[index], atol=1e-6)


def test_a_transformer_generator_trains_adversarially_too() -> None:
    gen = tiny("transformer", heads=2, adversarial_steps=2).fit(TWEETS)
    assert gen.metrics["adversarial_rounds"] == 2 and len(gen.sample(3, seed=0)) == 3


# ------------------------------------------------------------------ fit, sample, save
def test_fit_runs_both_phases(trained: SeqGANTextGenerator) -> None:
    assert trained.metrics["epochs"] == 2 and trained.metrics["adversarial_rounds"] == 4
    assert {"gan_reward", "gan_d_loss", "gan_val_nll", "val_nll"} <= set(trained.metrics)
    steps = trained.gan_history
    assert len(steps) == D_TOTAL + 4 and "d/pretrain_loss" in steps[0]
    rounds = steps[D_TOTAL:]
    assert [r["round"] for r in rounds] == [1, 2, 3, 4]
    assert ["g/mle_loss" in r for r in rounds] == [False, True, False, True]  # mle_every=2


def test_sampling_is_seeded(trained: SeqGANTextGenerator) -> None:
    first = trained.sample(6, seed=3, label="positive")
    assert first == trained.sample(6, seed=3, label="positive")
    assert first != trained.sample(6, seed=4, label="positive")
    assert len(trained.sample(4, seed=0, temperature=0.7, top_p=0.9)) == 4


def test_save_and_load_give_the_same_samples(trained: SeqGANTextGenerator, tmp_path: Path) -> None:
    folder = trained.save_pretrained(tmp_path / "gan")
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "socialgan.textgen.SeqGANTextGenerator"
    assert config["params"]["rollouts"] == 2 and config["params"]["d_widths"] == [2, 3]
    assert "SeqGAN: 4 adversarial rounds" in (folder / "README.md").read_text()
    for back in (SeqGANTextGenerator.from_pretrained(folder), socialgan.load(folder)):
        assert isinstance(back, SeqGANTextGenerator) and back.get_params() == trained.get_params()
        assert back.sample(5, seed=7, label="negative") == trained.sample(
            5, seed=7, label="negative"
        )
        assert back.nll(TWEETS, LABELS) == trained.nll(TWEETS, LABELS)
    with pytest.raises(DataError, match="SeqGANTextGenerator"):
        MLETextGenerator.from_pretrained(folder)


# ------------------------------------------------------------------ run folder, resume
@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SeqGANTextGenerator, Path]]:
    torch.set_num_threads(1)
    run = tmp_path_factory.mktemp("whole") / "run"
    yield tiny(run_dir=run).fit(TWEETS, LABELS), run


def _last_checkpoint(run: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    path = latest_checkpoint(run / "checkpoints")
    assert path is not None
    return read_checkpoint(path)


def test_the_run_folder(
    whole: tuple[SeqGANTextGenerator, Path], trained: SeqGANTextGenerator
) -> None:
    gen, run = whole
    assert _same(_weights(gen), _weights(trained))  # a run folder changes nothing
    config = json.loads((run / "config.json").read_text())
    assert config["model_type"] == "socialgan.textgen.SeqGANTextGenerator"
    assert config["run"]["run_dir"] == str(run)
    stats = [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]
    assert [s["step"] for s in stats] == list(range(1, D_TOTAL + 5))
    assert "d/pretrain_loss" in stats[0] and "g/reward" in stats[-1]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "step-0000008",
        "step-0000010",
    ]
    assert (run / "samples" / "step-000010.txt").read_text().startswith("[negative] ")
    pretrain = run / "pretrain"
    assert latest_checkpoint(pretrain / "checkpoints") is not None
    assert (pretrain / "stats.jsonl").is_file() and (pretrain / "samples").is_dir()


def test_resume_after_some_rounds_ends_in_the_same_bits(
    whole: tuple[SeqGANTextGenerator, Path], tmp_path: Path
) -> None:
    gen, run = whole
    tiny(run_dir=tmp_path / "b", adversarial_steps=1).fit(TWEETS, LABELS)
    resumed = tiny(run_dir=tmp_path / "b").fit(TWEETS, LABELS, resume=True)
    assert _same(_weights(resumed), _weights(gen)) and resumed.gan_history == gen.gan_history
    (ta, sa), (tb, sb) = _last_checkpoint(run), _last_checkpoint(tmp_path / "b")
    assert _same(ta, tb) and sa["progress"] == sb["progress"]  # rollout copy and Adams too
    assert resumed.sample(4, seed=0) == gen.sample(4, seed=0)


def test_resume_after_the_cpu_budget_in_either_phase(
    whole: tuple[SeqGANTextGenerator, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen, _ = whole
    cut = tiny(run_dir=tmp_path / "a", cpu_seconds=0).fit(TWEETS, LABELS)
    assert cut.discriminator is None  # stopped after one MLE batch
    resumed = tiny(run_dir=tmp_path / "a").fit(TWEETS, LABELS, resume=True)
    assert _same(_weights(resumed), _weights(gen))

    class Clock:  # CPU time runs out after two adversarial rounds
        calls = 0

        @classmethod
        def process_time(cls) -> float:
            cls.calls += 1
            return 0.0 if cls.calls <= D_TOTAL + 2 else 1e9

    with monkeypatch.context() as patch:
        patch.setattr(train_module, "time", Clock)
        cut = tiny(run_dir=tmp_path / "b", cpu_seconds=1e6).fit(TWEETS, LABELS)
    assert len(cut.gan_history) == D_TOTAL + 2
    resumed = tiny(run_dir=tmp_path / "b").fit(TWEETS, LABELS, resume=True)
    assert _same(_weights(resumed), _weights(gen)) and resumed.gan_history == gen.gan_history


def test_pretraining_takes_only_its_share_of_the_budget() -> None:
    # a share this small ends the MLE phase after one batch, and the adversarial phase
    # still gets (nearly all of) the budget instead of none of it
    gen = tiny(cpu_seconds=1e6, pretrain_share=1e-12).fit(TWEETS, LABELS)
    assert gen.history == []  # no MLE epoch finished
    assert len(gen.gan_history) == D_TOTAL + TINY["adversarial_steps"]
    with pytest.raises(DataError, match="pretrain_share"):
        tiny(pretrain_share=0)


def test_resume_refuses_other_settings_or_data(whole: tuple[SeqGANTextGenerator, Path]) -> None:
    _, run = whole
    with pytest.raises(DataError, match=r"other settings \(rollouts: 2 -> 3\)"):
        tiny(run_dir=run, rollouts=3).fit(TWEETS, LABELS, resume=True)
    with pytest.raises(DataError, match="trained on other texts or labels"):
        tiny(run_dir=run).fit(TWEETS[:40], LABELS[:40], resume=True)
    with pytest.raises(DataError, match="already holds the checkpoints of a run"):
        tiny(run_dir=run).fit(TWEETS, LABELS)


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
        tiny().fit(texts, labels)


@pytest.mark.parametrize(
    ("option", "value", "match"),
    [
        ("rollouts", 0, "rollouts: expected an integer >= 1, got 0"),
        ("rollouts", 2.5, "rollouts: expected an integer >= 1, got 2.5"),
        ("rollouts", "4", "rollouts: expected an integer >= 1, got '4'"),
        ("rollout_update", 1.0, "rollout_update: expected a number >= 0 and < 1"),
        ("adv_batch_size", 1, "adv_batch_size: expected an integer >= 2"),
        ("mle_every", -1, "mle_every: expected an integer >= 0"),
        ("d_widths", [], "d_widths: expected a list of filter widths"),
        ("d_widths", [2, 0], "d_widths: expected an integer >= 1, got 0"),
        ("validation_fraction", 1.0, "validation_fraction: expected a number"),
    ],
)
def test_bad_settings_name_the_option(option: str, value: Any, match: str) -> None:
    with pytest.raises(DataError, match=match):
        tiny(**{option: value})


def test_bad_sampling_requests_are_data_errors(trained: SeqGANTextGenerator) -> None:
    with pytest.raises(DataError, match="unknown label 'spam'"):
        trained.sample(2, label="spam")
    with pytest.raises(DataError, match="temperature must be > 0"):
        trained.sample(2, temperature=0)
    with pytest.raises(DataError, match="conditional on"):
        trained.nll(TWEETS)
    with pytest.raises(RuntimeError, match="not fitted"):
        tiny().sample(1)
