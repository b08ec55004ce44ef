"""FashionMNIST as a LightningDataModule: offline-first data, in-memory uint8 batches, scaling on the device."""

from pathlib import Path
from typing import Literal

from lightning.pytorch import LightningDataModule
from torch import Tensor, nn
from torchvision.datasets import FashionMNIST

from litfashion.data import idx_files
from litfashion.data.augment import BatchAugment
from litfashion.data.device_scaling import ScaleOnDevice
from litfashion.data.in_memory import BatchedInMemoryImages, InMemoryImages
from litfashion.data.split import holdout_split
from litfashion.data.stage_loaders import StageLoaders, check_loader_settings
from litfashion.errors import ConfigError

# Mean and std of the training images scaled to [0, 1].
FASHION_MNIST_MEAN = 0.2860
FASHION_MNIST_STD = 0.3530


class FashionMNISTDataModule(StageLoaders, ScaleOnDevice, LightningDataModule):
    """The tutorial's ``datasets.FashionMNIST`` + ``ToTensor`` + ``DataLoader``, as one configurable module.

    Args:
        data_dir: Where the dataset lives (``data_dir/FashionMNIST/raw``), and where it is unpacked to.
        source_dir: A folder with the four ``*-ubyte.gz`` files; else ``$LITFASHION_FASHION_MNIST_DIR``, else
            Debian's ``/usr/share/datasets/fashion-mnist``.
        download: Try torchvision's download when no local copy is found.
        batch_size: Samples per training batch on each device.
        eval_batch_size: Samples per validation/test/predict batch; defaults to ``batch_size``.
        validation: ``"test"`` evaluates each epoch on the official 10k test set, as the tutorial does;
            ``"split"`` holds out ``val_fraction`` of the training set, chosen by ``split_seed``.
        val_fraction: Share of the training set held out when ``validation="split"``.
        split_seed: Seed of the held-out split; the same on every rank.
        shuffle: Reshuffle the training set every epoch (the tutorial does not).
        normalize: Standardize pixels with the training set's mean and std after scaling to [0, 1].
        one_hot_targets: Give the model one-hot float targets, as the tutorial's ``target_transform`` does.
        train_transforms: Per-sample transforms (e.g. ``torchvision.transforms.v2.RandomHorizontalFlip``) on
            ``uint8 [1, 28, 28]`` images; setting any switches training to the per-sample path.
        train_augment: Augmentation of whole training batches on the device (e.g. ``BatchAugment``: random
            flips and shifts); unlike ``train_transforms`` it keeps the fast batched path.
        batched: Gather whole batches from the in-memory tensor (fast path) instead of sample by sample.
        num_workers: DataLoader worker processes; 0 is fastest for the in-memory path.
        pin_memory: Pin host memory for faster transfers to a GPU.
    """

    def __init__(
        self,
        data_dir: str = "data",
        source_dir: str | None = None,
        download: bool = True,
        batch_size: int = 64,
        eval_batch_size: int | None = None,
        validation: Literal["test", "split"] = "split",
        val_fraction: float = 0.1,
        split_seed: int = 0,
        shuffle: bool = True,
        normalize: bool = False,
        one_hot_targets: bool = False,
        train_transforms: list[nn.Module] | None = None,
        train_augment: BatchAugment | None = None,
        batched: bool = True,
        num_workers: int = 0,
        pin_memory: bool = False,
    ) -> None:
        super().__init__()
        check_loader_settings(batch_size, eval_batch_size, num_workers)
        if validation == "split" and not 0 < val_fraction < 1:
            raise ConfigError(f"data.val_fraction must be in (0, 1), got {val_fraction}")
        self.save_hyperparameters(ignore=["train_transforms", "train_augment"])
        self.input_shape = [1, 28, 28]
        self.class_names = list(FashionMNIST.classes)
        self.num_classes = len(self.class_names)
        self.data_dir = Path(data_dir).expanduser()
        self.source_dir = source_dir
        self.download = download
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or batch_size
        self.validation = validation
        self.val_fraction = val_fraction
        self.split_seed = split_seed
        self.shuffle = shuffle
        self.normalize = normalize
        self.one_hot_targets = one_hot_targets
        self.train_transform = nn.Sequential(*train_transforms) if train_transforms else None
        self.train_augment = train_augment
        self.batched = batched
        self.num_workers = num_workers
        self.pin_memory = pin_memory

    def prepare_data(self) -> None:
        """Make sure ``data_dir`` holds the dataset: keep it, unpack a local copy, or download (rank zero)."""
        target = idx_files.raw_dir(self.data_dir)
        problems = idx_files.dataset_problems(target)
        if not problems:
            return
        tried = problems[:1]
        source_problems = idx_files.unpack_from(idx_files.resolve_source(self.source_dir), target)
        if not source_problems:
            return
        tried.extend(source_problems[:1])
        if self.download:
            try:
                FashionMNIST(self.data_dir, download=True)
                return
            except Exception as err:  # torchvision raises bare RuntimeError/URLError per mirror
                tried.append(f"download: failed ({str(err).splitlines()[0]})")
        else:
            tried.append("download: disabled (data.download is false)")
        raise idx_files.not_found(self.data_dir, tried)

    def _load(self, train: bool) -> tuple[Tensor, Tensor]:
        dataset = FashionMNIST(self.data_dir, train=train, download=False)
        return dataset.data, dataset.targets

    def setup(self, stage: str) -> None:
        if stage in ("fit", "validate") and self.train_set is None:
            images, targets = self._load(train=True)
            if self.validation == "split":
                val_idx, train_idx = holdout_split(len(targets), self.val_fraction, self.split_seed)
                self.val_set = self._dataset(images[val_idx], targets[val_idx])
                images, targets = images[train_idx], targets[train_idx]
            self.train_set = self._dataset(images, targets, self.train_transform)
        if self.test_set is None and (
            stage in ("test", "predict") or (stage in ("fit", "validate") and self.validation == "test")
        ):
            self.test_set = self._dataset(*self._load(train=False))
            if self.validation == "test":
                self.val_set = self.test_set
        self.predict_set = self.test_set

    def _dataset(self, images: Tensor, targets: Tensor, transform: nn.Module | None = None) -> InMemoryImages:
        if transform is None and self.batched:
            return BatchedInMemoryImages(images, targets)
        return InMemoryImages(images, targets, transform)

    def standardize(self, images: Tensor) -> Tensor:
        if self.normalize:
            images = images.sub_(FASHION_MNIST_MEAN).div_(FASHION_MNIST_STD)
        return images
