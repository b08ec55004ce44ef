"""Exact resume: a run SIGKILLed mid-training and resumed with ``--ckpt_path last`` ends as an uninterrupted one."""

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from litfashion.cli import main
from tests.helpers.in_process import lightning_messages
from tests.helpers.paths import CONFIGS
from tests.helpers.process import CliRunner
from tests.helpers.tensorboard_events import scalars_by_step

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


@pytest.fixture
def restores_determinism(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``trainer.deterministic`` switches torch's deterministic algorithms on for the whole process: switch back."""
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    before = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(before)


@pytest.mark.slow
def test_sigkilled_run_resumes_bit_for_bit(
    run_cli: CliRunner,
    workdir: Path,
    restores_determinism: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The kill is a process's; the straight and the resumed runs need none of their own."""
    main([*ARGS, "--trainer.logger.init_args.save_dir", "straight"])

    killed = run_cli(
        *ARGS,
        "--trainer.logger.init_args.save_dir", "resumed",
        "--trainer.callbacks+", "tests.helpers.sigkill.SigkillAtStep",
        "--trainer.callbacks.step", str(KILL_AT_STEP),
        check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    run_dir = workdir / "resumed" / "lightning_logs" / "version_0"
    assert torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 8

    logged = lightning_messages(monkeypatch, caplog)
    main([*ARGS, "--trainer.logger.init_args.save_dir", "resumed", "--ckpt_path", "last"])
    assert f"Resuming from {Path('resumed/lightning_logs/version_0/checkpoints/last.ckpt')}" in logged.text
    assert sorted(p.name for p in (workdir / "resumed" / "lightning_logs").iterdir()) == ["version_0"]

    straight = torch.load(workdir / "straight/lightning_logs/version_0/checkpoints/last.ckpt", weights_only=True)
    again = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert again["global_step"] == straight["global_step"] == 24
    assert straight["state_dict"].keys() == again["state_dict"].keys()
    for name, tensor in straight["state_dict"].items():
        assert torch.equal(tensor, again["state_dict"][name]), name
    assert straight["optimizer_states"] == again["optimizer_states"]  # plain SGD: no tensors in its state

    expected = scalars_by_step(workdir / "straight/lightning_logs/version_0")
    assert {"train/loss", "val/acc", "val/acc_best", "train/loss_epoch"} <= expected.keys()
    assert scalars_by_step(run_dir) == expected
