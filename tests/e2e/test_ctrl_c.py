"""Ctrl-C: SIGINT to a training process writes a checkpoint and exits without a traceback."""

import signal
import time
from pathlib import Path

import pytest
import torch

from tests.helpers.commands import tutorial_on_cpu
from tests.helpers.forked import start

FIT = tutorial_on_cpu("fit")


@pytest.mark.slow
def test_ctrl_c_writes_a_checkpoint_and_exits(tmp_path: Path, tiny_source: Path) -> None:
    checkpoints = tmp_path / "lightning_logs/version_0/checkpoints"
    proc = start(*FIT, "--trainer.max_epochs", "100000", cwd=tmp_path, source=tiny_source)
    try:
        deadline = time.monotonic() + 120
        while not (checkpoints / "last.ckpt").exists():  # training has started
            assert proc.poll() is None and time.monotonic() < deadline, "training did not start"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=120)  # generous: the shutdown is slow on a loaded machine
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, output  # Lightning's status after a graceful KeyboardInterrupt shutdown
    assert "Traceback" not in output
    interrupted = checkpoints / "interrupted.ckpt"
    assert f"checkpoint written to {interrupted.relative_to(tmp_path)}" in output
    ckpt = torch.load(interrupted, weights_only=True)
    assert ckpt["global_step"] >= torch.load(checkpoints / "last.ckpt", weights_only=True)["global_step"] > 0
