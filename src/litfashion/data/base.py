"""What every image data module shares: loader settings and their checks, the four loaders, in-memory datasets,
and the batch's last steps on the device (augmentation, scaling to [0, 1] floats, one-hot targets).

A subclass names its sources, takes the loader settings as constructor arguments (``batch_size``,
``eval_batch_size``, ``shuffle``, ``num_workers``, ``pin_memory``, ``one_hot_targets``; ``batched`` optional), calls
``super().__init__(train_transforms, train_augment)`` first, and fills ``train_set``/``val_set``/``test_set``/
``predict_set`` in ``setup``. Settings are read from ``self.hparams``.
"""

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningDataModule
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from litfashion.data.in_memory import BatchedInMemoryImages, InMemoryImages, make_loader
from litfashion.errors import ConfigError

# Objects, not settings: kept as attributes, left out of the logged hyperparameters.
NOT_HPARAMS = ["train_transforms", "train_augment"]


class ImageDataModule(LightningDataModule):
    """Base of the image data modules; loaders yield ``uint8`` images, which cross to the device as such
    (a quarter of the bytes of floats) and become floats there. The training loader carries its position in the
    epoch into checkpoints (``data/resumable.py``).

    Args:
        train_transforms: Per-sample transforms of ``uint8 [C, H, W]`` training images (augmentations); any
            switches training to the per-sample path.
        train_augment: Augmentation of whole training batches on the device after the transfer (e.g.
            ``BatchAugment``), on a copy of each batch.
    """

    train_set: Dataset | None = None
    val_set: Dataset | None = None
    test_set: Dataset | None = None
    predict_set: Dataset | None = None
    num_classes: int

    def __init__(
        self,
        train_transforms: Sequence[nn.Module] | None = None,
        train_augment: Callable[[Tensor], Tensor] | None = None,
    ) -> None:
        super().__init__()
        caller = inspect.currentframe().f_back  # type: ignore[union-attr]
        # The subclass's constructor arguments are the hyperparameters (this frame's are objects).
        self.save_hyperparameters(ignore=NOT_HPARAMS, frame=caller)
        check_loader_settings(self.hparams.batch_size, self.hparams.eval_batch_size, self.hparams.num_workers)
        # Per-sample transforms of uint8 [C, H, W] training images; any switches training to the per-sample path.
        self.train_transform = nn.Sequential(*train_transforms) if train_transforms else None
        # Applied to whole uint8 training batches on the device, before scaling (e.g. ``BatchAugment``).
        self.train_augment = train_augment

    def in_memory(self, images: Tensor, targets: Tensor, transform: nn.Module | None = None) -> InMemoryImages:
        """Images held as one uint8 tensor: gathered a whole batch at a time, or (a transform, or
        ``batched: false``) one sample at a time."""
        if transform is None and self.hparams.get("batched", True):
            return BatchedInMemoryImages(images, targets)
        return InMemoryImages(images, targets, transform)

    def _loader(self, dataset: Dataset | None, train: bool = False) -> DataLoader:
        """One recipe for all four loaders. An in-memory batched dataset is read in the main process: a batch is
        one gather, and worker processes would only copy it."""
        if dataset is None:
            raise RuntimeError("the data module's setup() must run before its dataloaders are requested")
        settings = self.hparams
        return make_loader(
            dataset,
            batch_size=settings.batch_size if train else settings.eval_batch_size or settings.batch_size,
            shuffle=settings.shuffle and train,
            num_workers=0 if isinstance(dataset, BatchedInMemoryImages) else settings.num_workers,
            pin_memory=settings.pin_memory,
            resumable=train,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set)

    def predict_dataloader(self) -> DataLoader:
        return self._loader(self.predict_set)

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """``(images, targets)`` or bare images (the model's example input, a predict set without labels)."""
        if isinstance(batch, Tensor):
            return self.scale(batch)
        images, targets = batch
        if self.train_augment is not None and self.trainer is not None and self.trainer.training:
            # A copy: on the CPU an in-order batch is a view of the dataset, which an augmentation working in
            # place would otherwise change for every later epoch.
            images = self.train_augment(images.clone())
        if self.hparams.one_hot_targets and targets.ndim == 1:
            targets = F.one_hot(targets, self.num_classes).float()
        return self.scale(images), targets

    def scale(self, images: Tensor) -> Tensor:
        """uint8 images to [0, 1] floats, as ``ToTensor`` does, then ``standardize``."""
        if images.dtype != torch.uint8:
            return images
        return self.standardize(images.float().div_(255))

    def standardize(self, images: Tensor) -> Tensor:
        """Override to normalize after scaling."""
        return images


def check_loader_settings(batch_size: int, eval_batch_size: int | None, num_workers: int) -> None:
    """The DataLoader knobs every image data module takes, checked when the module is built."""
    if batch_size < 1:
        raise ConfigError(f"data.batch_size must be >= 1, got {batch_size}")
    if eval_batch_size is not None and eval_batch_size < 1:
        raise ConfigError(f"data.eval_batch_size must be >= 1, got {eval_batch_size}")
    if num_workers < 0:
        raise ConfigError(f"data.num_workers must be >= 0, got {num_workers}")
