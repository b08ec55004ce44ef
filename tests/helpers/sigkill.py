"""A test-only callback that SIGKILLs its own process at a chosen step: a crash with no cleanup at a known point."""

import os
import signal
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer


class SigkillAtStep(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGKILL)
