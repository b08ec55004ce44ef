"""A test-only callback that turns one rank's loss at one step into NaN: a fault the other ranks do not see."""

from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer


class NaNLossOnRank(Callback):
    """Must come before ``StopOnNonFiniteLoss`` (``trainer.callbacks`` do), which then reads the NaN."""

    def __init__(self, rank: int, step: int) -> None:
        self.rank = rank
        self.step = step

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if trainer.global_rank == self.rank and trainer.global_step - 1 == self.step:
            with torch.no_grad():
                loss.fill_(float("nan"))
