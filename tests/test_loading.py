"""socialgan.load: any saved model by its model_type, and DataErrors that name the file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import socialgan
from socialgan.errors import DataError
from socialgan.image.detect import SpectralDetector, load_detector, stack_real_fake
from socialgan.image.gan import ImageGAN
from socialgan.loading import MODEL_TYPES, known_model_types, model_class, register
from socialgan.text import CharCNNDetector, NormalizingDetector, TfidfDetector
from socialgan.text.attack.hardening import load_text_detector

from .text.conftest import TINY_ENCODER, make_texts

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def texts() -> tuple[list[str], np.ndarray]:
    return make_texts(40, seed=0)


@pytest.fixture(scope="module")
def tfidf(texts) -> TfidfDetector:
    return TfidfDetector(char_ngrams=(2, 3), calibration_cv=3, style_weight=0.0).fit(*texts)


@pytest.fixture(scope="module")
def charcnn(texts) -> CharCNNDetector:
    return CharCNNDetector(**TINY_ENCODER, max_epochs=1, min_steps=2).fit(*texts)


@pytest.fixture(scope="module")
def images() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    real = torch.rand(24, 1, 28, 28, generator=g)
    return real, (real + 0.3 * torch.rand(24, 1, 28, 28, generator=g)).clamp(0, 1)


@pytest.fixture(scope="module")
def spectral(images) -> SpectralDetector:
    return SpectralDetector(dct_bands=4, Cs=[1.0]).fit(*stack_real_fake(*images))


def _config(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text())


def test_every_model_type_opens(tmp_path, texts, tfidf, charcnn, spectral, images):
    hardened = NormalizingDetector(TfidfDetector(char_ngrams=None, calibration_cv=3))
    gan = ImageGAN("dcgan", width=8, steps=2, batch_size=8, progress=False, tensorboard=False)
    gan.fit(images[0])
    saved = {
        "tfidf": tfidf.save_pretrained(tmp_path / "tfidf"),
        "charcnn": charcnn.save_pretrained(tmp_path / "charcnn"),
        "hardened": hardened.fit(*texts).save_pretrained(tmp_path / "hardened"),
        "spectral": spectral.save_pretrained(tmp_path / "spectral"),
        "gan": gan.save_pretrained(tmp_path / "gan"),
    }
    loaded = {name: socialgan.load(folder) for name, folder in saved.items()}
    assert isinstance(loaded["tfidf"], TfidfDetector)
    assert isinstance(loaded["charcnn"], CharCNNDetector)
    assert isinstance(loaded["hardened"], NormalizingDetector)
    assert isinstance(loaded["spectral"], SpectralDetector)
    assert isinstance(loaded["gan"], ImageGAN)
    probe = texts[0][:5]
    np.testing.assert_array_equal(loaded["tfidf"].predict_proba(probe), tfidf.predict_proba(probe))
    np.testing.assert_array_equal(
        loaded["spectral"].predict_proba(images[1][:4]), spectral.predict_proba(images[1][:4])
    )
    for name in ("tfidf", "charcnn", "spectral"):
        assert _config(saved[name])["model_type"] == type(loaded[name]).model_type
    # the family-limited loaders say what a folder holds instead of failing later
    with pytest.raises(DataError, match=r"holds a socialgan.image.SpectralDetector, not a "):
        load_text_detector(saved["spectral"])
    with pytest.raises(DataError, match=r"holds a socialgan.text.TfidfDetector, not a "):
        load_detector(saved["tfidf"])
    with pytest.raises(DataError, match=r"holds a socialgan.ImageGAN.*known: socialgan.image"):
        load_detector(saved["gan"])


def test_config_problems_name_the_folder_and_the_known_types(tmp_path, tfidf):
    with pytest.raises(DataError, match="no such model folder"):
        socialgan.load(tmp_path / "nowhere")
    with pytest.raises(DataError, match=r"config.json missing\); known model types: socialgan"):
        socialgan.load(tmp_path)
    folder = tfidf.save_pretrained(tmp_path / "m")
    config = _config(folder)
    cases = {
        "{not json": "not valid JSON",
        "[1, 2]": "expected a JSON object",
        json.dumps({k: v for k, v in config.items() if k != "model_type"}): (
            r"config.json: no model_type, so .*/m is not a saved socialgan model; known model "
            r"types: socialgan.ImageGAN, .*socialgan.text.TfidfDetector"
        ),
        json.dumps({**config, "model_type": "socialgan.tabular.Bot"}): (
            r"unknown model_type 'socialgan.tabular.Bot'; known: .*socialgan.text.SSGANDetector"
        ),
    }
    for text, message in cases.items():
        (folder / "config.json").write_text(text)
        with pytest.raises(DataError, match=message):
            socialgan.load(folder)


@pytest.mark.parametrize("name", ["tfidf", "charcnn", "spectral"])
def test_missing_or_truncated_weights_name_the_file(tmp_path, request, name):
    folder = request.getfixturevalue(name).save_pretrained(tmp_path / name)
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=rf"{name}/model.safetensors: cannot read safetensors"):
        socialgan.load(folder)
    weights.unlink()
    with pytest.raises(DataError, match=rf"{name}/model.safetensors: missing"):
        socialgan.load(folder)


@pytest.mark.parametrize(
    ("name", "section", "key", "value"),
    [("charcnn", "params", "filters", 9), ("spectral", "state", "size", 20)],
)
def test_weights_that_do_not_fit_the_config_name_the_file(
    tmp_path, request, name, section, key, value
):
    folder = request.getfixturevalue(name).save_pretrained(tmp_path / name)
    config = _config(folder)
    config[section] = {**config[section], key: value}  # the weights were saved for another
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(DataError, match=rf"{name}/model.safetensors: the weights do not fit"):
        socialgan.load(folder)


def test_registry_takes_one_line_per_class(tmp_path):
    assert set(known_model_types("socialgan.text.")) <= set(MODEL_TYPES)
    assert model_class("socialgan.text.TfidfDetector") is TfidfDetector
    try:
        register("socialgan.test.Echo", "tests.test_loading:_Echo")
        folder = tmp_path / "echo"
        folder.mkdir()
        (folder / "config.json").write_text('{"model_type": "socialgan.test.Echo"}')
        assert socialgan.load(folder).directory == folder
        with pytest.raises(ValueError, match="already"):
            register("socialgan.test.Echo", "elsewhere:Echo")
    finally:
        MODEL_TYPES.pop("socialgan.test.Echo", None)
    with pytest.raises(ValueError, match="module:Class"):
        register("socialgan.test.Bad", "no_colon")


class _Echo:
    """A registered class from outside socialgan: ``from_pretrained`` keeps the folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def from_pretrained(cls, directory: Path) -> _Echo:
        return cls(Path(directory))
