"""Same seed and thread count, same neural text detector: whatever ran before in the
process, however many BLAS threads NumPy would use, whatever PYTHONHASHSEED is."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from socialgan.reproducibility import reproducible
from socialgan.text import CharCNNDetector, SSGANDetector

from ..conftest import TINY_ENCODER, make_texts

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SHORT = {"max_epochs": 2, "min_steps": 4, "batch_size": 16}
MAKERS = {
    "charcnn": lambda: CharCNNDetector(**TINY_ENCODER, **SHORT),
    "ssgan-lsa": lambda: SSGANDetector(**SHORT, lsa_dim=8, noise_dim=4, hidden_dim=16),
    "ssgan-charcnn": lambda: SSGANDetector(
        encoder="charcnn", **TINY_ENCODER, **SHORT, noise_dim=4, hidden_dim=16
    ),
}


def _fit_proba(name: str) -> np.ndarray:
    texts, y = make_texts(48, seed=0)
    test, _ = make_texts(12, seed=5)
    return MAKERS[name]().fit(texts, y).predict_proba(test)


def _blas_threads() -> list[int]:
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_two_fits_in_one_process_agree(name):
    first = _fit_proba(name)
    torch.rand(7), np.random.rand(3), random.random()  # a previous test drew numbers
    torch.manual_seed(123)
    np.testing.assert_array_equal(_fit_proba(name), first)


def test_a_fit_leaves_the_callers_generators_and_settings_alone():
    torch.manual_seed(5)
    np.random.seed(5)
    random.seed(5)
    expected = (torch.rand(2), np.random.rand(2), random.random())
    torch.manual_seed(5)
    np.random.seed(5)
    random.seed(5)
    blas = _blas_threads()
    _fit_proba("ssgan-lsa")
    assert not torch.are_deterministic_algorithms_enabled() and _blas_threads() == blas
    got = (torch.rand(2), np.random.rand(2), random.random())
    assert torch.equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])
    assert got[2] == expected[2]


def test_blas_follows_the_torch_thread_count():
    """NumPy's BLAS would use every core; inside a fit it uses torch's thread count, so the
    LSA basis (a truncated SVD, which on 1,000 texts changes bits with the BLAS thread
    count) and the model are the same under any outer BLAS setting."""
    texts, y = make_texts(1000, seed=1)
    fits = []
    for blas in (1, 2):
        with threadpool_limits(limits=blas, user_api="blas"):
            det = SSGANDetector(lsa_dim=64, lsa_min_df=1, max_epochs=1, min_steps=1)
            fits.append(det.fit(texts, y))
            with reproducible(0):
                assert set(_blas_threads()) <= {torch.get_num_threads()}
    np.testing.assert_array_equal(fits[0].lsa_.components, fits[1].lsa_.components)
    np.testing.assert_array_equal(fits[0].predict_proba(texts), fits[1].predict_proba(texts))


def test_python_hash_seed_does_not_matter():
    """Hashed n-grams (CRC-32) and sorted vocabularies: no set or dict order of strings
    reaches the model, so an interpreter with another hash seed fits the same one."""
    script = textwrap.dedent(
        """
        import hashlib, sys, torch
        torch.set_num_threads(1)
        sys.path.insert(0, sys.argv[1])
        from tests.text.detect.test_reproducibility import _fit_proba
        for name in ("charcnn", "ssgan-lsa"):
            print(hashlib.sha256(_fit_proba(name).tobytes()).hexdigest())
        """
    )
    root = str(Path(__file__).resolve().parents[3])
    other = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"  # not this process's
    out = subprocess.run(
        [sys.executable, "-c", script, root],
        env={**os.environ, "PYTHONHASHSEED": other},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    here = [hashlib.sha256(_fit_proba(n).tobytes()).hexdigest() for n in ("charcnn", "ssgan-lsa")]
    assert out.stdout.split() == here
