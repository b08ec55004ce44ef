"""Batches cross to the device as uint8 (a quarter of the bytes of floats) and become [0, 1] floats there."""

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor


class ScaleOnDevice:
    """Mixin for LightningDataModules whose loaders yield uint8 images: scales them as ``ToTensor`` does.

    Works for ``(images, targets)`` batches and for bare image batches (the model's example input, or a
    predict set without labels). Subclasses may override ``standardize`` to normalize after scaling.
    """

    num_classes: int
    one_hot_targets: bool = False
    # Applied to whole uint8 training batches on the device, before scaling (e.g. ``BatchAugment``).
    train_augment: Callable[[Tensor], Tensor] | None = None

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        if isinstance(batch, Tensor):
            return self.scale(batch)
        images, targets = batch
        if self.train_augment is not None and self.trainer is not None and self.trainer.training:
            images = self.train_augment(images)
        if self.one_hot_targets and targets.ndim == 1:
            targets = F.one_hot(targets, self.num_classes).float()
        return self.scale(images), targets

    def scale(self, images: Tensor) -> Tensor:
        if images.dtype != torch.uint8:
            return images
        return self.standardize(images.float().div_(255))

    def standardize(self, images: Tensor) -> Tensor:
        return images
