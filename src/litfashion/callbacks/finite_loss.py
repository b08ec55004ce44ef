"""Stops training at the first NaN/inf loss, before a checkpoint can save the broken weights."""

import math
from pathlib import Path
from typing import Any, NoReturn

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.trainer.states import TrainerFn
from torch import Tensor

from litfashion.errors import LitFashionError


class NonFiniteLossError(LitFashionError):
    """The training loss became NaN or infinite."""


# "No bad step yet": above any step, so that the earliest bad step of all ranks is their minimum.
NO_BAD_STEP = torch.iinfo(torch.int64).max


class StopOnNonFiniteLoss(Callback):
    """Raises a clear error naming the first step whose loss was not finite; the last good checkpoint stays.

    A single process checking every step (the default on a CPU, where reading a value waits for nothing) reads
    each loss as it comes. Otherwise reading a GPU tensor's value waits for the GPU, and with several processes a
    check is a collective (every rank must stop together, so the ranks' flags are all-reduced); so each step only
    folds ``isfinite(loss)`` into a tensor (no wait), and the value is read every ``check_every_n_steps`` steps
    (default ``trainer.log_every_n_steps``, when logging reads the loss anyway), always before validation and at
    the end of each epoch, so no checkpoint is written after a bad step. Every rank checks at the same steps, so
    none waits in a collective that another skips. The step named is the first bad one however late it is found.
    Checkpoints saved every ``checkpoint.every_n_train_steps`` may still hold weights from within the last
    unchecked window.

    Args:
        check_every_n_steps: Read the folded flag every n training steps (GPU or several processes); default
            ``trainer.log_every_n_steps``. A single CPU process reads every loss regardless.
    """

    def __init__(self, check_every_n_steps: int | None = None) -> None:
        super().__init__()
        self.check_every_n_steps = check_every_n_steps
        self._first_bad: Tensor | None = None
        self._every = 1
        self._read_each_loss = False

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        cheap = trainer.strategy.root_device.type == "cpu" and trainer.world_size == 1
        self._every = self.check_every_n_steps or (1 if cheap else trainer.log_every_n_steps)
        # One process checking every step has no rank to agree with: it reads each loss as it comes.
        self._read_each_loss = self._every == 1 and trainer.world_size == 1
        self._first_bad = torch.tensor(NO_BAD_STEP, device=trainer.strategy.root_device)

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if not isinstance(loss, Tensor) or self._first_bad is None:
            return
        # global_step already counts this batch's step; the step logged with this loss is one less.
        step = trainer.global_step - 1
        if self._read_each_loss:
            if not _is_finite(loss):
                self._stop(trainer, step)
            return
        bad_now = ~torch.isfinite(loss.detach()).all() & (self._first_bad == NO_BAD_STEP)
        self._first_bad = torch.where(bad_now, step, self._first_bad)
        if trainer.global_step % self._every == 0:
            self._check(trainer)

    def on_validation_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.state.fn == TrainerFn.FITTING:
            self._check(trainer)

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._check(trainer)

    def _check(self, trainer: Trainer) -> None:
        if self._first_bad is None:
            return
        first_bad = self._first_bad.clone()
        if trainer.world_size > 1:
            first_bad = trainer.strategy.reduce(first_bad, reduce_op="min")
        step = int(first_bad.item())
        if step != NO_BAD_STEP:
            self._stop(trainer, step)

    def _stop(self, trainer: Trainer, step: int) -> NoReturn:
        saved = [
            Path(path)
            for callback in trainer.checkpoint_callbacks
            for path in (callback.last_model_path, callback.best_model_path)
            if path and Path(path).is_file()
        ]
        last = max(saved, key=lambda path: path.stat().st_mtime_ns, default=None)
        kept = f"the last good checkpoint is {last}" if last else "no checkpoint had been written yet"
        raise NonFiniteLossError(
            f"training stopped: the loss became NaN or infinite at step {step} (epoch {trainer.current_epoch}); "
            f"{kept}. Lower the learning rate or check the data."
        )


def _is_finite(loss: Tensor) -> bool:
    """``math.isfinite`` of a one-element loss (a fraction of the tensor ops' cost), else all of its elements."""
    if loss.numel() == 1:
        return math.isfinite(loss.item())
    return bool(torch.isfinite(loss.detach()).all())
