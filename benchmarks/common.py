"""Shared helpers for benchmark scripts: machine description, result files."""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """What ran the benchmark: CPU model, cores, threads, library versions, date and commit."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "commit": git_commit(),
    }


def git_commit() -> str:
    """The checked-out commit (short hash), ``+dirty`` when tracked files other than the
    results have changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            # the results files themselves do not make a run "dirty" (a merged run rewrites
            # the JSON it reads)
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":!benchmarks/results",
            ],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty else "")


def machine_line(m: dict[str, Any], *, threads: bool = False) -> str:
    """``Machine: <cpu>, <cores> cores, torch <version>.`` of a :func:`machine` record, for
    a report's protocol note; ``threads`` adds the torch thread count before the version."""
    torch_threads = f"{m['torch_threads']} torch threads, " if threads else ""
    return f"Machine: {m['cpu']}, {m['cores']} cores, {torch_threads}torch {m['torch']}."


def quick_note(quick: bool) -> str:
    """What a report's title says of a ``--quick`` run (nothing for a real one)."""
    return " (QUICK SMOKE RUN, not a measurement)" if quick else ""


def add_out_option(ap: argparse.ArgumentParser) -> None:
    """The ``--out DIR`` option of every benchmark (see :func:`output_dir`)."""
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the results JSON and plots (default benchmarks/results; with --quick "
        "a new temporary folder, so a smoke run never touches the committed results)",
    )


def output_dir(out: Path | None, quick: bool, name: str) -> Path:
    """The run's output folder, created: ``out`` when given, else a new temporary folder for a
    ``--quick`` run, else ``benchmarks/results``."""
    if out is None:
        out = Path(tempfile.mkdtemp(prefix=f"socialgan-{name}-quick-")) if quick else RESULTS
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_results(name: str, data: dict[str, Any], quick: bool, folder: Path = RESULTS) -> Path:
    """Save ``<folder>/<name>.json`` (``<name>.quick.json`` for --quick runs, so even a quick
    run pointed at ``benchmarks/results`` leaves the committed file alone)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}{'.quick' if quick else ''}.json"
    path.write_text(json.dumps({**data, "quick": quick}, indent=2) + "\n")
    return path


def matmul_peak_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Best-of-``repeats`` float32 GEMM throughput: this CPU's practical matmul peak."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def add_sections_option(ap: argparse.ArgumentParser, sections: Sequence[str]) -> None:
    """The ``--sections a,b`` option: which parts of a sectioned benchmark to run."""
    ap.add_argument(
        "--sections",
        default=",".join(sections),
        help="comma-separated sections to run (default all): "
        + ", ".join(sections)
        + ". A subset is merged into the existing results file.",
    )


def parse_sections(text: str, known: Sequence[str], ap: argparse.ArgumentParser) -> list[str]:
    """The sections named in ``text``, in the order of ``known``; an unknown one is an error."""
    chosen = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in known]
    if unknown or not chosen:
        ap.error(f"unknown or no section(s) {unknown}; choose from {', '.join(known)}")
    return [s for s in known if s in chosen]


def previous_results(name: str, quick: bool, folder: Path) -> dict[str, Any]:
    """The results file ``<folder>/<name>.json`` a run merges into (empty when none)."""
    path = folder / f"{name}{'.quick' if quick else ''}.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}


def run_sections(
    name: str,
    known: Sequence[str],
    sections: Sequence[str],
    runners: dict[str, Callable[[], Any]],
    quick: bool,
    folder: Path,
    stamp: dict[str, Any] | None = None,
    res: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """Run ``sections`` (each a ``runners`` entry) and merge them into the previous results
    when only some run: ``(results, stamps, merged)``. Each section is stamped with its date,
    git commit, minutes and ``stamp``; results come back in the order of ``known``. ``res``,
    when given, is filled in place as sections finish (a later section can read an earlier
    one's results)."""
    previous = previous_results(name, quick, folder)
    merge = len(sections) < len(known) and bool(previous)
    res = {} if res is None else res
    if merge:
        res.update(previous.get("results", {}))
    stamps: dict[str, Any] = dict(previous.get("sections", {})) if merge else {}
    commit = git_commit()
    for section in sections:
        print(section.replace("_", " "), flush=True)
        t0 = time.perf_counter()
        res[section] = runners[section]()
        stamps[section] = {
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "commit": commit,
            "minutes": (time.perf_counter() - t0) / 60,
            **(stamp or {}),
        }
    res = {k: res[k] for k in known if k in res}
    return res, {k: stamps[k] for k in res if k in stamps}, merge
