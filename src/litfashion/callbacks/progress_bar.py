"""The terminal's progress bar: Lightning's rich bar, redrawn every ``refresh_rate`` steps, showing only metrics."""

from typing import Any

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import RichProgressBar
from lightning.pytorch.callbacks.progress.rich_progress import RichProgressBarTheme


class MetricsProgressBar(RichProgressBar):
    """The rich bar without ``v_num`` (the log version: the run summary names the log directory), with metrics
    to four decimals as the run summary shows them.

    Redrawing the bar (and reading every logged metric) costs a noticeable share of a small model's step, so it
    is redrawn every ``refresh_rate`` steps. To hide it: ``trainer.enable_progress_bar: false``.
    """

    def __init__(
        self,
        refresh_rate: int = 50,
        leave: bool = False,
        metrics_format: str = ".4f",
        console_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(refresh_rate, leave, RichProgressBarTheme(metrics_format=metrics_format), console_kwargs)

    def get_metrics(self, trainer: Trainer, pl_module: LightningModule) -> dict[str, Any]:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return metrics
