"""The scripts in ``benchmarks/``, imported as modules: a test calls their functions and ``main(argv)`` in-process,
and only the processes a benchmark times are started."""

import importlib
from types import ModuleType

import pytest

from tests.helpers.paths import REPO


def load_benchmark(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``benchmarks/NAME.py`` as a module; the folder is on ``sys.path`` for the test, as it is for the script
    (``whole_job`` imports ``throughput``)."""
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    return importlib.import_module(name)
