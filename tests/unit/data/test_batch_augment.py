"""BatchAugment: per-sample flips and shifts of whole batches, applied to training batches only."""

import torch

from litfashion.data import FashionMNISTDataModule
from litfashion.data.augment import BatchAugment


def test_flip_and_shift_move_pixels_without_changing_them() -> None:
    images = torch.zeros(64, 1, 28, 28, dtype=torch.uint8)
    images[:, 0, 10, 5] = 200
    out = BatchAugment(flip_p=0.5, max_shift=2)(images)
    assert out.dtype == torch.uint8 and out.shape == images.shape
    rows, cols = (out[:, 0] == 200).nonzero()[:, 1:].T
    assert len(rows) == 64  # each image keeps its one bright pixel
    assert set(rows.tolist()) == set(range(8, 13))
    assert set(cols.tolist()) == set(range(3, 8)) | set(range(20, 25))  # 5 +- 2, or mirrored to 22 +- 2


def test_certain_flip_mirrors_and_no_shift_keeps_the_rest() -> None:
    images = torch.randint(0, 255, (4, 1, 28, 28), dtype=torch.uint8)
    torch.testing.assert_close(BatchAugment(flip_p=1.0, max_shift=0)(images), images.flip(-1))
    torch.testing.assert_close(BatchAugment(flip_p=0.0, max_shift=0)(images), images)


class _Trainer:
    def __init__(self, training: bool) -> None:
        self.training = training


def test_data_module_augments_training_batches_only() -> None:
    dm = FashionMNISTDataModule(train_augment=BatchAugment(flip_p=1.0, max_shift=0))
    images = torch.randint(0, 255, (4, 1, 28, 28), dtype=torch.uint8)
    targets = torch.arange(4)
    dm.trainer = _Trainer(training=True)
    augmented, _ = dm.on_after_batch_transfer((images, targets), 0)
    torch.testing.assert_close(augmented, images.flip(-1).float() / 255)
    dm.trainer = _Trainer(training=False)
    evaluated, _ = dm.on_after_batch_transfer((images, targets), 0)
    torch.testing.assert_close(evaluated, images.float() / 255)
