"""Learning rate in TensorBoard: Lightning's LearningRateMonitor, quiet without a logger."""

from typing import Any, Literal

from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import LearningRateMonitor


class LearningRateLogger(LearningRateMonitor):
    """Logs ``lr-<Optimizer>`` each logging step (or epoch).

    LearningRateMonitor raises without a logger; this one does nothing then, so ``trainer.logger: false`` works.

    Args:
        enabled: ``false`` leaves it out of the run (the CLI drops it before the Trainer is built).
        logging_interval: ``step`` or ``epoch``; default: each scheduler's own interval.
        log_momentum: Also log each optimizer's momentum (or Adam's beta1) as ``lr-<Optimizer>-momentum``.
        log_weight_decay: Also log each optimizer's weight decay as ``lr-<Optimizer>-weight_decay``.
    """

    def __init__(
        self,
        enabled: bool = True,
        logging_interval: Literal["step", "epoch"] | None = None,
        log_momentum: bool = False,
        log_weight_decay: bool = False,
    ) -> None:
        super().__init__(logging_interval, log_momentum, log_weight_decay)
        self.enabled = enabled

    def _active(self, trainer: Trainer) -> bool:
        return bool(trainer.loggers)

    def on_train_start(self, trainer: Trainer, *args: Any, **kwargs: Any) -> None:
        if self._active(trainer):
            super().on_train_start(trainer, *args, **kwargs)

    def on_train_batch_start(self, trainer: Trainer, *args: Any, **kwargs: Any) -> None:
        if self._active(trainer):
            super().on_train_batch_start(trainer, *args, **kwargs)

    def on_train_epoch_start(self, trainer: Trainer, *args: Any, **kwargs: Any) -> None:
        if self._active(trainer):
            super().on_train_epoch_start(trainer, *args, **kwargs)
