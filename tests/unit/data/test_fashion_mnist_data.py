"""FashionMNISTDataModule: offline-first resolution, the split, and the two loading paths."""

import gzip
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torchvision.datasets import FashionMNIST
from torchvision.transforms import ToTensor

from litfashion.data import FashionMNISTDataModule, idx_files
from litfashion.data.idx_files import SOURCE_ENV, raw_dir
from litfashion.errors import DataNotFoundError


@pytest.fixture(autouse=True)
def only_explicit_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Hide the environment variable and Debian's copy, so each test names its sources."""
    monkeypatch.delenv(SOURCE_ENV, raising=False)
    monkeypatch.setattr(idx_files, "DEBIAN_DIR", tmp_path / "no-debian-copy")


def test_shapes_and_classes_known_right_after_init() -> None:
    dm = FashionMNISTDataModule()
    assert dm.input_shape == [1, 28, 28]
    assert dm.num_classes == 10
    assert dm.class_names[0] == "T-shirt/top" and dm.class_names[9] == "Ankle boot"


def test_unpacks_local_copy_into_data_dir(tmp_path: Path, tiny_source: Path) -> None:
    dm = FashionMNISTDataModule(data_dir=str(tmp_path / "data"), source_dir=str(tiny_source), download=False)
    dm.prepare_data()
    dm.setup("test")
    assert len(dm.test_set) == 128
    assert sorted(p.name for p in raw_dir(tmp_path / "data").iterdir()) == [
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
    ]


def test_environment_variable_names_the_source(
    tmp_path: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SOURCE_ENV, str(tiny_source))
    dm = FashionMNISTDataModule(data_dir=str(tmp_path / "data"), download=False)
    dm.prepare_data()
    dm.setup("fit")
    assert len(dm.train_set) + len(dm.val_set) == 512


def test_existing_data_dir_is_used_without_a_source(tmp_path: Path, tiny_source: Path) -> None:
    data_dir = str(tmp_path / "data")
    FashionMNISTDataModule(data_dir=data_dir, source_dir=str(tiny_source), download=False).prepare_data()
    dm = FashionMNISTDataModule(data_dir=data_dir, source_dir=str(tmp_path / "nowhere"), download=False)
    dm.prepare_data()
    dm.setup("test")
    assert len(dm.test_set) == 128


def test_truncated_file_in_data_dir_is_replaced_from_the_source(tmp_path: Path, tiny_source: Path) -> None:
    data_dir = tmp_path / "data"
    FashionMNISTDataModule(data_dir=str(data_dir), source_dir=str(tiny_source), download=False).prepare_data()
    images = raw_dir(data_dir) / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:1000])
    FashionMNISTDataModule(data_dir=str(data_dir), source_dir=str(tiny_source), download=False).prepare_data()
    assert images.stat().st_size == 16 + 512 * 28 * 28


def test_missing_data_without_download_names_every_place_looked(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    dm = FashionMNISTDataModule(data_dir=str(tmp_path / "data"), source_dir=str(empty), download=False)
    with pytest.raises(DataNotFoundError) as err:
        dm.prepare_data()
    message = str(err.value)
    assert "FashionMNIST was not found" in message
    assert str(empty / "train-images-idx3-ubyte.gz") in message
    assert "download: disabled" in message
    assert "apt-get install dataset-fashion-mnist" in message


def test_failed_download_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FashionMNIST, "mirrors", ["http://127.0.0.1:9/"])
    dm = FashionMNISTDataModule(data_dir=str(tmp_path / "data"), source_dir=str(tmp_path / "none"), download=True)
    with pytest.raises(DataNotFoundError, match="download: failed"):
        dm.prepare_data()


