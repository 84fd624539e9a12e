"""The CI rule of ``tests/conftest.py``: outside CI a missing data set skips; under CI every
skip (the ``shared_data`` fixture's, ``pytest.skip``, ``importorskip``) fails the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from socialgan.datapaths import DATA_ENV

from .conftest import CI_ENV, missing, running_in_ci

REPO_ROOT = Path(__file__).resolve().parent.parent

_SUITE = """
import pytest

def test_skips():
    pytest.skip("no data here")

def test_needs_a_module():
    pytest.importorskip("socialgan_no_such_module")

@pytest.mark.xfail(reason="known bug", strict=True)
def test_expected_failure():
    assert False

def test_passes():
    assert True
"""


def _run_suite(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    """Run a tiny suite that uses this repository's conftest hooks, with ``$CI`` = ``ci``."""
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_make_collect_report, pytest_runtest_makereport\n"
        "__all__ = ['pytest_make_collect_report', 'pytest_runtest_makereport']\n"
    )
    (tmp_path / "test_suite.py").write_text(_SUITE)
    (tmp_path / "test_module_skip.py").write_text(
        'import pytest\npytest.importorskip("socialgan_no_such_module")\n'
    )
    env = {k: v for k, v in os.environ.items() if k != CI_ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
    if ci is not None:
        env[CI_ENV] = ci
    cmd = [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider"]
    cmd += ["--continue-on-collection-errors", str(tmp_path)]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_skips_stay_skips_outside_ci(tmp_path):
    res = _run_suite(tmp_path, ci="false")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 passed, 3 skipped, 1 xfailed" in res.stdout


def test_every_skip_fails_under_ci(tmp_path):
    res = _run_suite(tmp_path, ci="true")
    assert res.returncode == 1, res.stdout + res.stderr
    out = res.stdout
    assert "2 failed, 1 passed, 1 xfailed, 1 error" in out
    assert "skipped under CI=true (CI must run it)" in out and "no data here" in out
    assert "socialgan_no_such_module" in out


@pytest.mark.parametrize(("value", "ci"), [("true", True), ("1", True), ("", False), ("0", False)])
def test_missing_data_skips_or_fails(monkeypatch, value, ci):
    monkeypatch.setenv(CI_ENV, value)
    assert running_in_ci() is ci
    with pytest.raises(pytest.fail.Exception if ci else pytest.skip.Exception, match="no data"):
        missing("no data")


def test_shared_data_fixture_fails_under_ci_when_the_data_is_absent(tmp_path):
    (tmp_path / "conftest.py").write_text("from tests.conftest import shared_data  # noqa: F401\n")
    (tmp_path / "test_data.py").write_text("def test_uses(shared_data):\n    pass\n")
    env = {k: v for k, v in os.environ.items() if k != CI_ENV}
    env.update(PYTHONPATH=str(REPO_ROOT), **{DATA_ENV: str(tmp_path / "nowhere")})
    # hide every shared/data folder the search could find: point it at an empty tree
    code = (
        "import sys, pytest, socialgan.datapaths as d\n"
        "d.data_candidates = lambda relative='': []\n"
        "sys.exit(pytest.main(['-q', '-rA', '-p', 'no:cacheprovider', sys.argv[1]]))\n"
    )
    for ci, rc, expected in (("", 0, "1 skipped"), ("true", 1, "1 error")):
        run_env = {**env, CI_ENV: ci}
        res = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path)],
            cwd=tmp_path,
            env=run_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert res.returncode == rc, res.stdout + res.stderr
        assert expected in res.stdout and "shared data not found" in res.stdout
