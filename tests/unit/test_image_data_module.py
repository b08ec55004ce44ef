"""The ImageDataModule base: settings from the subclass's arguments, one loader recipe, scaling on the device."""

import pytest
import torch
from torch import nn

from litfashion.data.augment import BatchAugment
from litfashion.data.base import ImageDataModule
from litfashion.data.in_memory import BatchedInMemoryImages, InMemoryImages
from litfashion.errors import ConfigError


class Tensors(ImageDataModule):
    """A source of ten 4x4 uint8 images of two classes, as a subclass writes one."""

    def __init__(
        self,
        batch_size: int = 4,
        eval_batch_size: int | None = None,
        shuffle: bool = False,
        one_hot_targets: bool = False,
        train_transforms: list[nn.Module] | None = None,
        train_augment: BatchAugment | None = None,
        batched: bool = True,
        num_workers: int = 0,
        pin_memory: bool = False,
    ) -> None:
        super().__init__(train_transforms, train_augment)
        self.num_classes = 2

    def setup(self, stage: str) -> None:
        images = torch.arange(10 * 16, dtype=torch.uint8).reshape(10, 4, 4)
        targets = torch.arange(10) % 2
        self.train_set = self.in_memory(images, targets, self.train_transform)
        self.val_set = self.test_set = self.predict_set = self.in_memory(images, targets)


def test_the_subclass_arguments_are_the_hyperparameters() -> None:
    data = Tensors(batch_size=3, train_augment=BatchAugment(), train_transforms=[nn.Identity()])
    assert data.hparams.batch_size == 3 and data.hparams.batched is True
    assert "train_augment" not in data.hparams and "train_transforms" not in data.hparams
    assert isinstance(data.train_augment, BatchAugment) and isinstance(data.train_transform, nn.Sequential)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"batch_size": 0}, "data.batch_size must be >= 1, got 0"),
        ({"eval_batch_size": 0}, "data.eval_batch_size must be >= 1, got 0"),
        ({"num_workers": -1}, "data.num_workers must be >= 0, got -1"),
    ],
)
def test_loader_settings_are_checked_when_built(setting: dict[str, int], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Tensors(**setting)


def test_four_loaders_from_one_recipe() -> None:
    data = Tensors(batch_size=4, eval_batch_size=5)
    data.setup("fit")
    assert isinstance(data.train_set, BatchedInMemoryImages)
    assert [len(b[1]) for b in data.train_dataloader()] == [4, 4, 2]
    for loader in (data.val_dataloader(), data.test_dataloader(), data.predict_dataloader()):
        assert [len(b[1]) for b in loader] == [5, 5]


def test_a_transform_or_batched_false_takes_the_per_sample_path() -> None:
    with_transform = Tensors(train_transforms=[nn.Identity()])
    with_transform.setup("fit")
    assert type(with_transform.train_set) is InMemoryImages
    assert isinstance(with_transform.val_set, BatchedInMemoryImages)
    per_sample = Tensors(batched=False)
    per_sample.setup("fit")
    assert type(per_sample.train_set) is InMemoryImages and type(per_sample.val_set) is InMemoryImages


def test_batches_are_scaled_and_one_hot_on_the_device() -> None:
    data = Tensors(one_hot_targets=True)
    images = torch.full((2, 1, 4, 4), 255, dtype=torch.uint8)
    scaled, targets = data.on_after_batch_transfer((images, torch.tensor([0, 1])), 0)
    assert scaled.dtype == torch.float32 and torch.equal(scaled, torch.ones(2, 1, 4, 4))
    assert torch.equal(targets, torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    assert torch.equal(data.on_after_batch_transfer(images, 0), torch.ones(2, 1, 4, 4))  # bare images
