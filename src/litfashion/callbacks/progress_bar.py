"""The terminal's progress bar: Lightning's rich bar, redrawn a few times a second, showing only metrics."""

from time import monotonic
from typing import Any

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import RichProgressBar
from lightning.pytorch.callbacks.progress.rich_progress import RichProgressBarTheme
from lightning.pytorch.utilities.types import STEP_OUTPUT


class MetricsProgressBar(RichProgressBar):
    """The rich bar without ``v_num`` (the log version: the run summary names the log directory), with metrics
    to four decimals as the run summary shows them.

    ``refresh_rate`` is redraws per second (rich's render thread). Lightning's bar also moves its task and reads
    every progress-bar metric (a ``.item()`` each, a device sync on a GPU) at every training step, which costs a
    small model a visible share of its step; this one does so only when a redraw is due and at an epoch's last
    batch, so the bar shows the same numbers a person can read. To hide it: ``trainer.enable_progress_bar: false``.

    Args:
        refresh_rate: Redraws per second.
        leave: Keep each finished epoch's bar on the terminal instead of replacing it.
        metrics_format: Format spec of the metric values (``.4f``: four decimals).
        console_kwargs: Keyword arguments for the ``rich.console.Console`` the bar draws on.
    """

    def __init__(
        self,
        refresh_rate: int = 4,
        leave: bool = False,
        metrics_format: str = ".4f",
        console_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(refresh_rate, leave, RichProgressBarTheme(metrics_format=metrics_format), console_kwargs)
        self._next_update = 0.0
        self._skipped: int | None = None  # the last training batch not shown yet

    def get_metrics(self, trainer: Trainer, pl_module: LightningModule) -> dict[str, Any]:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return metrics

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: STEP_OUTPUT, batch: Any, batch_idx: int
    ) -> None:
        now = monotonic()
        if now < self._next_update and batch_idx + 1 < trainer.num_training_batches:
            self._skipped = batch_idx
            return
        self._next_update = now + 1.0 / max(self.refresh_rate, 1)
        self._skipped = None
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def on_validation_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._show_skipped(trainer, pl_module)  # a validation inside the epoch (val_check_interval)
        super().on_validation_start(trainer, pl_module)

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._show_skipped(trainer, pl_module)  # an epoch cut short (max_steps), or of unknown length
        super().on_train_epoch_end(trainer, pl_module)

    def _show_skipped(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._skipped is not None:
            batch_idx, self._skipped = self._skipped, None
            super().on_train_batch_end(trainer, pl_module, None, None, batch_idx)
