"""User-facing errors: each carries a message that names the place (file:line, config key) and the fix.

The CLI prints these without a traceback and exits non-zero; anything else is a bug and keeps its
traceback.
"""


class AraclaimError(Exception):
    """A user mistake or a missing resource, explained in the message."""


class DataError(AraclaimError):
    """A data file is malformed; the message starts with ``file:line``."""


class ConfigError(AraclaimError):
    """A config is invalid; the message names the key, the file and the fix."""


class ModelLoadError(AraclaimError):
    """A model could not be found or loaded; the message says how to supply it."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (at most 300 characters), for one-line error messages."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
