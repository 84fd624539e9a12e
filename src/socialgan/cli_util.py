"""Shared CLI plumbing: turn user errors into one clear line and exit code 2."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from .errors import DataError, TrainingError

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(func: F) -> F:
    """Decorator: bad input prints ``error: ...`` on stderr and exits 2, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (DataError, FileNotFoundError, TrainingError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]
