"""Faults where a process is what is tested: SIGTERM from outside (a cluster preempting the job) and SIGKILL at
random moments while checkpoints are written. The in-process rows are in tests/unit/test_fault_table.py."""

import random
import signal
import time
from pathlib import Path

import pytest
import torch

from litfashion.cli import main
from tests.helpers.commands import tutorial_on_cpu
from tests.helpers.forked import Forked, start
from tests.helpers.in_process import in_folder

pytestmark = pytest.mark.slow

FOREVER = tutorial_on_cpu("fit", "--trainer.max_epochs", "100000", "--data.init_args.shuffle", "true")
CHECKPOINTS = Path("lightning_logs/version_0/checkpoints")


def wait_for(path: Path, proc: Forked, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "training did not start"
        time.sleep(0.05)


def test_sigterm_writes_a_checkpoint_exits_143_and_names_the_resume_command(
    tmp_path: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc = start(*FOREVER, cwd=tmp_path, source=tiny_source)
    try:
        wait_for(tmp_path / CHECKPOINTS / "last.ckpt", proc)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, output
    assert "Traceback" not in output
    interrupted = CHECKPOINTS / "interrupted.ckpt"
    hint = [line for line in output.splitlines() if "Resume with:" in line]
    assert len(hint) == 1 and hint[0].endswith(f"--ckpt_path {interrupted}"), output
    stopped = torch.load(tmp_path / interrupted, weights_only=True)

    # The same command with --ckpt_path last continues from the newest checkpoint: the interrupted one.
    in_folder(monkeypatch, tmp_path, tiny_source)
    until = stopped["epoch"] + 2
    main([*FOREVER, "--trainer.max_epochs", str(until), "--ckpt_path", "last"])
    assert torch.load(tmp_path / CHECKPOINTS / "last.ckpt", weights_only=True)["epoch"] == until - 1


def test_sigkill_while_checkpoints_are_written_never_leaves_a_broken_one(tmp_path: Path, tiny_source: Path) -> None:
    """A small network checkpointed every step, killed at random moments: every checkpoint on disk loads."""
    every_step = [
        "--model.init_args.net.init_args.hidden_sizes", "[16]",
        "--last_checkpoint.every_n_train_steps", "1",
        "--last_checkpoint.every_n_epochs", "null",
    ]  # fmt: skip
    moments = random.Random(0)
    for kill in range(3):
        args = FOREVER + every_step + (["--ckpt_path", "last"] if kill else [])
        proc = start(*args, cwd=tmp_path, source=tiny_source)
        try:
            wait_for(tmp_path / CHECKPOINTS / "last.ckpt", proc)
            time.sleep(moments.uniform(0.2, 1.5))
            proc.kill()
            proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        found = sorted(p for p in (tmp_path / CHECKPOINTS).glob("*.ckpt"))
        assert found, "no checkpoint"
        for path in found:
            torch.load(path, weights_only=True)  # complete: an old one or a new one, never a partial file
