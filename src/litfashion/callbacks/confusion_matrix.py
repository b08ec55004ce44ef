"""Confusion matrix with class names, drawn into TensorBoard at the end of each validation epoch."""

from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from matplotlib.figure import Figure
from torchmetrics.classification import MulticlassConfusionMatrix

from litfashion.callbacks.tensorboard import epoch_due, summary_writer
from litfashion.errors import ConfigError


class ConfusionMatrixLogger(Callback):
    """Accumulates the validation predictions (``preds``/``target`` returned by ``validation_step``) in a
    torchmetrics confusion matrix and logs its figure as ``val/confusion_matrix`` once per epoch.

    Needs the model's ``class_names``. The matrix updates on every rank (it syncs at ``compute``); only rank zero
    draws. ``normalize: true`` shows each true class's row as fractions; ``every_n_epochs`` draws only every n-th
    epoch while fitting (drawing a figure is slow next to a small model's epoch). ``enabled: false`` leaves it
    out of the run (the CLI drops it before the Trainer is built).
    """

    def __init__(self, enabled: bool = True, normalize: bool = False, every_n_epochs: int = 1) -> None:
        if every_n_epochs < 1:
            raise ConfigError(f"confusion_matrix.every_n_epochs must be >= 1, got {every_n_epochs}")
        self.enabled = enabled
        self.every_n_epochs = every_n_epochs
        self.normalize = normalize
        self.matrix: MulticlassConfusionMatrix | None = None
        self.class_names: list[str] = []

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        class_names = getattr(pl_module, "class_names", None)
        if self.matrix is None and class_names:
            self.class_names = list(class_names)
            num_classes = len(self.class_names)
            # Predictions come from the model itself: skip the input checks, which would sync a GPU each batch.
            self.matrix = MulticlassConfusionMatrix(
                num_classes, normalize="true" if self.normalize else None, validate_args=False
            )
        if self.matrix is not None:
            self.matrix.to(pl_module.device)

    def on_validation_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self.matrix is not None and isinstance(outputs, dict) and epoch_due(trainer, self.every_n_epochs):
            self.matrix.update(outputs["preds"], outputs["target"])

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.matrix is None or not self.matrix.update_called:
            return
        matrix = self.matrix.compute().cpu()
        self.matrix.reset()
        writer = summary_writer(trainer)
        if writer is None:
            return
        size = max(6.0, 0.7 * len(matrix) + 1.5)
        figure = Figure(figsize=(size, size))
        figure.subplots_adjust(left=0.17, bottom=0.17, right=0.98, top=0.95)  # fixed: a layout engine costs more
        axes = figure.subplots()
        self.matrix.plot(matrix, ax=axes, labels=self.class_names)
        for text in axes.texts:
            text.set_fontsize(9)
        axes.set_title(f"Validation confusion matrix, epoch {trainer.current_epoch}")
        writer.add_figure("val/confusion_matrix", figure, global_step=trainer.global_step, close=False)
