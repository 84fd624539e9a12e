"""TrainConfig checks every value when it is built, with messages that name the field."""

from __future__ import annotations

import pytest

from socialgan.checks import OptionError
from socialgan.config_io import resolve
from socialgan.engine import TrainConfig
from socialgan.errors import DataError


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("steps", 0, "an integer >= 1"),
        ("batch_size", 0, "an integer >= 1"),
        ("batch_size", 2.5, "an integer >= 1"),
        ("batch_size", True, "an integer >= 1"),
        ("n_critic", -1, "an integer >= 1"),
        ("lr_g", "abc", "a number > 0"),
        ("lr_d", 0, "a number > 0"),
        ("betas_g", [0.5, 1.0], "two numbers in [0, 1)"),
        ("betas_d", 0.5, "two numbers in [0, 1)"),
        ("loss", "hing", "one of minimax, non_saturating, hinge, wasserstein"),
        ("ema_decay", 1.0, "a number >= 0 and < 1"),
        ("grad_clip", 0, "a number > 0 or null"),
        ("precision", "fp8", "one of fp32, bf16, fp16"),
        ("device", "gpu", "auto or a torch device name"),
        ("tensorboard", "yes", "true or false"),
        ("augment", "rotate", "comma-separated names from color, translation, cutout"),
        ("augment_p", 1.5, "a number >= 0 and <= 1"),
        ("ada_target", 1.0, "a number > -1 and < 1 or null"),
        ("seed", -1, "an integer >= 0"),
    ],
)
def test_bad_values_name_the_field_and_what_it_accepts(field, value, expected):
    with pytest.raises(OptionError) as info:
        TrainConfig(**{field: value})
    assert info.value.option == field
    message = str(info.value)
    assert message.startswith(f"{field}: expected {expected}") and message.endswith(f"{value!r}")
    assert isinstance(info.value, DataError)  # the CLI's exit code 2


def test_values_are_normalised():
    cfg = TrainConfig.from_dict(
        {"lr_g": "2e-4", "lr_d": 1, "betas_g": [0.5, 0.9], "loss": "Non-Saturating"}
    )
    assert cfg.lr_g == 2e-4 and isinstance(cfg.lr_d, float)
    assert cfg.betas_g == (0.5, 0.9) and cfg.loss == "non_saturating"
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_renamed_errors_keep_what_was_expected():
    with pytest.raises(OptionError) as info:
        TrainConfig(batch_size=0)
    renamed = info.value.renamed("train.batch_size (--batch-size)")
    assert str(renamed) == "train.batch_size (--batch-size): expected an integer >= 1, got 0"


def test_set_keeps_sections_and_values_apart():
    defaults = {"train": {"steps": 10, "loss": "hinge"}}
    with pytest.raises(DataError, match="'train' is a section, not a value"):
        resolve(defaults, None, ["train=3"])
    with pytest.raises(DataError, match="'steps' is a value, not a section"):
        resolve(defaults, None, ["train.steps.x=3"])
    with pytest.raises(DataError, match="dotted KEY"):
        resolve(defaults, None, ["train..steps=3"])
    cfg = resolve(defaults, None, ["train.steps=5"], {"train": {"steps": 7}})
    assert cfg["train"]["steps"] == 7  # command-line options win over --set
