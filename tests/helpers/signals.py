"""Test-only callbacks that signal their own process at a chosen step: a crash or a preemption at a known point."""

import os
import signal as signals
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer


class SignalAtStep(Callback):
    """Sends ``signal`` (a name: ``SIGTERM``, ``SIGKILL``) to this process when training reaches ``step``; under
    DDP to rank zero's only, the process a launcher or scheduler signals (Lightning forwards it to the others)."""

    def __init__(self, step: int, signal: str = "SIGTERM", during: str = "train") -> None:
        self.step = step
        self.signum = getattr(signals, signal)
        self.during = during

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int) -> None:
        if self.during == "train" and trainer.global_step == self.step and trainer.global_rank == 0:
            os.kill(os.getpid(), self.signum)

    def on_validation_batch_start(
        self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int, dataloader_idx: int = 0
    ) -> None:
        if (
            self.during == "validation"
            and trainer.global_step == self.step
            and batch_idx == 0
            and trainer.global_rank == 0
        ):
            os.kill(os.getpid(), self.signum)
