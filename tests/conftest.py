"""Shared fixtures: tiny synthetic FashionMNIST IDX files, and running the CLI as a user does."""

import gzip
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"


def synthetic_images(labels: np.ndarray, seed: int) -> np.ndarray:
    """28x28 uint8 images whose bright band's row depends on the class: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 40, size=(len(labels), 28, 28), dtype=np.uint8)
    for i, label in enumerate(labels):
        row = 2 + int(label) * 2
        images[i, row : row + 2, 4:24] = 250
    return images


def write_idx(path: Path, array: np.ndarray) -> None:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def write_fashion_mnist(folder: Path, n_train: int = 512, n_test: int = 128, seed: int = 0) -> Path:
    """The four ``*-ubyte.gz`` files, as Debian ships them, with synthetic content."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", synthetic_images(labels, seed + n))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return folder


@pytest.fixture(scope="session")
def tiny_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fashion_mnist(tmp_path_factory.mktemp("tiny_fashion_mnist"))


def litfashion(
    *args: str, cwd: Path, source: Path | None, check: bool = True, timeout: int = 300
) -> subprocess.CompletedProcess:
    """Run ``python -m litfashion ARGS`` in ``cwd``, taking FashionMNIST from ``source`` (its .gz files)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("LITFASHION_FASHION_MNIST_DIR", None)
    if source is not None:
        env["LITFASHION_FASHION_MNIST_DIR"] = str(source)
    proc = subprocess.run(
        [sys.executable, "-m", "litfashion", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"litfashion {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc


CliRunner = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def run_cli(tmp_path: Path, tiny_source: Path) -> CliRunner:
    """``litfashion`` in ``tmp_path`` with the tiny dataset as the local source (``source=`` overrides)."""

    def run(*args: str, source: Path | None = tiny_source, **kwargs) -> subprocess.CompletedProcess:
        return litfashion(*args, cwd=tmp_path, source=source, **kwargs)

    return run
