"""Shared fixtures: the tiny synthetic FashionMNIST, and running the CLI in a folder, in-process."""

import os
from pathlib import Path

import pytest

from tests.helpers.fashion_data import write_fashion_mnist
from tests.helpers.in_process import in_folder

# One thread per process, set before anything imports torch, inherited by the processes tests start: the tests'
# models are tiny, where a second thread only adds hand-off costs, and the two cores are shared with those processes.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def tiny_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fashion_mnist(tmp_path_factory.mktemp("tiny_fashion_mnist"))


@pytest.fixture
def workdir(tmp_path: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` as the current folder with the tiny dataset as the source: ``main([...])`` runs there."""
    return in_folder(monkeypatch, tmp_path, tiny_source)
