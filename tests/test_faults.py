"""Faults: a NaN loss, an unwritable log directory, and Ctrl-C."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from tests.helpers.paths import CONFIGS
from tests.helpers.process import CliRunner

FIT = [
    "fit",
    "--config", str(CONFIGS / "fashion_mnist.yaml"),
    "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
    "--trainer.enable_progress_bar", "false",
]  # fmt: skip


def test_nan_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(run_cli: CliRunner, tmp_path: Path) -> None:
    # With this learning rate the tiny data's loss overflows at step 7 (measured);
    # validating every 2 steps checkpoints steps 2, 4 and 6: the last good checkpoint is step 6's.
    proc = run_cli(
        *FIT,
        "--model.init_args.optimizer.init_args.lr", "30",
        "--trainer.val_check_interval", "2",
        check=False,
    )  # fmt: skip
    last = Path("lightning_logs/version_0/checkpoints/last.ckpt")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        f"litfashion: error: training stopped: the loss became NaN or infinite at step 7 (epoch 0); "
        f"the last good checkpoint is {last}. Lower the learning rate or check the data."
    )
    ckpt = torch.load(tmp_path / last, weights_only=True)
    assert ckpt["global_step"] == 6
    assert all(torch.isfinite(t).all() for t in ckpt["state_dict"].values())
    assert not (tmp_path / last.parent / "interrupted.ckpt").exists()


def test_unwritable_log_dir_fails_before_training(run_cli: CliRunner, tmp_path: Path) -> None:
    # A file in the way: unwritable even for root, which ignores permission bits.
    (tmp_path / "blocker").write_text("not a directory")
    proc = run_cli(*FIT, "--trainer.logger.init_args.save_dir", "blocker/logs", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        f"litfashion: error: trainer.logger (TensorBoardLogger) save_dir: cannot create {tmp_path / 'blocker/logs'}: "
        f"{tmp_path / 'blocker'} is a file, not a directory"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]  # no data unpacked, nothing trained


def test_ctrl_c_writes_a_checkpoint_and_exits(tmp_path: Path, tiny_source: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "LITFASHION_FASHION_MNIST_DIR": str(tiny_source)}
    checkpoints = tmp_path / "lightning_logs/version_0/checkpoints"
    proc = subprocess.Popen(
        [sys.executable, "-m", "litfashion", *FIT, "--trainer.max_epochs", "100000"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (checkpoints / "last.ckpt").exists():  # training has started
            assert proc.poll() is None and time.monotonic() < deadline, "training did not start"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, output  # Lightning's status after a graceful KeyboardInterrupt shutdown
    assert "Traceback" not in output
    interrupted = checkpoints / "interrupted.ckpt"
    assert f"checkpoint written to {interrupted.relative_to(tmp_path)}" in output
    ckpt = torch.load(interrupted, weights_only=True)
    assert ckpt["global_step"] >= torch.load(checkpoints / "last.ckpt", weights_only=True)["global_step"] > 0
