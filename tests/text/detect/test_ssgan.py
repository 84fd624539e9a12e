import json

import numpy as np
import pytest
import torch

from socialgan.errors import DataError
from socialgan.text.detect.ssgan import (
    SSGANDetector,
    ssgan_discriminator_loss,
    ssgan_generator_loss,
)

from ..conftest import TINY_ENCODER, make_texts

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = {
    "lsa_dim": 16,
    **TINY_ENCODER,
    "noise_dim": 8,
    "hidden_dim": 32,
    "batch_size": 16,
    "max_epochs": 6,
    "min_steps": 6,
    "lr": 1e-3,
}


def _softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(x) / torch.exp(x).sum(1, keepdim=True)


def test_discriminator_loss_matches_direct_formula():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(6, 4, generator=g, dtype=torch.float64) * 2
    fake = torch.randn(5, 4, generator=g, dtype=torch.float64) * 2
    labels = torch.tensor([0, 2, -1, 1, -1, 2])
    p_real, p_fake = _softmax(real), _softmax(fake)
    lab = labels >= 0
    p_class = _softmax(real[:, :3])[lab, labels[lab]]
    expected = (
        -torch.log(p_class).mean()
        - torch.log(1 - p_real[:, 3]).mean()
        - torch.log(p_fake[:, 3]).mean()
    )
    got = ssgan_discriminator_loss(real, fake, labels)
    torch.testing.assert_close(got, expected)
    # no labeled rows: the unsupervised part only
    none = torch.full((6,), -1)
    unsup = -torch.log(1 - p_real[:, 3]).mean() - torch.log(p_fake[:, 3]).mean()
    torch.testing.assert_close(ssgan_discriminator_loss(real, fake, none), unsup)
    # class weights weigh the labeled rows as F.cross_entropy does
    w = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    wl = w[labels[lab]]
    weighted = -(wl * torch.log(p_class)).sum() / wl.sum() + unsup
    torch.testing.assert_close(ssgan_discriminator_loss(real, fake, labels, w), weighted)


def test_generator_loss_matches_direct_formula():
    g = torch.Generator().manual_seed(1)
    fake = torch.randn(5, 3, generator=g, dtype=torch.float64)
    real_f = torch.randn(7, 4, generator=g, dtype=torch.float64)
    fake_f = torch.randn(5, 4, generator=g, dtype=torch.float64)
    adv = -torch.log(1 - _softmax(fake)[:, 2]).mean()
    fm = ((real_f.mean(0) - fake_f.mean(0)) ** 2).mean()
    torch.testing.assert_close(ssgan_generator_loss(fake, real_f, fake_f), adv + fm)
    torch.testing.assert_close(ssgan_generator_loss(fake, real_f, fake_f, 0.5), adv + 0.5 * fm)


def test_losses_stay_finite_on_extreme_logits():
    real = torch.tensor([[-500.0, -500.0, 500.0], [800.0, 0.0, -800.0]], requires_grad=True)
    fake = torch.tensor([[900.0, 0.0, -900.0]], requires_grad=True)
    d = ssgan_discriminator_loss(real, fake, torch.tensor([0, -1]))
    g = ssgan_generator_loss(-fake, torch.zeros(2, 2), torch.ones(1, 2))
    assert torch.isfinite(d) and d.item() > 1000  # confidently wrong: large but finite
    assert torch.isfinite(g)
    (d + g).backward()
    assert torch.isfinite(real.grad).all() and torch.isfinite(fake.grad).all()


@pytest.mark.parametrize("encoder", ["lsa", "charcnn"])
def test_learns_with_unlabeled_rows(encoder):
    texts, y = make_texts(80, seed=0)
    y_semi = y.copy()
    y_semi[20:] = -1  # 20 labeled, 60 unlabeled rows
    extra, _ = make_texts(20, seed=1)
    det = SSGANDetector(**{**TINY, "max_epochs": 12}, encoder=encoder).fit(
        texts, y_semi, unlabeled_texts=extra, label_names=["ham", "spam"]
    )
    assert det.n_labeled_ == 20 and det.n_unlabeled_ == 80
    test, y_test = make_texts(30, seed=5)
    proba = det.predict_proba(test)
    assert proba.shape == (30, 2) and np.allclose(proba.sum(1), 1)
    assert (det.predict(test) == y_test).mean() >= 0.8
    assert det.label_names_ == ["ham", "spam"]
    assert {"d_loss", "g_loss"} <= set(det.history_[0]) and len(det.history_) == 12


