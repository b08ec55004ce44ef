"""The scripts in ``benchmarks/``, imported as the package they are: a test calls their functions and
``main(argv)`` in-process, and only the processes a benchmark times are started."""

import importlib
import os
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers.in_process import SOURCE_ENV
from tests.helpers.paths import REPO


def load_benchmark(name: str, monkeypatch: pytest.MonkeyPatch, source: Path | None = None) -> ModuleType:
    """``benchmarks.NAME``. With ``source``, the benchmark takes FashionMNIST from ``source`` and the processes it
    starts import this checkout's litfashion (the benchmark puts the repository root on their path itself)."""
    if source is not None:
        monkeypatch.setenv(SOURCE_ENV, str(source))
        monkeypatch.setenv("PYTHONPATH", str(REPO / "src"), prepend=os.pathsep)
    return importlib.import_module(f"benchmarks.{name}")
