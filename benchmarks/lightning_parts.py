"""Lightning's side of the benchmarks, imported only where Lightning runs (the tutorial's and the floor's processes
do not pay for importing it): the bare-Lightning reference (the floor's model in a ``LightningModule`` trained by a
``Trainer`` with every feature off) and the callbacks the benchmarks add to runs."""

import cProfile
import json
import os
import pstats
import time
from pathlib import Path
from typing import Any, ClassVar

import lightning.pytorch as pl
import torch
from torch import nn

from benchmarks.common import RESULT_ENV, NeuralNetwork, learning_rate


class Tutorial(pl.LightningModule):
    """The floor's model, loss and SGD, under Lightning's automatic optimization."""

    def __init__(self) -> None:
        super().__init__()
        self.model, self.loss_fn = NeuralNetwork(), nn.CrossEntropyLoss()

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        X, y = batch
        return self.loss_fn(self.model(X), y)

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


class Marks(pl.Callback):
    """What ``whole_job.py`` adds to a litfashion run: when the fit ends, writes the (Unix) time of the first
    training epoch's start, of each validation's end, and ``val/acc`` then, as JSON to ``$RESULT_ENV``."""

    def __init__(self) -> None:
        self.marks: dict[str, Any] = {"first_step_at": None, "eval_end_at": [], "test_acc": []}

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.marks["first_step_at"] = self.marks["first_step_at"] or time.time()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            self.marks["eval_end_at"].append(time.time())
            self.marks["test_acc"].append(float(trainer.callback_metrics["val/acc"]))

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        Path(os.environ[RESULT_ENV]).write_text(json.dumps(self.marks))


class StepTimer(pl.Callback):
    """Appends to ``TIMED`` the ms a step of training steps ``warmup``..the last of the first epoch; with
    ``count_calls``, the Python function calls a step instead (cProfile), which do not change with the load."""

    TIMED: ClassVar[list[float]] = []

    def __init__(self, warmup: int, count_calls: bool = False) -> None:
        self.warmup, self.profile = warmup, cProfile.Profile() if count_calls else None
        self.start = self.end = 0.0
        self.steps = 0

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, idx: int) -> None:
        if idx == self.warmup:
            self.start = time.perf_counter()
            if self.profile is not None:
                self.profile.enable()

    def on_train_batch_end(
        self, trainer: pl.Trainer, module: pl.LightningModule, out: Any, batch: Any, idx: int
    ) -> None:
        self.end, self.steps = time.perf_counter(), idx + 1 - self.warmup

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch != 0:
            return
        if self.profile is not None:
            self.profile.disable()
            StepTimer.TIMED.append(pstats.Stats(self.profile).total_calls / self.steps)
        else:
            StepTimer.TIMED.append((self.end - self.start) / self.steps * 1e3)
