"""User-facing errors.

`MemrestoreError` marks an *expected* mistake (bad path, bad config, unreadable image). The CLI prints
its message as one line and exits non-zero instead of showing a traceback; anything else is a bug and
keeps its traceback.
"""


class MemrestoreError(Exception):
    """An expected, user-caused problem; the message must name the file or key involved."""


class ConfigError(MemrestoreError):
    """A configuration file or override is invalid (unknown key, wrong type, bad value)."""


class ImageReadError(MemrestoreError):
    """An image file is missing, empty, truncated or not an image."""


class CheckpointError(MemrestoreError):
    """A checkpoint is missing, unsafe or does not match the architecture."""


class Interrupted(MemrestoreError):
    """A run was stopped by Ctrl-C after saving what it had (exit status 130)."""


class OutputWriteError(MemrestoreError):
    """An output file cannot be written (disk full, read-only folder, a folder in the way, or it
    appeared meanwhile and is not replaced)."""


class NonFiniteOutputError(MemrestoreError):
    """A model produced NaN or infinite values; nothing is written from them."""


class OutputExistsError(OutputWriteError):
    """An output file exists (possibly created by another process after the check) and is kept."""
