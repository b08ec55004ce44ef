"""Errors that the CLI reports as one clear line instead of a traceback."""

from typing import TypeVar

E = TypeVar("E", bound=BaseException)


def in_chain(err: BaseException, kind: type[E]) -> E | None:
    """The first ``kind`` among ``err`` and the errors it was raised from or while handling: libraries wrap
    (jsonargparse around a class's own error, torch's zip writer around a failed write)."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class LitFashionError(Exception):
    """Bad input found before any work starts: config, data, images or checkpoints."""


class DataNotFoundError(LitFashionError):
    """The dataset is neither on disk nor downloadable."""


class CheckpointError(LitFashionError):
    """A checkpoint is missing, unsafe, or belongs to another model."""


class ConfigError(LitFashionError, ValueError):
    """A config value out of its range, found when the class is built."""


class ImageDataError(LitFashionError):
    """An annotations CSV or an image that cannot be used: missing, malformed, outside its root, unknown label."""


class WriteError(LitFashionError):
    """A file could not be written (full disk, I/O error, no permission); the old file, if any, is intact."""
