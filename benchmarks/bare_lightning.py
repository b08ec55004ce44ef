"""The floor's model in Lightning with every feature off: the reference for what Lightning's own loop costs
(the ``lightning`` variant of ``throughput.py`` and ``whole_job.py``, the ``lightning-*`` ones of
``step_overhead.py``, the Trainers of ``step_parts.py``). Imported only where Lightning runs, so that the tutorial
and floor workers do not pay for importing it."""

from typing import Any

import lightning.pytorch as pl
import torch
from throughput import NeuralNetwork, learning_rate
from torch import nn


class Tutorial(pl.LightningModule):
    """The floor's model, loss and SGD; ``optimization`` is ``automatic``, ``manual`` (through Lightning's optimizer
    wrapper) or ``raw-optimizer`` (the torch optimizer itself, which Lightning does not count as a step)."""

    def __init__(self, optimization: str = "automatic") -> None:
        super().__init__()
        self.model, self.loss_fn = NeuralNetwork(), nn.CrossEntropyLoss()
        self.optimization = optimization
        self.automatic_optimization = optimization == "automatic"

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        X, y = batch
        loss = self.loss_fn(self.model(X), y)
        if self.optimization == "manual":
            optimizer = self.optimizers()
            optimizer.zero_grad()
            self.manual_backward(loss)
            optimizer.step()
        elif self.optimization == "raw-optimizer":
            optimizer = self.optimizers(use_pl_optimizer=False)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=learning_rate)


def bare_trainer(callbacks: list[pl.Callback], **settings: Any) -> pl.Trainer:
    """One CPU, no logger, checkpoints, progress bar, model summary or sanity check; ``settings`` add or override."""
    features_off = {
        "accelerator": "cpu",
        "devices": 1,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
    }
    return pl.Trainer(**{**features_off, "callbacks": callbacks, **settings})