def _low_label_task(seed: int) -> tuple[list[str], np.ndarray, list[str], list[str], np.ndarray]:
    """Two topics of 30 made-up words each; a text is 3 words of its topic and 1 shared
    word. Only 2 texts per topic are labelled, so most test texts share no word with them;
    200 unlabeled texts show which words go together.

    Returns ``labelled_texts, labels, unlabeled_texts, test_texts, test_labels``.
    """
    rng = np.random.default_rng(1000 + seed)
    words = ["".join(rng.choice(list("bcdfghjklmnpqrstvwxz"), 3)) + "a" for _ in range(65)]
    topics, shared = (words[:30], words[30:60]), words[60:]

    def draw(n: int) -> tuple[list[str], np.ndarray]:
        labels = np.arange(n) % 2
        texts = [
            " ".join(
                rng.permutation([*rng.choice(topics[y], 3, replace=False), *rng.choice(shared, 1)])
            )
            for y in labels
        ]
        return texts, labels

    labelled, labels = draw(4)
    unlabeled, _ = draw(200)
    test, test_labels = draw(100)
    return labelled, labels, unlabeled, test, test_labels


def test_unlabeled_texts_beat_a_labelled_only_fit():
    params = {**TINY, "lsa_dim": 4, "lsa_char_ngrams": None, "lsa_min_df": 1}
    semi, alone = [], []
    for seed in range(4):
        labelled, labels, unlabeled, test, test_labels = _low_label_task(seed)
        both = SSGANDetector(**params, random_state=seed).fit(
            labelled, labels, unlabeled_texts=unlabeled
        )
        only = SSGANDetector(**params, random_state=seed).fit(labelled, labels)
        assert (both.n_unlabeled_, only.n_unlabeled_) == (200, 0)
        semi.append((both.predict(test) == test_labels).mean())
        alone.append((only.predict(test) == test_labels).mean())
    # the unlabeled texts shape the LSA space and the real-vs-fake term; measured over 16
    # seeds: with them 0.83-1.00 (mean 0.95), labelled-only 0.50-0.69 (mean 0.58)
    assert np.mean(semi) >= 0.85
    assert np.mean(alone) <= 0.7
    assert min(s - a for s, a in zip(semi, alone, strict=True)) >= 0.05


def test_multiclass_with_early_stopping(tiny_multi):
    params = {**TINY, "lr": 3e-3, "max_epochs": 10, "patience": 3}
    det = SSGANDetector(**params, validation_fraction=0.2).fit(tiny_multi)
    assert "val_loss" in det.history_[0] and 1 <= det.best_epoch_ <= len(det.history_)
    assert det.predict_proba(tiny_multi).shape == (90, 3)
    assert det.score(tiny_multi.texts, tiny_multi.labels) >= 0.9
    assert det.predict(tiny_multi.texts[:3]).tolist() == tiny_multi.labels[:3].tolist()


def test_deterministic_with_seed():
    texts, y = make_texts(40, seed=3)
    y[::3] = -1
    test, _ = make_texts(10, seed=4)
    short = {**TINY, "encoder": "charcnn", "max_epochs": 2}
    a = SSGANDetector(**short).fit(texts, y).predict_proba(test)
    b = SSGANDetector(**short).fit(texts, y).predict_proba(test)
    c = SSGANDetector(**short, random_state=1).fit(texts, y).predict_proba(test)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("encoder", ["lsa", "charcnn"])
def test_save_load_round_trip(encoder, tmp_path):
    texts, y = make_texts(40, seed=6)
    det = SSGANDetector(**{**TINY, "max_epochs": 2}, encoder=encoder).fit(texts, y)
    out = det.save_pretrained(tmp_path / encoder, data="toy")
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "socialgan.text.SSGANDetector"
    assert (config["state"]["lsa"] is not None) == (encoder == "lsa")
    assert "Semi-supervised GAN" in (out / "README.md").read_text()
    loaded = SSGANDetector.from_pretrained(out)
    test, _ = make_texts(15, seed=7)
    np.testing.assert_array_equal(loaded.predict_proba(test), det.predict_proba(test))
    assert loaded.classes_.tolist() == [0, 1]


def test_bad_inputs():
    det = SSGANDetector(**TINY)
    with pytest.raises(DataError, match="empty"):
        det.fit([], [])
    with pytest.raises(DataError, match="2 labels for 3 texts"):
        det.fit(["a", "b", "c"], [0, 1])
    with pytest.raises(DataError, match="text 2: expected a string"):
        det.fit(["a", "b", 3.0], [0, 1, -1])
    with pytest.raises(DataError, match="text 0: expected a string"):
        det.fit(["a", "b", "c"], [0, 1, 1], unlabeled_texts=[b"bytes"])
    with pytest.raises(DataError, match="at least 2 classes"):
        det.fit(["a", "b", "c"], [0, -1, -1])
    with pytest.raises(ValueError, match="batch_size"):
        SSGANDetector(batch_size=1).fit(["a", "b"], [0, 1])
    with pytest.raises(ValueError, match="encoder must be"):
        SSGANDetector(encoder="bert").fit(["a", "b"], [0, 1])
    with pytest.raises(ValueError, match="not fitted"):
        det.predict_proba(["a"])
