"""Running ``litfashion`` as a separate process, for the tests where a process is what is tested."""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


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
