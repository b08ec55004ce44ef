"""The scripts in ``benchmarks/``, imported as modules: a test calls their functions and ``main(argv)`` in-process,
and only the processes a benchmark times are started."""

import importlib
import os
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers.in_process import SOURCE_ENV
from tests.helpers.paths import REPO


def load_benchmark(name: str, monkeypatch: pytest.MonkeyPatch, source: Path | None = None) -> ModuleType:
    """``benchmarks/NAME.py`` as a module; the folder is on ``sys.path`` for the test, as it is for the script
    (``whole_job`` imports ``throughput``). With ``source``, the processes the benchmark starts import this
    checkout's litfashion and take FashionMNIST from ``source``."""
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    if source is not None:
        monkeypatch.setenv(SOURCE_ENV, str(source))
        monkeypatch.setenv("PYTHONPATH", str(REPO / "src"), prepend=os.pathsep)
    return importlib.import_module(name)
