"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to the shared real-data folder (``../shared/data`` or ``/work/shared/data``).

    Tests that use it are skipped when neither exists; the data is never copied into the repo.
    """
    for candidate in (REPO_ROOT.parent / "shared" / "data", Path("/work/shared/data")):
        if candidate.is_dir():
            return candidate
    pytest.skip(
        f"shared data not found at {REPO_ROOT.parent / 'shared' / 'data'} or /work/shared/data"
    )
