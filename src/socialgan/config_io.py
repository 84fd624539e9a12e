"""Layered run configuration: defaults <- ``--config x.yaml`` <- ``--set a.b=v`` <- options.

Only the shape is checked here (known keys, sections stay sections); the values are checked
by the code that uses them, before any data is loaded.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from .errors import DataError


def deep_merge(base: dict[str, Any], override: dict[str, Any], where: str) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base``; unknown keys are an error naming ``where``."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if key not in out:
            raise DataError(f"{where}: unknown option {key!r}; known: {', '.join(sorted(out))}")
        section, given = isinstance(out[key], dict), isinstance(value, dict)
        if section and given:
            out[key] = deep_merge(out[key], value, f"{where}.{key}")
        elif section:
            first = next(iter(out[key]), "KEY")
            raise DataError(
                f"{where}: {key!r} is a section, not a value; set one of its options, "
                f"e.g. {key}.{first}=..."
            )
        elif given:
            raise DataError(f"{where}: {key!r} is a value, not a section of options")
        else:
            out[key] = value
    return out


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file, with errors that name it."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise DataError(f"{path}: not valid YAML ({e})") from e
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a mapping of sections at the top level")
    return data


def parse_set(items: list[str]) -> dict[str, Any]:
    """Turn ``["train.steps=500", "model.arch=seed"]`` into a nested dict (values as YAML)."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise DataError(f"--set {item!r}: expected KEY=VALUE, e.g. train.steps=500")
        key, raw = item.split("=", 1)
        parts = key.strip().split(".")
        if not all(parts):
            raise DataError(
                f"--set {item!r}: expected KEY=VALUE with a dotted KEY, e.g. train.steps"
            )
        try:
            value = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError:
            value = raw
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise DataError(f"--set {item!r}: {part!r} was already set to a value")
        node[parts[-1]] = value
    return out


def resolve(
    defaults: dict[str, Any],
    config_file: str | Path | None,
    sets: list[str] | None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Apply a YAML file, ``--set`` overrides and then command-line ``options`` (a nested
    dict of the values given as options) on top of ``defaults``."""
    cfg = defaults
    if config_file is not None:
        cfg = deep_merge(cfg, load_yaml(config_file), str(config_file))
    if sets:
        cfg = deep_merge(cfg, parse_set(sets), "--set")
    if options:
        cfg = deep_merge(cfg, options, "option")
    return cfg


def dump(cfg: dict[str, Any]) -> str:
    """YAML text of a resolved config (for ``--dry-run``)."""
    return yaml.safe_dump(cfg, sort_keys=False)
