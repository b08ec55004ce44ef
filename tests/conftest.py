"""Shared fixtures: the tiny synthetic FashionMNIST, and running the CLI as a user does."""

from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.helpers.fashion_data import write_fashion_mnist
from tests.helpers.process import CliRunner, litfashion


@pytest.fixture(scope="session")
def tiny_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fashion_mnist(tmp_path_factory.mktemp("tiny_fashion_mnist"))


@pytest.fixture
def run_cli(tmp_path: Path, tiny_source: Path) -> CliRunner:
    """``litfashion`` in ``tmp_path`` with the tiny dataset as the local source (``source=`` overrides)."""

    def run(*args: str, source: Path | None = tiny_source, **kwargs) -> CompletedProcess:
        return litfashion(*args, cwd=tmp_path, source=source, **kwargs)

    return run
