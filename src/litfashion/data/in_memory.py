"""Datasets over images held as one uint8 tensor.

The tutorial decodes each sample to PIL and back through ``ToTensor``; for a dataset that fits in memory it is far
cheaper to keep all images as one ``uint8`` tensor, gather whole batches by index, and scale them on the device after
transfer (see ``on_after_batch_transfer`` in the data modules). Both classes stay ordinary map-style datasets,
so samplers (shuffling, Lightning's ``DistributedSampler``) work unchanged.
"""

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from litfashion.data.resumable import ResumableLoader


class InMemoryImages(Dataset):
    """Per-sample path: one ``(image, label)`` at a time, through an optional transform (augmentations).

    Images are ``[N, H, W]`` (grayscale) or ``[N, C, H, W]`` uint8; samples come out as ``[C, H, W]``.
    """

    def __init__(self, images: Tensor, targets: Tensor, transform: Callable[[Tensor], Tensor] | None = None) -> None:
        if len(images) != len(targets):
            raise ValueError(f"{len(images)} images but {len(targets)} targets")
        self.images = images if images.ndim == 4 else images.unsqueeze(1)
        self.targets = targets
        self.transform = transform

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, self.targets[index]


class BatchedInMemoryImages(InMemoryImages):
    """Fast path: ``DataLoader`` hands the whole batch of indices to ``__getitems__``: one gather, no collate."""

    def __init__(self, images: Tensor, targets: Tensor) -> None:
        super().__init__(images, targets, transform=None)

    def __getitems__(self, indices: Sequence[int]) -> tuple[Tensor, Tensor]:
        first, stop = indices[0], indices[-1] + 1
        if stop - first == len(indices) and list(indices) == list(range(first, stop)):
            # In order and contiguous (no shuffling, one process): views, no gather. Nothing downstream writes
            # into them: `scale` makes a new float tensor, and a training augmentation gets a copy.
            return self.images[first:stop], self.targets[first:stop]
        index = torch.as_tensor(indices)
        # index_select, not images[index]: the same gather without advanced indexing's generic path (BENCHMARKS.md).
        return self.images.index_select(0, index), self.targets.index_select(0, index)


def keep_batch(batch: Any) -> Any:
    """Collate for ``BatchedInMemoryImages``: the batch is already one tensor per field."""
    return batch


def make_loader(
    dataset: Dataset,
    batch_size: int,
    shuffle: bool,
    num_workers: int = 0,
    pin_memory: bool = False,
    drop_last: bool = False,
    resumable: bool = False,
) -> DataLoader:
    """A DataLoader with the collate that fits the dataset; workers persist across epochs. ``resumable``: one
    whose position in the epoch goes into checkpoints (the training loader's)."""
    collate = keep_batch if isinstance(dataset, BatchedInMemoryImages) else None
    loader = ResumableLoader if resumable else DataLoader
    return loader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        pin_memory=pin_memory,
        drop_last=drop_last,
        collate_fn=collate,
        persistent_workers=num_workers > 0,
    )
