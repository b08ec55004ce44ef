"""Exact resume: a run SIGKILLed mid-training and resumed with ``--ckpt_path last`` ends as an uninterrupted one."""

import os
import signal
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.helpers.paths import CONFIGS
from tests.helpers.process import CliRunner

TESTS = Path(__file__).resolve().parent
# 512 samples / batch 64 = 8 steps an epoch; the kill lands in epoch 1, after epoch 0's last.ckpt.
KILL_AT_STEP = 11
ARGS = [
    "fit",
    "--config", str(CONFIGS / "fashion_mnist.yaml"),
    "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
    "--trainer.max_epochs", "3",
    "--trainer.deterministic", "true",
    "--trainer.log_every_n_steps", "2",
    "--trainer.enable_progress_bar", "false",
    "--data.init_args.shuffle", "true",
    "--model.init_args.net.init_args.dropout", "0.2",
]  # fmt: skip


def scalars(run_dir: Path) -> dict[str, dict[int, float]]:
    """Every logged scalar, by tag and step, over all event files of a version directory."""
    events = EventAccumulator(str(run_dir))
    events.Reload()
    return {tag: {e.step: e.value for e in events.Scalars(tag)} for tag in events.Tags()["scalars"]}


def test_sigkilled_run_resumes_bit_for_bit(run_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_cli(*ARGS, "--trainer.logger.init_args.save_dir", "straight")

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    killed = run_cli(
        *ARGS,
        "--trainer.logger.init_args.save_dir", "resumed",
        "--trainer.callbacks+", "sigkill.SigkillAtStep",
        "--trainer.callbacks.step", str(KILL_AT_STEP),
        check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    run_dir = tmp_path / "resumed" / "lightning_logs" / "version_0"
    assert torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 8

    resumed = run_cli(*ARGS, "--trainer.logger.init_args.save_dir", "resumed", "--ckpt_path", "last")
    assert f"Resuming from {Path('resumed/lightning_logs/version_0/checkpoints/last.ckpt')}" in resumed.stderr
    assert sorted(p.name for p in (tmp_path / "resumed" / "lightning_logs").iterdir()) == ["version_0"]

    straight = torch.load(tmp_path / "straight/lightning_logs/version_0/checkpoints/last.ckpt", weights_only=True)
    again = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert again["global_step"] == straight["global_step"] == 24
    assert straight["state_dict"].keys() == again["state_dict"].keys()
    for name, tensor in straight["state_dict"].items():
        assert torch.equal(tensor, again["state_dict"][name]), name
    assert straight["optimizer_states"] == again["optimizer_states"]  # plain SGD: no tensors in its state

    expected = scalars(tmp_path / "straight/lightning_logs/version_0")
    assert {"train/loss", "val/acc", "val/acc_best", "train/loss_epoch"} <= expected.keys()
    assert scalars(run_dir) == expected
