"""Exact resume with the CNN: BatchNorm's running statistics and dropout's random state come back too, so a run
SIGKILLed mid-training and resumed with ``--ckpt_path last`` ends as an uninterrupted one, bit for bit."""

import signal
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.helpers.paths import CONFIGS
from tests.helpers.process import CliRunner

pytestmark = pytest.mark.slow

# 512 samples / batch 64 = 8 steps an epoch; the kill lands in epoch 1, after epoch 0's last.ckpt.
KILL_AT_STEP = 11
CNN = '{"class_path": "litfashion.models.CNN", "init_args": {"channels": [4, 8], "dropout": 0.2}}'
ARGS = [
    "fit",
    "--config", str(CONFIGS / "fashion_mnist.yaml"),
    "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
    "--trainer.max_epochs", "2",
    "--trainer.deterministic", "true",
    "--trainer.log_every_n_steps", "2",
    "--trainer.enable_progress_bar", "false",
    "--data.init_args.shuffle", "true",
    "--model.init_args.net", CNN,
    "--model.init_args.optimizer.init_args.lr", "0.05",
    "--model.init_args.optimizer.init_args.momentum", "0.9",
]  # fmt: skip


def scalars(run_dir: Path) -> dict[str, dict[int, float]]:
    events = EventAccumulator(str(run_dir))
    events.Reload()
    return {tag: {e.step: e.value for e in events.Scalars(tag)} for tag in events.Tags()["scalars"]}


def test_sigkilled_cnn_run_resumes_bit_for_bit(
    run_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_cli(*ARGS, "--trainer.logger.init_args.save_dir", "straight")

    killed = run_cli(
        *ARGS,
        "--trainer.logger.init_args.save_dir", "resumed",
        "--trainer.callbacks+", "tests.helpers.sigkill.SigkillAtStep",
        "--trainer.callbacks.step", str(KILL_AT_STEP),
        check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    run_dir = tmp_path / "resumed" / "lightning_logs" / "version_0"
    run_cli(*ARGS, "--trainer.logger.init_args.save_dir", "resumed", "--ckpt_path", "last")

    straight = torch.load(tmp_path / "straight/lightning_logs/version_0/checkpoints/last.ckpt", weights_only=True)
    again = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert again["global_step"] == straight["global_step"] == 16
    assert "net.features.1.running_var" in straight["state_dict"]
    assert straight["state_dict"].keys() == again["state_dict"].keys()
    for name, tensor in straight["state_dict"].items():
        assert torch.equal(tensor, again["state_dict"][name]), name
    for param, state in straight["optimizer_states"][0]["state"].items():  # SGD momentum buffers
        assert torch.equal(state["momentum_buffer"], again["optimizer_states"][0]["state"][param]["momentum_buffer"])
    assert scalars(run_dir) == scalars(tmp_path / "straight/lightning_logs/version_0")
