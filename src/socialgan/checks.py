"""Checks of option values (type, range, known names) with messages that name the option.

Every check returns the value, normalised (``1`` for a float option becomes ``1.0``, the
string ``"2e-4"`` that YAML leaves unparsed becomes ``0.0002``), or raises
:class:`OptionError`, a :class:`~socialgan.errors.DataError` whose message reads
``"<option>: expected <what>, got <value>"``. A caller that knows the option under another
name (the CLI knows ``train.batch_size`` as ``--batch-size``) re-raises with
:meth:`OptionError.renamed`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .errors import DataError

__all__ = [
    "OptionError",
    "check_bool",
    "check_choice",
    "check_int",
    "check_number",
    "check_pair",
    "check_str",
]


class OptionError(DataError):
    """A bad option value: ``option`` names it, ``expected`` says what would be accepted."""

    def __init__(self, option: str, expected: str, got: Any) -> None:
        self.option, self.expected, self.got = option, expected, got
        super().__init__(f"{option}: expected {expected}, got {got!r}")

    def renamed(self, option: str) -> OptionError:
        """The same error under another name of the option."""
        return OptionError(option, self.expected, self.got)


def _bound_text(
    kind: str,
    minimum: float | None,
    maximum: float | None,
    open_min: bool = False,
    open_max: bool = False,
) -> str:
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if open_min else '>='} {minimum:g}")
    if maximum is not None:
        parts.append(f"{'<' if open_max else '<='} {maximum:g}")
    return f"{kind} {' and '.join(parts)}".strip()


def check_int(
    name: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    optional: bool = False,
) -> Any:
    """An integer in ``[minimum, maximum]`` (``None`` too when ``optional``); bools refused."""
    if value is None and optional:
        return None
    expected = _bound_text("an integer", minimum, maximum) + (" or null" * optional)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise OptionError(name, expected, value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise OptionError(name, expected, value)
    return int(value)


def check_number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    open_min: bool = False,
    open_max: bool = False,
    optional: bool = False,
) -> Any:
    """A finite float in the range (``open_min``/``open_max``: the bound itself excluded)."""
    if value is None and optional:
        return None
    expected = _bound_text("a number", minimum, maximum, open_min, open_max)
    expected += " or null" * optional
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise OptionError(name, expected, value) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise OptionError(name, expected, value)
    low = minimum is not None and (value <= minimum if open_min else value < minimum)
    high = maximum is not None and (value >= maximum if open_max else value > maximum)
    if low or high:
        raise OptionError(name, expected, value)
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    """``True`` or ``False`` (YAML's true/false/yes/no are already bools)."""
    if not isinstance(value, bool):
        raise OptionError(name, "true or false", value)
    return value


def check_str(name: str, value: Any, *, optional: bool = False, empty: bool = True) -> Any:
    """A string (non-empty unless ``empty``; ``None`` too when ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not empty and not value.strip()):
        what = "a string" if empty else "a non-empty string"
        raise OptionError(name, what + (" or null" * optional), value)
    return value


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """One of ``choices``."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise OptionError(name, "one of " + ", ".join(options), value)
    return value


def check_pair(
    name: str, value: Any, *, minimum: float, maximum: float, optional: bool = False
) -> Any:
    """Two numbers in ``[minimum, maximum)`` (Adam's betas), as a tuple."""
    if value is None and optional:
        return None
    expected = f"two numbers in [{minimum:g}, {maximum:g}), e.g. [0.5, 0.999]"
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise OptionError(name, expected, value)
    items = list(value)
    if len(items) != 2:
        raise OptionError(name, expected, value)
    out = []
    for item in items:
        try:
            out.append(check_number(name, item, minimum=minimum, maximum=maximum, open_max=True))
        except OptionError:
            raise OptionError(name, expected, value) from None
    return (out[0], out[1])
