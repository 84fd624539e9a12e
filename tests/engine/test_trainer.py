import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from socialgan.engine import LOSSES
from socialgan.engine.checkpoint import list_checkpoints, read_checkpoint
from socialgan.errors import TrainingError

from .toy import make_trainer

HERE = Path(__file__).parent


def _weights(trainer):
    return {k: v.clone() for k, v in trainer.state_tensors().items() if not k.startswith("rng")}


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("conditional", [False, True])
@pytest.mark.parametrize("n_critic", [1, 2])
def test_one_step_updates_both_players(loss, conditional, n_critic):
    t = make_trainer(loss=loss, conditional=conditional, n_critic=n_critic, steps=1)
    g0 = [p.clone() for p in t.G.parameters()]
    d0 = [p.clone() for p in t.D.parameters()]
    t.fit()
    assert t.step == 1 and t.d_steps == n_critic
    assert any(not torch.equal(a, b) for a, b in zip(g0, t.G.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(d0, t.D.parameters(), strict=True))
    assert all(torch.isfinite(torch.tensor(v)) for v in t.history[-1].values())


def test_r1_and_clipping_and_ema_run():
    t = make_trainer(r1_gamma=1.0, r1_every=2, grad_clip=0.5, ema_decay=0.9, steps=6, log_every=1)
    t.fit()
    assert "r1" in t.history[0]
    assert any(
        not torch.equal(a, b)
        for a, b in zip(t.G.parameters(), t.ema.shadow.parameters(), strict=True)
    )


def _total_norm(grads: list[torch.Tensor]) -> torch.Tensor:
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))


@pytest.mark.parametrize("player", ["discriminator", "generator"])
def test_grad_clip_scales_the_update_gradients_down_to_the_clip_norm(player):
    clip = 0.01
    runs = {}
    for grad_clip in (None, clip):  # twin trainers: same seed, same weights, same batch
        t = make_trainer(grad_clip=grad_clip)
        t.g_regularizer = lambda fake, y: 1e3 * fake.pow(2).mean()  # a huge generator loss
        out = t.d_step() if player == "discriminator" else t.g_step()
        assert out is not None
        net = t.D if player == "discriminator" else t.G
        grads = [p.grad.clone() for p in net.parameters() if p.grad is not None]
        runs[grad_clip] = (float(out[f"grad_norm_{player[0]}"]), grads)
    (logged_free, free), (logged_clipped, clipped) = runs[None], runs[clip]
    norm = float(_total_norm(free))
    assert norm > 10 * clip  # the unclipped step would have been much larger
    assert logged_free == pytest.approx(norm) and logged_clipped == pytest.approx(norm)
    assert float(_total_norm(clipped)) <= clip * (1 + 1e-5)  # what the optimizer used
    for c, f in zip(clipped, free, strict=True):  # same direction, scaled by clip / norm
        torch.testing.assert_close(c, f * (clip / norm), rtol=1e-4, atol=1e-9)


def test_same_seed_same_losses_and_other_seed_differs():
    a = make_trainer(seed=3).fit().history
    b = make_trainer(seed=3).fit().history
    c = make_trainer(seed=4).fit().history
    strip = [[{k: v for k, v in r.items() if k != "steps_per_sec"} for r in h] for h in (a, b, c)]
    assert strip[0] == strip[1] != strip[2]


def test_resume_reaches_the_same_weights(tmp_path):
    full = make_trainer(tmp_path / "full", steps=30).fit()
    part = make_trainer(tmp_path / "part", steps=30)
    part.fit(steps=12)
    resumed = make_trainer(tmp_path / "part", steps=30)
    assert resumed.resume()
    assert resumed.step == 12
    resumed.fit()
    wf, wr = _weights(full), _weights(resumed)
    assert wf.keys() == wr.keys()
    for k in wf:
        assert torch.equal(wf[k], wr[k]), k
    # stats.jsonl has each logged step once, in order
    steps = [
        json.loads(s)["step"] for s in (tmp_path / "part/stats.jsonl").read_text().splitlines()
    ]
    assert steps == sorted(set(steps))


def test_resume_after_sigkill(tmp_path):
    total = 400
    run = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, str(HERE / "toy.py"), str(run), str(total)])
    deadline = time.time() + 60
    while time.time() < deadline and len(list_checkpoints(run / "checkpoints")) < 3:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    ckpts = list_checkpoints(run / "checkpoints")
    assert ckpts, "the child wrote no checkpoint before it was killed"
    assert ckpts[-1][0] < total, "the child finished before the kill; raise total"
    for _, path in ckpts:  # everything visible is complete and readable
        read_checkpoint(path)
    resumed = make_trainer(run, steps=total, checkpoint_every=5, keep_last=100)
    assert resumed.resume()
    resumed.fit()
    full = make_trainer(tmp_path / "full", steps=total).fit()
    wf, wr = _weights(full), _weights(resumed)
    for k in wf:
        assert torch.equal(wf[k], wr[k]), k


