"""Same seed, same data, same thread count: the same model, whatever ran before.

:func:`reproducible` is the block a detector trains in. Inside it every random generator
a fit could touch starts from the seed (torch on the CPU and on the training device, NumPy's
and Python's global generators, for library code that uses them), torch picks
deterministic kernels, and NumPy/SciPy's BLAS uses as many threads as torch does. On
leaving, the caller's generator states and settings come back, so a fit neither depends
on nor changes what the process did before (another fit, a test that drew numbers).

Why the BLAS cap: ``torch.set_num_threads`` (the benchmarks' ``--threads``) does not reach
OpenBLAS, which starts one thread per core; its sums then depend on the machine's core
count, and a truncated SVD (the SSGAN detector's LSA encoder) changes in the last bits,
enough for a GAN trained on it to end 1 point of LIAR accuracy apart.

What stays outside any seed: a different thread count or CPU instruction set (AVX2 vs
AVX-512 kernels) still changes floating-point sums; compare figures at the same
``--threads`` on the same kind of machine.

Example:
    >>> import torch
    >>> from socialgan.reproducibility import reproducible
    >>> with reproducible(0):
    ...     a = torch.rand(2)
    >>> with reproducible(0):
    ...     b = torch.rand(2)
    >>> bool((a == b).all())
    True
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

import numpy as np
import torch
from threadpoolctl import threadpool_limits

__all__ = ["reproducible"]


def _cuda_devices(device: torch.device | str | None) -> list[int]:
    """Indices of the CUDA devices whose generator :func:`reproducible` must fork."""
    if device is None:
        return []
    dev = torch.device(device)
    if dev.type != "cuda" or not torch.cuda.is_available():
        return []
    return [dev.index if dev.index is not None else torch.cuda.current_device()]


@contextlib.contextmanager
def _deterministic_kernels() -> Iterator[None]:
    """``torch.use_deterministic_algorithms(True, warn_only=True)`` inside the block (free
    on the CPU: the detectors' kernels give the same bits either way; on CUDA it replaces
    the atomic-add backward of embeddings), the caller's setting after."""
    was_on = torch.are_deterministic_algorithms_enabled()
    was_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was_on, warn_only=was_warn_only)


@contextlib.contextmanager
def reproducible(seed: int, device: torch.device | str | None = None) -> Iterator[None]:
    """Run the block seeded and deterministic, restoring the caller's state afterwards.

    Args:
        seed: seeds torch (CPU and ``device``), ``numpy.random`` and ``random``.
        device: the training device; a CUDA device's generator is forked and seeded too.
    """
    cuda = _cuda_devices(device)
    py_state = random.getstate()
    np_state = np.random.get_state()
    try:
        with (
            torch.random.fork_rng(devices=cuda),
            _deterministic_kernels(),
            threadpool_limits(limits=torch.get_num_threads(), user_api="blas"),
        ):
            # not torch.manual_seed: it would also reseed CUDA devices that are not forked
            torch.random.default_generator.manual_seed(seed)
            for index in cuda:
                with torch.cuda.device(index):
                    torch.cuda.manual_seed(seed)
            random.seed(seed)
            np.random.seed(seed % 2**32)
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
