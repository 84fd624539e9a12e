"""RelGANTextGenerator and its nets on fifty tweets with tiny sizes: Gumbel-softmax outputs,
the temperature schedule, D and G steps through the engine, gradients through the soft
one-hots, seeded sampling, persistence, exact resume and bad inputs (CPU, fast)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

import socialgan
from socialgan.engine import TrainConfig, Trainer
from socialgan.engine.checkpoint import latest_checkpoint, read_checkpoint
from socialgan.errors import DataError
from socialgan.text.generate import GRULanguageModel
from socialgan.text.generate.relgan import RelGANTextGenerator
from socialgan.text.generate.relgan_nets import (
    OneHotBatches,
    RelGANDiscriminator,
    RelGANGenerator,
    beta_at,
)
from socialgan.text.generate.tokenizer import BOS, EOS, PAD

from .tweets import LABELS, TWEETS

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TINY: dict[str, Any] = {
    "vocab_size": 120,
    "min_frequency": 1,
    "tokenizer_kind": "word",
    "embed_dim": 16,
    "hidden_dim": 16,
    "batch_size": 8,
    "max_tokens": 16,
    "mle_lr": 1e-2,
    "mle_epochs": 2,
    "z_dim": 4,
    "num_rep": 4,
    "rep_dim": 2,
    "filter_sizes": (2, 3),
    "num_filters": 8,
    "steps": 4,
    "tensorboard": False,
    "progress": False,
}
V, T = 30, 8  # the nets' tests: vocabulary and length


@pytest.fixture(scope="module")
def trained() -> RelGANTextGenerator:
    torch.set_num_threads(1)
    return RelGANTextGenerator(**TINY).fit(TWEETS, LABELS)


def _nets(num_classes: int = 0) -> tuple[RelGANGenerator, RelGANDiscriminator]:
    torch.manual_seed(0)
    lm = GRULanguageModel(V, embed_dim=8, hidden_dim=16)
    g = RelGANGenerator(lm, seq_len=T, z_dim=4, num_classes=num_classes, banned=[PAD, BOS])
    d = RelGANDiscriminator(V, T, num_classes=num_classes, num_rep=3, rep_dim=2, num_filters=4)
    return g, d


def _states(gen: RelGANTextGenerator) -> dict[str, torch.Tensor]:
    assert gen.generator is not None and gen.ema_generator is not None
    assert gen.discriminator is not None
    out = {}
    for prefix, net in (("G", gen.generator), ("E", gen.ema_generator), ("D", gen.discriminator)):
        out |= {f"{prefix}.{k}": v for k, v in net.state_dict().items()}
    return out


def _last_checkpoint(run: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    path = latest_checkpoint(run / "checkpoints")
    assert path is not None
    return read_checkpoint(path)


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------ the nets
def test_generator_rows_are_on_the_simplex_and_pad_after_eos() -> None:
    g, _ = _nets()
    with torch.no_grad():
        g.lm.head.bias[EOS] += 2.0  # texts end within the T positions
        out = g(torch.randn(64, 4))
    assert out.shape == (64, T, V) and out.dtype == torch.float32
    assert (out >= 0).all() and torch.allclose(out.sum(-1), torch.ones(64, T))
    assert (out[..., BOS] == 0).all()  # banned ids get no mass
    hard = out.argmax(-1)  # argmax softmax(beta (o + g)) = argmax (o + g), the fed-back token
    ended = 0
    for row, tokens in zip(out, hard, strict=True):
        eos = (tokens == EOS).nonzero().flatten()
        if len(eos):
            ended += 1
            after = row[int(eos[0]) + 1 :]
            assert (after[:, PAD] == 1).all()  # the <pad> one-hot, as in the real batches
        assert (row[: int(eos[0]) + 1 if len(eos) else T, PAD] == 0).all()
    assert 0 < ended < 64


def test_a_higher_beta_gives_sharper_rows_with_the_same_noise() -> None:
    g, _ = _nets()
    z = torch.randn(16, 4)
    peaks = []
    for beta in (1.0, 100.0):
        g.beta = beta
        torch.manual_seed(5)
        with torch.no_grad():
            peaks.append(float(g(z).amax(-1).mean()))
    assert peaks[1] > peaks[0] and peaks[1] > 0.9


def test_the_latent_starts_at_zero_so_g_starts_as_the_mle_model() -> None:
    g, _ = _nets()
    assert torch.equal(g.initial_state(torch.randn(3, 4)), torch.zeros(1, 3, 16))


def test_beta_follows_relgans_exp_schedule() -> None:
    assert beta_at(0, 10, 100.0) == 1.0
    assert beta_at(5, 10, 100.0) == pytest.approx(10.0)
    assert beta_at(10, 10, 100.0) == 100.0 and beta_at(20, 10, 100.0) == 100.0
    values = [beta_at(n, 10, 1000.0) for n in range(11)]
    assert values == sorted(values) and values[-1] == pytest.approx(1000.0)


def test_gradients_flow_from_ds_logit_to_every_generator_weight() -> None:
    g, d = _nets(num_classes=2)
    y = torch.tensor([0, 1, 1, 0])
    d(g(torch.randn(4, 4), y), y).sum().backward()
    for name, p in g.named_parameters():
        assert p.grad is not None and float(p.grad.norm()) > 0, name
    g.zero_grad()
    out = g(torch.randn(4, 4), y)
    d(out.detach(), y).sum().backward()  # the only path to G is through the soft one-hots
    assert all(p.grad is None for p in g.parameters())


def test_one_d_step_and_one_g_step_through_the_trainer_change_the_weights() -> None:
    g, d = _nets(num_classes=2)
    ids = torch.randint(4, V, (16, T))
    ids[:, 5] = EOS
    ids[:, 6:] = PAD
    batches = OneHotBatches(ids, torch.arange(16) % 2, vocab_size=V, batch_size=8, seed=0)
    real, _ = batches.batch(0)
    assert real.shape == (8, T, V) and (real.sum(-1) == 1).all() and (real[:, 6:, PAD] == 1).all()
    cfg = TrainConfig(steps=1, batch_size=8, lr_g=1e-2, lr_d=1e-2, device="cpu", tensorboard=False)
    trainer = Trainer(g, d, batches, cfg, progress=False)
    g0 = {k: v.clone() for k, v in g.state_dict().items()}
    d0 = {k: v.clone() for k, v in d.state_dict().items()}
    assert trainer.d_step() is not None
    assert _same(g0, g.state_dict()) and not _same(d0, d.state_dict())
    d1 = {k: v.clone() for k, v in d.state_dict().items()}
    assert trainer.g_step() is not None
    assert _same(d1, d.state_dict())  # D frozen during the G step
    changed = {k for k, v in g.state_dict().items() if not torch.equal(v, g0[k])}
    assert {"noise.weight", "lm.head.weight", "lm.gru.weight_hh_l0"} <= changed


# ------------------------------------------------------------------ the generator
def test_fit_trains_both_phases_and_anneals_beta(trained: RelGANTextGenerator) -> None:
    assert trained.metrics["adversarial_steps"] == 4 and trained.metrics["mle_epochs"] == 2
    assert trained.generator is not None
    assert trained.generator.beta == pytest.approx(beta_at(3, 4, 100.0))  # set before step 4
    assert trained.metrics["beta_final"] == 100.0
    assert {"loss_d", "loss_g", "d_real", "d_fake"} <= set(trained.history[-1])
    assert 0 < trained.nll(TWEETS, LABELS) < 10


def test_sampling_is_seeded(trained: RelGANTextGenerator) -> None:
    first = trained.sample(6, seed=3, label="positive")
    assert first == trained.sample(6, seed=3, label="positive")
    assert first != trained.sample(6, seed=4, label="positive")
    assert trained.sample(6, seed=3, label=1) == first  # an id into label_names
    assert trained.sample(0) == [] and len(trained.sample(5, seed=0)) == 5
    assert len(trained.sample(3, seed=0, label="negative", temperature=0.5, top_p=0.9)) == 3


def test_save_and_load_give_the_same_samples_and_nll(
    trained: RelGANTextGenerator, tmp_path: Path
) -> None:
    folder = trained.save_pretrained(tmp_path / "relgan")
    assert {p.name for p in folder.iterdir()} == {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "README.md",
    }
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "socialgan.textgen.RelGANTextGenerator"
    assert config["train"]["lr_g"] == 1e-4 and config["params"]["beta_max"] == 100.0
    assert "Gumbel" in (folder / "README.md").read_text()
    for back in (RelGANTextGenerator.from_pretrained(folder), socialgan.load(folder)):
        assert isinstance(back, RelGANTextGenerator) and _same(_states(back), _states(trained))
        assert back.sample(5, seed=7, label="negative") == trained.sample(
            5, seed=7, label="negative"
        )
        assert back.nll(TWEETS, LABELS) == trained.nll(TWEETS, LABELS)


def test_pretraining_takes_only_its_share_of_the_budget() -> None:
    gen = RelGANTextGenerator(cpu_seconds=1e6, pretrain_share=1e-12, **{**TINY, "steps": 3})
    gen.fit(TWEETS)
    assert gen.pretrainer.history == []  # the MLE phase stopped after one batch
    assert gen.metrics["adversarial_steps"] == 3  # and the adversarial phase still ran
    with pytest.raises(DataError, match="pretrain_share"):
        RelGANTextGenerator(pretrain_share=1.5, **TINY)


def test_resume_of_both_phases_ends_in_the_same_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {**TINY, "steps": 6, "sample_every": 3}
    whole = RelGANTextGenerator(run_dir=tmp_path / "a", **settings).fit(TWEETS)
    run = tmp_path / "b"
    cut = RelGANTextGenerator(run_dir=run, cpu_seconds=0, **settings).fit(TWEETS)
    assert cut.metrics["adversarial_steps"] == 0  # stopped in the pretraining
    assert cut.nll(TWEETS) == cut.pretrainer.nll(TWEETS)  # G starts as the MLE model
    real_write = RelGANTextGenerator._write_samples

    def interrupt(self: RelGANTextGenerator, trainer: Trainer, step: int) -> None:
        real_write(self, trainer, step)
        raise KeyboardInterrupt  # Ctrl-C after adversarial step 3: the Trainer checkpoints

    monkeypatch.setattr(RelGANTextGenerator, "_write_samples", interrupt)
    with pytest.raises(KeyboardInterrupt):
        RelGANTextGenerator(run_dir=run, **settings).fit(TWEETS, resume=True)
    monkeypatch.setattr(RelGANTextGenerator, "_write_samples", real_write)
    resumed = RelGANTextGenerator(run_dir=run, **settings).fit(TWEETS, resume=True)
    assert _same(_states(whole), _states(resumed))
    (ta, sa), (tb, sb) = (_last_checkpoint(r) for r in (tmp_path / "a", run))
    assert ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta)  # Adam, RNG
    assert sa["step"] == sb["step"] == 6
    assert resumed.sample(4, seed=0) == whole.sample(4, seed=0)
    for folder in (tmp_path / "a", run):  # the run folder
        assert {"config.json", "tokenizer.json", "stats.jsonl", "mle", "samples"} <= {
            p.name for p in folder.iterdir()
        }
        samples = sorted(p.name for p in (folder / "samples").iterdir())
        assert samples == ["step-0000003.txt", "step-0000006.txt"]
    steps = [json.loads(s)["step"] for s in (run / "stats.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps))


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("texts", "labels", "match"),
    [
        ([], None, "empty corpus"),
        (TWEETS, ["positive"] * 50, "single class \\('positive'\\)"),
        (TWEETS[:5], None, "batch_size=8 is larger than the corpus \\(5 texts\\)"),
    ],
)
def test_bad_training_data_is_a_data_error(texts: Any, labels: Any, match: str) -> None:
    with pytest.raises(DataError, match=match):
        RelGANTextGenerator(**{**TINY, "mle_epochs": 1}).fit(texts, labels)


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"beta_max": 0.5}, "beta_max: expected a number >= 1"),
        ({"beta_max": "hot"}, "beta_max: expected a number"),
        ({"filter_sizes": (2, 40)}, "filter_sizes: expected a non-empty list of integers in 1..17"),
        ({"filter_sizes": []}, "filter_sizes: expected a non-empty list"),
        ({"temperature": 2.0}, "unknown option\\(s\\) temperature"),
        ({"loss": "rsgan"}, "loss: expected one of"),
        ({"z_dim": 0}, "z_dim: expected an integer >= 1"),
    ],
)
def test_bad_settings_name_the_option(settings: dict[str, Any], match: str) -> None:
    with pytest.raises(DataError, match=match):
        RelGANTextGenerator(**{**TINY, **settings})


def test_bad_sampling_requests_are_data_errors(trained: RelGANTextGenerator) -> None:
    with pytest.raises(DataError, match="unknown label 'spam'; this model knows 0='negative'"):
        trained.sample(2, label="spam")
    with pytest.raises(DataError, match="temperature must be > 0"):
        trained.sample(2, temperature=0)
    with pytest.raises(DataError, match="conditional on \\['negative', 'positive'\\]"):
        trained.nll(TWEETS)
    with pytest.raises(RuntimeError, match="not fitted"):
        RelGANTextGenerator().sample(1)


def test_resume_refuses_other_settings(tmp_path: Path) -> None:
    run = tmp_path / "run"
    RelGANTextGenerator(run_dir=run, **TINY).fit(TWEETS)
    with pytest.raises(DataError, match=r"other settings \(beta_max: 100.0 -> 1000.0\)"):
        RelGANTextGenerator(run_dir=run, **{**TINY, "beta_max": 1000.0}).fit(TWEETS, resume=True)
    with pytest.raises(DataError, match="already holds the checkpoints of a run"):
        RelGANTextGenerator(run_dir=run, **TINY).fit(TWEETS)
