"""The HPARAMS tab: model, data and optimizer settings of each run, beside its metrics."""

from collections.abc import Mapping, Sequence
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from torch.utils.tensorboard.summary import hparams

from litfashion.callbacks.tensorboard import summary_writer
from litfashion.lightning_compat import event_file_writer

FIT_METRICS = ("val/acc_best", "val/acc", "val/loss", "train/acc", "train/loss_epoch")
TEST_METRICS = ("test/acc", "test/loss")
# Set by LightningCLI or listed elsewhere in the table: not settings worth a column.
SKIPPED = {"_instantiator", "_class_path", "class_names"}


def flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, bool | int | float | str]:
    """Nested settings as ``a/b`` keys with values TensorBoard can show: numbers, booleans and strings."""
    flat: dict[str, bool | int | float | str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if key in SKIPPED:
            continue
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}/"))
        elif isinstance(value, bool):  # TensorBoard would show it as 0/1
            flat[name] = str(value)
        elif isinstance(value, (int, float, str)):
            flat[name] = value
        elif value is None:
            flat[name] = "None"
        elif isinstance(value, Sequence):
            flat[name] = str(list(value))
        else:
            flat[name] = type(value).__name__
    return flat


def run_params(trainer: Trainer, pl_module: LightningModule) -> dict[str, bool | int | float | str]:
    """Model and data hyperparameters, and the optimizer and scheduler as built (class and settings)."""
    params: dict[str, Any] = {"model": type(pl_module).__name__, **dict(pl_module.hparams)}
    if trainer.datamodule is not None:
        params |= {"data": type(trainer.datamodule).__name__, **dict(trainer.datamodule.hparams)}
    for i, optimizer in enumerate(trainer.optimizers):
        name = "optimizer" if i == 0 else f"optimizer{i}"
        params[name] = type(optimizer).__name__
        params |= {f"{name}/{key}": value for key, value in optimizer.defaults.items()}
    for i, config in enumerate(trainer.lr_scheduler_configs):
        name = "scheduler" if i == 0 else f"scheduler{i}"
        state = {key: value for key, value in config.scheduler.state_dict().items() if not key.startswith("_")}
        params[name] = type(config.scheduler).__name__
        params |= {f"{name}/{key}": value for key, value in state.items() if key not in ("last_epoch", "base_lrs")}
    return flatten(params)


class HparamsLogger(Callback):
    """Writes the run's hyperparameters and the names of its metrics when training (or testing) starts.

    TensorBoard's HPARAMS tab reads each metric's latest value from the run's own scalars, so the table fills
    in live as ``val/acc_best`` etc. are logged, and stays right if a run is interrupted (no placeholder values
    are logged, unlike ``TensorBoardLogger.log_hyperparams(params, metrics)``).

    Args:
        enabled: ``false`` leaves the table out of the run (the CLI drops it before the Trainer is built).
        fit_metrics: Metrics shown beside the hyperparameters of a ``fit``.
        test_metrics: Metrics shown beside the hyperparameters of a ``test``.
    """

    def __init__(
        self,
        enabled: bool = True,
        fit_metrics: Sequence[str] = FIT_METRICS,
        test_metrics: Sequence[str] = TEST_METRICS,
    ) -> None:
        self.enabled = enabled
        self.fit_metrics = list(fit_metrics)
        self.test_metrics = list(test_metrics)

    def _write(self, trainer: Trainer, pl_module: LightningModule, metrics: list[str]) -> None:
        writer = summary_writer(trainer)
        if writer is None or not metrics:
            return
        experiment, session_start, session_end = hparams(run_params(trainer, pl_module), dict.fromkeys(metrics, 0.0))
        file_writer = event_file_writer(writer)
        for summary in (experiment, session_start, session_end):
            file_writer.add_summary(summary, trainer.global_step)

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._write(trainer, pl_module, self.fit_metrics)

    def on_test_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._write(trainer, pl_module, self.test_metrics)
