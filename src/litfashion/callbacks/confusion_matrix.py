"""Confusion matrix with class names, drawn into TensorBoard at the end of each validation epoch."""

from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from torchmetrics.classification import MulticlassConfusionMatrix

from litfashion.callbacks.drawing import confusion_matrix_image
from litfashion.callbacks.tensorboard import epoch_due, summary_writer
from litfashion.errors import ConfigError


class ConfusionMatrixLogger(Callback):
    """Accumulates the validation predictions (``preds``/``target`` returned by ``validation_step``) in a
    torchmetrics confusion matrix and logs its figure as ``val/confusion_matrix`` once per epoch.

    Needs the model's ``class_names``. The matrix updates on every rank (it syncs at ``compute``); only rank zero
    draws, with PIL (``litfashion.callbacks.drawing``).

    Args:
        enabled: ``false`` leaves the panel out of the run (the CLI drops it before the Trainer is built).
        normalize: Show each true class's row as fractions instead of counts.
        every_n_epochs: Draw only every n-th validation epoch while fitting.
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
        title = f"Validation confusion matrix, epoch {trainer.current_epoch}"
        image = confusion_matrix_image(matrix, self.class_names, title)
        writer.add_image("val/confusion_matrix", image, global_step=trainer.global_step, dataformats="HWC")
