"""Running ``litfashion`` as a separate process, for the tests where a process is what is tested."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.helpers.paths import REPO


def with_repo_importable(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the repository root first on ``PYTHONPATH``.

    A process started in a temporary folder does not have the repository on ``sys.path``, so it could not import
    the test-only callbacks a config names (``tests.helpers.sigkill.SigkillAtStep``); DDP's other ranks inherit it.
    """
    return {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))}


def litfashion(
    *args: str, cwd: Path, source: Path | None, check: bool = True, timeout: int = 300
) -> subprocess.CompletedProcess:
    """Run ``python -m litfashion ARGS`` in ``cwd``, taking FashionMNIST from ``source`` (its .gz files)."""
    env = with_repo_importable({**os.environ, "PYTHONUNBUFFERED": "1"})
    env.pop("LITFASHION_FASHION_MNIST_DIR", None)
    if source is not None:
        env["LITFASHION_FASHION_MNIST_DIR"] = str(source)
    proc = subprocess.run(
        [sys.executable, "-m", "litfashion", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"litfashion {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc


def start(*args: str, cwd: Path, source: Path, **popen: Any) -> subprocess.Popen:
    """``python -m litfashion ARGS`` started in ``cwd`` on the FashionMNIST files in ``source``, its output piped
    (stderr into stdout), for the tests that signal or wait on the process."""
    env = with_repo_importable({**os.environ, "PYTHONUNBUFFERED": "1", "LITFASHION_FASHION_MNIST_DIR": str(source)})
    command = [sys.executable, "-m", "litfashion", *args]
    return subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen
    )
