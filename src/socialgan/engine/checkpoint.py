"""Atomic checkpoints: tensors in safetensors, everything else in JSON. Never pickle.

A checkpoint is a directory ``step-0000500/`` holding ``tensors.safetensors`` and
``state.json``. It is first written to a hidden temporary directory, every file is
fsynced, then the directory is renamed into place and its parent fsynced: a reader (or a
resumed run after ``kill -9``) sees either the whole checkpoint or none of it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import Tensor

TENSORS_FILE = "tensors.safetensors"
STATE_FILE = "state.json"
_STEP_RE = re.compile(r"^step-(\d+)$")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file, fsync and rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def save_tensors(tensors: dict[str, Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """Serialize tensors to safetensors bytes (copied to CPU, contiguous, unshared)."""
    clean = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    return st_save(clean, metadata=metadata)


def write_checkpoint(
    directory: str | Path, name: str, tensors: dict[str, Tensor], state: dict[str, Any]
) -> Path:
    """Atomically create ``directory/name/`` holding ``tensors`` and ``state``.

    Refuses to write a non-finite floating-point tensor: a poisoned checkpoint would be
    worse than none.
    """
    for key, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise ValueError(f"refusing to checkpoint non-finite tensor {key!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / name
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=directory))
    try:
        for fname, data in (
            (TENSORS_FILE, save_tensors(tensors)),
            (STATE_FILE, (json.dumps(state, indent=2, sort_keys=True) + "\n").encode()),
        ):
            with open(tmp / fname, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        _fsync_dir(tmp)
        if final.exists():  # re-saving the same step: swap out the old one
            old = directory / f".old-{name}"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(directory)
    return final


def read_checkpoint(path: str | Path) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Read a checkpoint directory written by :func:`write_checkpoint`."""
    path = Path(path)
    tfile, sfile = path / TENSORS_FILE, path / STATE_FILE
    if not tfile.is_file() or not sfile.is_file():
        raise FileNotFoundError(f"{path}: not a checkpoint (needs {TENSORS_FILE} and {STATE_FILE})")
    tensors = st_load(tfile.read_bytes())
    state = json.loads(sfile.read_text())
    return tensors, state


def list_checkpoints(directory: str | Path) -> list[tuple[int, Path]]:
    """Complete checkpoints in ``directory`` as ``(step, path)``, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for p in directory.iterdir():
        m = _STEP_RE.match(p.name)
        if m and (p / STATE_FILE).is_file() and (p / TENSORS_FILE).is_file():
            found.append((int(m.group(1)), p))
    return sorted(found)


def latest_checkpoint(directory: str | Path) -> Path | None:
    """The newest complete checkpoint in ``directory``, or None."""
    ckpts = list_checkpoints(directory)
    return ckpts[-1][1] if ckpts else None


def prune_checkpoints(directory: str | Path, keep_last: int, protect: set[str]) -> None:
    """Delete all but the newest ``keep_last`` checkpoints, sparing names in ``protect``."""
    directory = Path(directory)
    ckpts = list_checkpoints(directory)
    doomed = ckpts[:-keep_last] if keep_last > 0 else ckpts
    for _, p in doomed:
        if p.name not in protect:
            shutil.rmtree(p, ignore_errors=True)
    for p in directory.glob(".tmp-*"):  # leftovers of a run killed mid-write
        shutil.rmtree(p, ignore_errors=True)


def optimizer_to_flat(
    opt: torch.optim.Optimizer, prefix: str
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Split an optimizer state dict into tensors (for safetensors) and JSON-able rest."""
    sd = opt.state_dict()
    tensors: dict[str, Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, pstate in sd["state"].items():
        for key, val in pstate.items():
            if isinstance(val, Tensor):
                tensors[f"{prefix}.{pid}.{key}"] = val
            else:
                scalars.setdefault(str(pid), {})[key] = val
    meta = {"param_groups": sd["param_groups"], "scalars": scalars}
    return tensors, meta


def optimizer_from_flat(
    opt: torch.optim.Optimizer, prefix: str, tensors: dict[str, Tensor], meta: dict[str, Any]
) -> None:
    """Inverse of :func:`optimizer_to_flat`: load the state into ``opt``."""
    state: dict[int, dict[str, Any]] = {}
    head = prefix + "."
    for name, val in tensors.items():
        if name.startswith(head):
            pid, key = name[len(head) :].split(".", 1)
            state.setdefault(int(pid), {})[key] = val
    for pid, vals in meta.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(vals)
    groups = meta["param_groups"]
    for g in groups:
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
    opt.load_state_dict({"state": state, "param_groups": groups})
    # Saved tensors are contiguous; give each moment its parameter's memory layout again
    # (channels_last conv weights): fused Adam pairs elements by memory position.
    for group in opt.param_groups:
        for param in group["params"]:
            for key, val in opt.state.get(param, {}).items():
                if (
                    isinstance(val, Tensor)
                    and val.shape == param.shape
                    and val.stride() != param.stride()
                ):
                    opt.state[param][key] = torch.empty_like(param).copy_(val)


#: Training settings a resumed run may change (where it runs and what it logs).
RESUMABLE_TRAIN_KEYS = frozenset({"device", "log_every", "checkpoint_every", "keep_last"})


def check_resumable(
    run: Path, model_config: dict[str, Any], train: dict[str, Any], *, config_name: str
) -> None:
    """Raise ``DataError`` when the newest checkpoint of ``run/checkpoints`` was written by
    a :class:`~socialgan.engine.Trainer` with other model settings (``model_config``, the
    device aside) or another game (``train``, a ``TrainConfig.to_dict()``: loss, steps,
    learning rates...), naming each difference; ``config_name`` is the run's settings file
    the message points to. Nothing to check without a checkpoint."""
    from socialgan.errors import DataError

    path = latest_checkpoint(run / "checkpoints")
    if path is None:
        return
    try:
        state = json.loads((path / STATE_FILE).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise DataError(f"{path}: unreadable checkpoint ({e})") from None
    as_saved = lambda value: json.loads(json.dumps(value))  # noqa: E731  (tuples -> lists)
    diffs = []
    for saved, now, free in (
        (state.get("model_config") or {}, as_saved(model_config), {"device"}),
        (state.get("config") or {}, as_saved(train), RESUMABLE_TRAIN_KEYS),
    ):
        diffs += [
            f"{k}: {saved.get(k)!r} -> {now.get(k)!r}"
            for k in sorted(set(saved) | set(now))
            if k not in free and saved.get(k) != now.get(k)
        ]
    if diffs:
        raise DataError(
            f"{path}: the run was started with other settings ({', '.join(diffs)}); resume "
            f"with the settings of {run / config_name}"
        )
