"""The CNN under DDP on 2 CPU processes: trains, exits, and its logged accuracy is what one process measures
from the checkpoint (BatchNorm buffers broadcast from rank zero, metrics synced over both shards)."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from litfashion.cli import make_cli
from tests.helpers.paths import CONFIGS

pytestmark = pytest.mark.slow

TIMEOUT_S = 300
CNN = '{"class_path": "litfashion.models.CNN", "init_args": {"channels": [4, 8]}}'
COMMON = [
    "--config", str(CONFIGS / "fashion_mnist.yaml"),
    "--trainer.enable_progress_bar", "false",
    "--data.init_args.eval_batch_size", "32",  # 128 test images: 2 even shards, none padded
    "--model.init_args.net", CNN,
]  # fmt: skip


def test_cnn_trains_under_ddp(tmp_path: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fit = ["fit", *COMMON, "--config", str(CONFIGS / "trainer" / "ddp_cpu.yaml"), "--trainer.max_epochs", "1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "LITFASHION_FASHION_MNIST_DIR": str(tiny_source)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "litfashion", *fit],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # rank 1 is rank 0's child: a hang kills the whole group
    )
    try:
        output, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"DDP run did not finish within {TIMEOUT_S} s")
    assert proc.returncode == 0, output[-4000:]
    run = tmp_path / "lightning_logs" / "version_0"
    last = run / "checkpoints" / "last.ckpt"
    ckpt = torch.load(last, weights_only=True)
    assert ckpt["global_step"] == 512 // (2 * 64)  # one epoch of 256 samples a rank, batch 64
    assert ckpt["state_dict"]["net.features.1.num_batches_tracked"] == 4
    assert len(list(run.glob("events.out.tfevents*"))) == 1
    events = EventAccumulator(str(run))
    events.Reload()
    logged = events.Scalars("val/acc")[-1].value

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LITFASHION_FASHION_MNIST_DIR", str(tiny_source))
    args = ["validate", *COMMON, "--config", str(CONFIGS / "trainer" / "cpu.yaml"), "--ckpt_path", str(last)]
    single = make_cli(args).trainer.callback_metrics["val/acc"]
    assert single.item() == pytest.approx(logged, abs=1e-6)