def test_corrupt_gz_source_is_reported(tmp_path: Path, tiny_source: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in tiny_source.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    (broken / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x80" + b"\x01"))
    dm = FashionMNISTDataModule(data_dir=str(tmp_path / "data"), source_dir=str(broken), download=False)
    with pytest.raises(DataNotFoundError, match=r"t10k-labels-idx1-ubyte: holds 9 bytes"):
        dm.prepare_data()


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"eval_batch_size": -1}, {"val_fraction": 1.5}])
def test_bad_arguments_fail_at_init(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        FashionMNISTDataModule(**kwargs)


def _prepared(tmp_path: Path, source: Path, **kwargs) -> FashionMNISTDataModule:
    dm = FashionMNISTDataModule(data_dir=str(tmp_path / "data"), source_dir=str(source), download=False, **kwargs)
    dm.prepare_data()
    dm.setup("fit")
    return dm


def test_split_is_seeded_disjoint_and_complete(tmp_path: Path, tiny_source: Path) -> None:
    a = _prepared(tmp_path, tiny_source, val_fraction=0.25, split_seed=3)
    b = _prepared(tmp_path, tiny_source, val_fraction=0.25, split_seed=3)
    c = _prepared(tmp_path, tiny_source, val_fraction=0.25, split_seed=4)
    assert len(a.val_set) == 128 and len(a.train_set) == 384
    assert torch.equal(a.val_set.images, b.val_set.images)
    assert not torch.equal(a.val_set.images, c.val_set.images)
    everything = torch.cat([a.train_set.images, a.val_set.images]).flatten(1)
    assert len(torch.unique(everything, dim=0)) == 512


def test_test_validation_uses_the_official_test_set(tmp_path: Path, tiny_source: Path) -> None:
    dm = _prepared(tmp_path, tiny_source, validation="test")
    assert len(dm.train_set) == 512 and dm.val_set is dm.test_set and len(dm.val_set) == 128


def _batches(dm: FashionMNISTDataModule, seed: int = 7) -> list:
    torch.manual_seed(seed)
    return [dm.on_after_batch_transfer(b, 0) for b in dm.train_dataloader()]


@pytest.mark.parametrize("shuffle", [True, False], ids=["shuffled-gathered", "in-order-views"])
def test_batched_and_per_sample_paths_give_the_same_numbers(shuffle: bool, tmp_path: Path, tiny_source: Path) -> None:
    fast = _prepared(tmp_path, tiny_source, batch_size=32, shuffle=shuffle, batched=True)
    slow = _prepared(tmp_path, tiny_source, batch_size=32, shuffle=shuffle, batched=False)
    assert type(fast.train_set).__name__ == "BatchedInMemoryImages"
    assert type(slow.train_set).__name__ == "InMemoryImages"
    held = fast.train_set.images.clone()
    fast_batches, slow_batches = _batches(fast), _batches(slow)
    assert len(fast_batches) == len(slow_batches) == 15  # 461 training samples after the split
    for (xf, yf), (xs, ys) in zip(fast_batches, slow_batches, strict=True):
        assert xf.dtype == torch.float32 and xf.shape[1:] == (1, 28, 28)
        assert torch.equal(xf, xs) and torch.equal(yf, ys)
    assert torch.equal(fast.train_set.images, held)  # in-order batches are views: scaling never writes into them
    images, _ = next(iter(fast.train_dataloader()))
    shares_memory = images.untyped_storage().data_ptr() == fast.train_set.images.untyped_storage().data_ptr()
    assert shares_memory == (not shuffle)
    if shuffle:  # shuffling really happens, and differs between seeds
        assert not torch.equal(_batches(fast, seed=8)[0][1], fast_batches[0][1])


def test_an_augmentation_working_in_place_leaves_the_dataset_as_it_was(tmp_path: Path, tiny_source: Path) -> None:
    def black_out(images: torch.Tensor) -> torch.Tensor:
        return images.zero_()

    dm = _prepared(tmp_path, tiny_source, batch_size=32, shuffle=False, train_augment=black_out)
    dm.trainer = SimpleNamespace(training=True)
    held = dm.train_set.images.clone()
    x, _ = _batches(dm)[0]
    assert not x.any()  # the augmentation ran
    assert torch.equal(dm.train_set.images, held)


def test_scaling_matches_the_tutorials_to_tensor(tmp_path: Path, tiny_source: Path) -> None:
    dm = _prepared(tmp_path, tiny_source, validation="test")
    x, _ = dm.on_after_batch_transfer(next(iter(dm.val_dataloader())), 0)
    tutorial = FashionMNIST(str(tmp_path / "data"), train=False, transform=ToTensor())
    assert torch.equal(x[0], tutorial[0][0])


def test_one_hot_targets(tmp_path: Path, tiny_source: Path) -> None:
    dm = _prepared(tmp_path, tiny_source, one_hot_targets=True)
    _, y = dm.on_after_batch_transfer(next(iter(dm.train_dataloader())), 0)
    assert y.shape == (64, 10) and y.dtype == torch.float32 and torch.all(y.sum(1) == 1)


def test_train_transforms_switch_to_the_per_sample_path(tmp_path: Path, tiny_source: Path) -> None:
    from torchvision.transforms import v2

    dm = _prepared(tmp_path, tiny_source, shuffle=False, train_transforms=[v2.RandomHorizontalFlip(p=1.0)])
    x, _ = next(iter(dm.train_dataloader()))
    assert x.dtype == torch.uint8
    assert torch.equal(x[0], dm.train_set.images[0].flip(-1))
