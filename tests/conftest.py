"""Shared pytest fixtures, and the CI rule that nothing may skip.

Outside CI a test whose real data (``shared/data``) or optional dependency is absent skips
with its reason, so the suite still runs anywhere. Under CI (``$CI`` set, as ``.ci/run``
does) the data and every dependency are present, so a skip would hide a test that did not
run: every skip, from ``pytest.skip``, ``importorskip`` or a skip mark, fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
import torch

from socialgan.datapaths import find_shared_data
from socialgan.errors import DataError

#: The environment variable that CI services (and ``.ci/run``) set to ``true``.
CI_ENV = "CI"


def running_in_ci() -> bool:
    """``$CI`` is set to something other than empty, ``0``, ``false`` or ``no``."""
    return os.environ.get(CI_ENV, "").strip().lower() not in ("", "0", "false", "no")


def missing(reason: str) -> NoReturn:
    """Skip the test because something it needs is absent; under CI, fail with ``reason``."""
    if running_in_ci():
        pytest.fail(f"{reason} ({CI_ENV} is set: CI must have it)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real-data folder, found by :func:`socialgan.datapaths.find_shared_data`
    (``$SOCIALGAN_DATA`` or ``shared/data`` above the working directory or the source).

    Tests that use it skip when it is absent, and fail under CI; the data is never copied
    into the repository.
    """
    try:
        return find_shared_data()
    except DataError as exc:
        missing(str(exc))


def skip_to_failure(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Under CI, turn a skipped ``report`` (not an expected failure) into a failure that
    says what was skipped and why."""
    if not running_in_ci() or not report.skipped or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    report.outcome = "failed"
    report.longrepr = f"skipped under {CI_ENV}={os.environ[CI_ENV]} (CI must run it): {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    skip_to_failure(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> pytest.CollectReport:
    report: pytest.CollectReport = yield
    skip_to_failure(report)
    return report


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread during the test (the caller's setting restored after)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
