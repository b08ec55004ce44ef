"""Tiny synthetic FashionMNIST IDX files, written as Debian ships the real ones."""

import gzip
import struct
from pathlib import Path

import numpy as np


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
