"""Exceptions that carry a message a user can act on."""


class DataError(ValueError):
    """Bad user input: the message names the file (row, field) and what was expected."""


class TrainingError(RuntimeError):
    """Training cannot continue (for example repeated non-finite losses)."""