def test_nan_guard_rolls_back_and_continues(tmp_path, capsys):
    t = make_trainer(tmp_path, steps=20, snapshot_every=5)
    t.D.nan_after, t.D.nan_calls = 21, 1  # one poisoned D output during step ~11
    t.fit()
    assert t.step == 20 and t.nonfinite_events == 1
    assert "rolled back" in capsys.readouterr().err
    for v in _weights(t).values():
        assert torch.isfinite(v.float()).all()


def test_nan_guard_stops_with_clear_error_and_no_poisoned_checkpoint(tmp_path):
    t = make_trainer(tmp_path, steps=20, checkpoint_every=2, max_nonfinite=2)
    t.D.nan_after = 13  # NaN forever from here on
    with pytest.raises(TrainingError, match="non-finite"):
        t.fit()
    for _, path in list_checkpoints(tmp_path / "checkpoints"):
        tensors, _ = read_checkpoint(path)
        assert all(torch.isfinite(v.float()).all() for v in tensors.values())


def test_checkpoint_rotation_keeps_last_k_and_best(tmp_path):
    calls = iter([5.0, 1.0, 3.0, 4.0, 6.0, 7.0])
    t = make_trainer(tmp_path, steps=12, checkpoint_every=2, keep_last=2)
    t.evaluate, t.eval_every, t.metric = (lambda tr: {"score": next(calls)}), 2, "score"
    t.fit()
    names = [p.name for _, p in list_checkpoints(tmp_path / "checkpoints")]
    best = json.loads((tmp_path / "checkpoints/best.json").read_text())
    assert best["step"] == 4 and best["value"] == 1.0
    assert names == ["step-0000004", "step-0000010", "step-0000012"]
    assert not list((tmp_path / "checkpoints").glob(".tmp-*"))


def test_reusing_the_fake_batch_saves_a_generator_forward():
    calls = {}
    for reuse in (True, False):
        t = make_trainer(steps=4, reuse_fake=reuse)
        count = [0]
        t.G.register_forward_hook(lambda *a, c=count: c.__setitem__(0, c[0] + 1))
        t.fit()
        calls[reuse] = count[0]
        assert all(torch.isfinite(v.float()).all() for v in _weights(t).values())
    assert calls == {True: 4, False: 8}


def test_cpu_budget_stops_training_and_checkpoints(tmp_path):
    t = make_trainer(tmp_path, steps=10**6)
    t.fit(cpu_seconds=0.5)
    assert 0 < t.step < 10**6
    assert list_checkpoints(tmp_path / "checkpoints")[-1][0] == t.step


def test_ema_warmup_forgets_the_initial_weights():
    from torch import nn

    from socialgan.engine import EMA

    model = nn.Linear(3, 1)
    with torch.no_grad():
        model.weight.zero_()
    for warmup, expect_close in ((True, True), (False, False)):
        ema = EMA(model, decay=0.999, warmup=warmup)
        with torch.no_grad():
            model.weight.fill_(1.0)
        for t in range(50):
            ema.update(t)
        close = torch.allclose(ema.shadow.weight, model.weight, atol=0.2)
        assert close == expect_close
        with torch.no_grad():
            model.weight.zero_()


def _lr_schedule(trainer, seen=None):
    """A step-dependent schedule: G's learning rate halves every 5 steps."""
    if seen is not None:
        seen.append(trainer.step)
    for group in trainer.opt_g.param_groups:
        group["lr"] = 1e-3 * 0.5 ** (trainer.step // 5)


def test_on_step_runs_before_each_step_with_the_steps_done():
    seen: list[int] = []
    t = make_trainer(steps=7)
    t.on_step = lambda tr: _lr_schedule(tr, seen)
    t.fit()
    assert seen == list(range(7))
    assert t.opt_g.param_groups[0]["lr"] == 1e-3 * 0.5  # set before step 6 (index 6 // 5 = 1)
    plain = make_trainer(steps=7).fit()
    assert any(  # the schedule changed the training
        not torch.equal(a, b) for a, b in zip(t.G.parameters(), plain.G.parameters(), strict=True)
    )


def test_resume_with_a_step_dependent_schedule_reaches_the_same_weights(tmp_path):
    full = make_trainer(tmp_path / "full", steps=20)
    full.on_step = _lr_schedule
    full.fit()
    part = make_trainer(tmp_path / "part", steps=20)
    part.on_step = _lr_schedule
    part.fit(steps=8)
    seen: list[int] = []
    resumed = make_trainer(tmp_path / "part", steps=20)
    resumed.on_step = lambda tr: _lr_schedule(tr, seen)
    assert resumed.resume()
    resumed.fit()
    assert seen == list(range(8, 20))
    wf, wr = _weights(full), _weights(resumed)
    assert wf.keys() == wr.keys()
    for k in wf:
        assert torch.equal(wf[k], wr[k]), k
