"""Shared CLI plumbing: whatever goes wrong ends in one line on stderr and an exit code.

Exit codes: 2 for the user's errors (a bad option value, a bad or unwritable file, bad
data: :class:`~socialgan.errors.DataError`, :class:`~socialgan.errors.TrainingError`,
``OSError``; Typer's own usage errors keep their 2 as well), 1 for an internal error
(``internal error: ...``), 130 when interrupted. ``socialgan --debug ...`` or
``SOCIALGAN_DEBUG=1`` shows the traceback instead. :class:`GuardedGroup`, the class of the
root command group, applies this to every sub-app.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from typer.core import TyperGroup

from .errors import DataError, TrainingError

F = TypeVar("F", bound=Callable[..., Any])

DEBUG_ENV = "SOCIALGAN_DEBUG"
#: Exceptions that mean the user's input was wrong (exit code 2).
USER_ERRORS: tuple[type[BaseException], ...] = (DataError, TrainingError, OSError)


def debug_enabled(params: dict[str, Any] | None = None) -> bool:
    """``--debug`` among the root command's ``params``, or ``SOCIALGAN_DEBUG`` set to 1/true."""
    if os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    return bool((params or {}).get("debug"))


def one_line(error: BaseException) -> str:
    """The message of ``error`` on one line (its type name when it has none)."""
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    return text or type(error).__name__


def exit_for(error: BaseException) -> NoReturn:
    """Print the one line that ``error`` deserves on stderr and exit with its code."""
    if isinstance(error, BrokenPipeError):  # e.g. `socialgan ... | head`: nothing to say
        raise typer.Exit(141)
    if isinstance(error, KeyboardInterrupt):
        message, code = "interrupted", 130
    elif isinstance(error, USER_ERRORS):
        message, code = f"error: {one_line(error)}", 2
    else:
        message, code = (
            (
                f"internal error: {type(error).__name__}: {one_line(error)}; rerun with --debug "
                f"for the traceback (socialgan --debug ..., or {DEBUG_ENV}=1)"
            ),
            1,
        )
    print(message, file=sys.stderr)
    raise typer.Exit(code)


class GuardedGroup(TyperGroup):
    """A command group from which no traceback escapes, unless ``--debug`` asks for it."""

    def invoke(self, ctx: Any) -> Any:  # a click Context (vendored by Typer)
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # Typer's own: exit codes, usage errors (2), aborts
        except (Exception, KeyboardInterrupt) as error:
            if debug_enabled(ctx.params) and not isinstance(error, KeyboardInterrupt):
                raise
            exit_for(error)


def user_errors(func: F) -> F:
    """Decorator for a command whose ``ValueError`` means a bad value from the user.

    The error is re-raised as a :class:`~socialgan.errors.DataError` (exit code 2 at the
    root group, one line, no traceback) instead of counting as an internal error.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DataError:
            raise
        except ValueError as e:
            raise DataError(one_line(e)) from e

    return wrapper  # type: ignore[return-value]


def ensure_writable_dir(path: Path, option: str) -> Path:
    """Create folder ``path`` if needed and check that files can be written in it.

    Called before loading data or training, so that an unwritable ``--out`` fails at once
    rather than after the work. Raises :class:`~socialgan.errors.DataError` naming ``option``.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise DataError(f"{option} {path}: cannot write there ({e.strerror or e})") from None
    return path
