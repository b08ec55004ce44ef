"""Paths that a config file names are read against that file's folder; paths on the command line against the
working directory. jsonargparse resolves its path types that way; the parsed config then holds absolute paths, so
each run's saved ``config.yaml`` re-runs from anywhere."""

import os
from typing import Any, Union

from jsonargparse import Namespace
from jsonargparse.typing import path_type

# Mode "u" checks nothing on disk (the data modules check their files with their own errors, before any work).
# A plain string too: the parsed config holds the absolute path as one, which the classes are then built from.
ConfigPath = Union[path_type("u", docstring="a path: in a config file, relative to the file's folder"), str]  # noqa: UP007


def absolute_paths(config: Any) -> Any:
    """``config`` with every parsed path replaced by its absolute string, in place for namespaces and lists."""
    if isinstance(config, Namespace):
        for key, value in vars(config).items():
            setattr(config, key, absolute_paths(value))
        return config
    if isinstance(config, list):
        config[:] = [absolute_paths(item) for item in config]
        return config
    if isinstance(config, dict):
        return {key: absolute_paths(value) for key, value in config.items()}
    return (
        os.fspath(config) if type(config).__name__.startswith("Path_") and isinstance(config, os.PathLike) else config
    )
