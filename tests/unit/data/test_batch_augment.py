"""BatchAugment: per-sample flips, shifts and erasing of whole batches, applied to training batches only."""

import pytest
import torch

from litfashion.data import FashionMNISTDataModule
from litfashion.data.augment import BatchAugment
from litfashion.errors import ConfigError


def test_flip_and_shift_move_pixels_without_changing_them() -> None:
    torch.manual_seed(0)  # 512 samples draw every one of the 10 column positions (64 missed one 1.5% of the time)
    images = torch.zeros(512, 1, 28, 28, dtype=torch.uint8)
    images[:, 0, 10, 5] = 200
    out = BatchAugment(flip_p=0.5, max_shift=2)(images)
    assert out.dtype == torch.uint8 and out.shape == images.shape
    rows, cols = (out[:, 0] == 200).nonzero()[:, 1:].T
    assert len(rows) == 512  # each image keeps its one bright pixel
    assert set(rows.tolist()) == set(range(8, 13))
    assert set(cols.tolist()) == set(range(3, 8)) | set(range(20, 25))  # 5 +- 2, or mirrored to 22 +- 2


def test_certain_flip_mirrors_and_no_shift_keeps_the_rest() -> None:
    images = torch.randint(0, 255, (4, 1, 28, 28), dtype=torch.uint8)
    torch.testing.assert_close(BatchAugment(flip_p=1.0, max_shift=0)(images), images.flip(-1))
    torch.testing.assert_close(BatchAugment(flip_p=0.0, max_shift=0)(images), images)


def test_erasing_blanks_one_rectangle_per_sample_within_the_bounds() -> None:
    torch.manual_seed(0)
    images = torch.randint(1, 255, (500, 1, 28, 28), dtype=torch.uint8)
    out = BatchAugment(flip_p=0.0, max_shift=0, erase_p=1.0, erase_scale=(0.05, 0.2), erase_ratio=(0.5, 2.0))(images)
    for before, after in zip(images[:, 0], out[:, 0], strict=True):
        rows, cols = (after == 0).nonzero().T
        height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert len(rows) == height * width  # one solid rectangle of background
        assert 0.05 * 784 - 28 <= len(rows) <= 0.2 * 784 + 28  # the area, give or take the rounding of each side
        assert 0.5 * 0.7 <= height / width <= 2.0 / 0.7
        kept = after != 0
        assert torch.equal(after[kept], before[kept])
    assert len({int((t == 0).sum()) for t in out}) > 20  # sizes vary


def test_erasing_touches_about_erase_p_of_the_samples() -> None:
    torch.manual_seed(0)
    images = torch.full((2000, 1, 28, 28), 255, dtype=torch.uint8)
    erased = (BatchAugment(flip_p=0.0, max_shift=0, erase_p=0.3)(images) == 0).flatten(1).any(1)
    assert 500 < int(erased.sum()) < 700


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"erase_p": 1.5}, "erase_p must be in [0, 1], got 1.5"),
        ({"erase_scale": (0.3, 0.1)}, "erase_scale must be [smallest, largest]"),
        ({"erase_scale": (0.0, 0.1)}, "got [0.0, 0.1]"),
        ({"erase_ratio": (-1.0, 2.0)}, "erase_ratio must be [smallest, largest]"),
    ],
)
def test_bad_erasing_settings_name_the_setting(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=r"data\.train_augment\.erase_") as error:
        BatchAugment(**kwargs)
    assert message in str(error.value)


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
