"""A real ``tensorboard`` server, started as a user would, lists a run's scalars."""

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from litfashion.cli import main
from tests.helpers.paths import CONFIGS

TUTORIAL = str(CONFIGS / "fashion_mnist.yaml")
QUICK = ("--data.data_dir", "data", "--trainer.log_every_n_steps", "1")
FIT_SCALARS = {"train/loss", "train/loss_epoch", "train/acc", "val/loss", "val/acc", "val/acc_best", "lr-SGD"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_tensorboard_server_lists_the_run_scalars(workdir: Path) -> None:
    main(["fit", "--config", TUTORIAL, *QUICK, "--trainer.max_epochs", "1"])  # the run itself need not be a process
    port = free_port()
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", "lightning_logs", "--host", "127.0.0.1"]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--load_fast", "false", "--reload_interval", "1"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/data/plugin/scalars/tags"
    runs: dict = {}
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    runs = json.load(response)
            except (urllib.error.URLError, ConnectionError):
                pass
            if set(runs.get("version_0", {})) >= FIT_SCALARS:
                break
            time.sleep(0.5)
    finally:
        server.terminate()
        try:
            _, stderr = server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            _, stderr = server.communicate()
    assert set(runs.get("version_0", {})) >= FIT_SCALARS, f"scalars served: {runs}\n{stderr[-2000:]}"
