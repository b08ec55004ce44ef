"""FashionMNIST as a LightningDataModule: offline-first data, in-memory uint8 batches, scaling on the device."""

from pathlib import Path
from typing import Literal

from torch import Tensor, nn
from torchvision.datasets import FashionMNIST

from litfashion.config_paths import ConfigPath
from litfashion.data import idx_files
from litfashion.data.augment import BatchAugment
from litfashion.data.base import ImageDataModule
from litfashion.data.split import holdout_split
from litfashion.errors import ConfigError

# Mean and std of the training images scaled to [0, 1].
FASHION_MNIST_MEAN = 0.2860
FASHION_MNIST_STD = 0.3530


class FashionMNISTDataModule(ImageDataModule):
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
        source_dir: ConfigPath | None = None,
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
        super().__init__(train_transforms, train_augment)
        if validation == "split" and not 0 < val_fraction < 1:
            raise ConfigError(f"data.val_fraction must be in (0, 1), got {val_fraction}")
        self.input_shape = [1, 28, 28]
        self.class_names = list(FashionMNIST.classes)
        self.num_classes = len(self.class_names)

    @property
    def data_dir(self) -> Path:
        return Path(self.hparams.data_dir).expanduser()

    def prepare_data(self) -> None:
        """Make sure ``data_dir`` holds the dataset: keep it, unpack a local copy, or download (rank zero)."""
        target = idx_files.raw_dir(self.data_dir)
        problems = idx_files.dataset_problems(target)
        if not problems:
            return
        tried = problems[:1]
        source_problems = idx_files.unpack_from(idx_files.resolve_source(self.hparams.source_dir), target)
        if not source_problems:
            return
        tried.extend(source_problems[:1])
        if self.hparams.download:
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
            if self.hparams.validation == "split":
                val_idx, train_idx = holdout_split(len(targets), self.hparams.val_fraction, self.hparams.split_seed)
                self.val_set = self.in_memory(images[val_idx], targets[val_idx])
                images, targets = images[train_idx], targets[train_idx]
            self.train_set = self.in_memory(images, targets, self.train_transform)
        if self.test_set is None and (
            stage in ("test", "predict") or (stage in ("fit", "validate") and self.hparams.validation == "test")
        ):
            self.test_set = self.in_memory(*self._load(train=False))
            if self.hparams.validation == "test":
                self.val_set = self.test_set
        self.predict_set = self.test_set

    def standardize(self, images: Tensor) -> Tensor:
        if self.hparams.normalize:
            images = images.sub_(FASHION_MNIST_MEAN).div_(FASHION_MNIST_STD)
        return images
