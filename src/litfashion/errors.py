"""Errors that the CLI reports as one clear line instead of a traceback."""


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
