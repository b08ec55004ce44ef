"""Image grids in TensorBoard: one training batch as the model sees it, and each epoch's misclassified samples."""

from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from torch import Tensor
from torchvision.utils import make_grid

from litfashion.callbacks.drawing import mistakes_image
from litfashion.callbacks.tensorboard import epoch_due, summary_writer
from litfashion.errors import ConfigError


def _grid(images: Tensor, ncols: int) -> Tensor:
    """``[C, H, W]`` grid of ``[N, C, H, W]`` images, min-max scaled for display (inputs may be normalized)."""
    return make_grid(images.detach().float().cpu(), nrow=ncols, padding=2, normalize=True, pad_value=1.0)


class SampleGridLogger(Callback):
    """Logs ``train/batch`` (the first training batch, after ``on_after_batch_transfer``) once per fit, and
    ``val/misclassified`` (up to ``max_samples`` wrong predictions, labelled) at each validation epoch end.

    Only rank zero collects and draws; collecting stops once ``max_samples`` mistakes are held, so later
    validation batches cost nothing.

    Args:
        enabled: ``false`` leaves both grids out of the run (the CLI drops it before the Trainer is built).
        train_batch: Log ``train/batch``, the first training batch as the model sees it.
        misclassified: Log ``val/misclassified``, the labelled wrong predictions.
        max_samples: Most images in each grid.
        every_n_epochs: Draw the mistakes only every n-th validation epoch while fitting.
    """

    def __init__(
        self,
        enabled: bool = True,
        train_batch: bool = True,
        misclassified: bool = True,
        max_samples: int = 32,
        every_n_epochs: int = 1,
    ) -> None:
        if max_samples < 1:
            raise ConfigError(f"sample_grids.max_samples must be >= 1, got {max_samples}")
        if every_n_epochs < 1:
            raise ConfigError(f"sample_grids.every_n_epochs must be >= 1, got {every_n_epochs}")
        self.every_n_epochs = every_n_epochs
        self.enabled = enabled
        self.train_batch = train_batch
        self.misclassified = misclassified
        self.max_samples = max_samples
        self._train_batch_logged = False
        self._mistakes: list[tuple[Tensor, Tensor, Tensor]] = []
        self._held = 0

    def on_fit_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._train_batch_logged = not self.train_batch or summary_writer(trainer) is None

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int) -> None:
        if self._train_batch_logged:
            return
        self._train_batch_logged = True
        writer = summary_writer(trainer)
        images = batch[0] if isinstance(batch, (tuple, list)) else batch
        if writer is not None and isinstance(images, Tensor) and images.ndim == 4:
            grid = _grid(images[: self.max_samples], ncols=8)
            writer.add_image("train/batch", grid, global_step=trainer.global_step)

    def on_validation_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._mistakes, self._held = [], 0

    def on_validation_batch_end(
        self,
        trainer: Trainer,
        pl_module: LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if (
            not self.misclassified
            or self._held >= self.max_samples
            or not trainer.is_global_zero
            or not isinstance(outputs, dict)
            or not epoch_due(trainer, self.every_n_epochs)
        ):
            return
        preds, target = outputs["preds"], outputs["target"]
        wrong = (preds != target).nonzero().squeeze(1)[: self.max_samples - self._held]
        if len(wrong):
            self._mistakes.append((batch[0][wrong], preds[wrong], target[wrong]))
            self._held += len(wrong)

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        writer = summary_writer(trainer)
        if not self._mistakes or writer is None:
            return
        images, preds, targets = (torch.cat(parts) for parts in zip(*self._mistakes, strict=True))
        self._mistakes, self._held = [], 0
        names = getattr(pl_module, "class_names", None) or list(
            map(str, range(int(max(preds.max(), targets.max())) + 1))
        )
        image = mistakes_image(images, preds.tolist(), targets.tolist(), names)
        writer.add_image("val/misclassified", image, global_step=trainer.global_step, dataformats="HWC")
