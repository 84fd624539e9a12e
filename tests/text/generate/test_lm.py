"""The language-model nets and the shared sampler, on tiny models (CPU, fast)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from socialgan.errors import DataError
from socialgan.text.generate import (
    GRULanguageModel,
    LanguageModel,
    TransformerLanguageModel,
    nucleus_probs,
    sample,
)
from socialgan.text.generate.tokenizer import BOS, EOS, PAD, UNK

pytestmark = pytest.mark.usefixtures("one_torch_thread")
V = 40


def _nets() -> list[LanguageModel]:
    torch.manual_seed(0)
    return [
        GRULanguageModel(V, embed_dim=8, hidden_dim=16, layers=2, dropout=0.1),
        TransformerLanguageModel(V, d_model=16, heads=2, layers=2, ff=32, dropout=0.1, max_len=12),
    ]


@pytest.fixture(params=["gru", "transformer"])
def net(request: pytest.FixtureRequest) -> LanguageModel:
    return _nets()[["gru", "transformer"].index(request.param)]


def _ids(b: int = 3, t: int = 7, seed: int = 1) -> torch.Tensor:
    return torch.randint(4, V, (b, t), generator=torch.Generator().manual_seed(seed))


def test_forward_gives_next_token_logits(net: LanguageModel) -> None:
    assert net(_ids()).shape == (3, 7, V)


def test_one_optimisation_step_changes_the_weights(net: LanguageModel) -> None:
    before = {k: v.clone() for k, v in net.state_dict().items()}
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    ids = _ids()
    loss = F.cross_entropy(net(ids[:, :-1]).reshape(-1, V), ids[:, 1:].reshape(-1))
    loss.backward()
    opt.step()
    changed = [k for k, v in net.state_dict().items() if not torch.equal(v, before[k])]
    assert "embed.weight" in changed and len(changed) >= len(before) // 2


def test_positions_do_not_see_the_future_or_the_padding(net: LanguageModel) -> None:
    net.eval()
    ids = _ids()
    later = ids.clone()
    later[:, 4:] = PAD  # right padding (or any other future tokens)
    assert torch.allclose(net(ids)[:, :4], net(later)[:, :4], atol=1e-6)


def test_incremental_steps_match_the_full_forward(net: LanguageModel) -> None:
    net.eval()
    ids = _ids(2, 6)
    with torch.no_grad():
        full = net(ids)
        logits, state = net.start(ids[:, :2])
        steps = [logits]
        for t in range(2, 6):
            logits, state = net.step(ids[:, t], state)
            steps.append(logits)
    assert torch.allclose(torch.stack(steps, 1), full[:, 1:], atol=1e-5)


def test_transformer_ties_its_embeddings_and_checks_its_length() -> None:
    tf = _nets()[1]
    assert isinstance(tf, TransformerLanguageModel)
    assert tf.head.weight is tf.embed.weight
    with pytest.raises(ValueError, match="longer than max_len=12"):
        tf(_ids(1, 13))
    with pytest.raises(ValueError, match="multiple of heads"):
        TransformerLanguageModel(V, d_model=10, heads=4)


def _draw(net: LanguageModel, seed: int, **kw: object) -> list[list[int]]:
    prefix = torch.full((6, 1), BOS)
    return sample(net, prefix, max_len=10, generator=torch.Generator().manual_seed(seed), **kw)  # type: ignore[arg-type]


def test_sampling_is_reproducible_and_seeded(net: LanguageModel) -> None:
    first = _draw(net, 0, banned=[PAD, BOS, UNK])
    assert first == _draw(net, 0, banned=[PAD, BOS, UNK])
    assert first != _draw(net, 1, banned=[PAD, BOS, UNK])
    assert net.training  # restored after sampling in eval mode
    assert all(len(r) <= 10 and not {PAD, BOS, UNK, EOS} & set(r) for r in first)


def test_sampling_stops_at_eos() -> None:
    net = _nets()[0]
    with torch.no_grad():
        net.head.bias.fill_(-50.0)
        net.head.bias[EOS] = 50.0
    assert _draw(net, 0) == [[]] * 6  # <eos> first: empty texts
    with torch.no_grad():
        net.head.bias[EOS] = -50.0
        net.head.bias[7] = 50.0
    assert _draw(net, 0) == [[7] * 10] * 6  # never <eos>: cut at max_len


def test_nucleus_keeps_the_smallest_set_reaching_top_p() -> None:
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    assert torch.allclose(nucleus_probs(logits), torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    assert torch.allclose(nucleus_probs(logits, top_p=0.7), torch.tensor([[0.625, 0.375, 0, 0]]))
    assert torch.equal(nucleus_probs(logits, top_p=1e-6), torch.tensor([[1.0, 0, 0, 0]]))
    hot = nucleus_probs(logits, temperature=100.0)
    assert float(hot.max() - hot.min()) < 0.05  # high temperature: nearly uniform
    greedy = _draw(_nets()[0], 0, top_p=1e-6)
    assert all(r == greedy[0] for r in greedy)  # top_p -> 0: the most likely token only


@pytest.mark.parametrize(
    ("temperature", "top_p"), [(0.0, 1.0), (-1.0, 1.0), (1.0, 0.0), (1.0, 1.5)]
)
def test_bad_sampling_settings_are_data_errors(temperature: float, top_p: float) -> None:
    with pytest.raises(DataError, match="temperature must be > 0|top_p must be in"):
        _draw(_nets()[0], 0, temperature=temperature, top_p=top_p)
