"""One DataLoader recipe for every stage of the image data modules."""

from torch.utils.data import DataLoader, Dataset

from litfashion.data.in_memory import BatchedInMemoryImages, make_loader
from litfashion.errors import ConfigError


def check_loader_settings(batch_size: int, eval_batch_size: int | None, num_workers: int) -> None:
    """The DataLoader knobs every image data module takes, checked when the module is built."""
    if batch_size < 1:
        raise ConfigError(f"data.batch_size must be >= 1, got {batch_size}")
    if eval_batch_size is not None and eval_batch_size < 1:
        raise ConfigError(f"data.eval_batch_size must be >= 1, got {eval_batch_size}")
    if num_workers < 0:
        raise ConfigError(f"data.num_workers must be >= 0, got {num_workers}")


class StageLoaders:
    """Mixin: the four ``*_dataloader`` hooks, built from the ``*_set`` datasets that ``setup`` fills.

    Training batches are shuffled when ``shuffle`` is set; evaluation uses ``eval_batch_size``. An in-memory
    batched dataset is read in the main process: a batch is one gather, and worker processes would only copy it.
    """

    batch_size: int
    eval_batch_size: int
    shuffle: bool
    num_workers: int
    pin_memory: bool
    train_set: Dataset | None = None
    val_set: Dataset | None = None
    test_set: Dataset | None = None
    predict_set: Dataset | None = None

    def _loader(self, dataset: Dataset | None, train: bool = False) -> DataLoader:
        if dataset is None:
            raise RuntimeError("the data module's setup() must run before its dataloaders are requested")
        return make_loader(
            dataset,
            batch_size=self.batch_size if train else self.eval_batch_size,
            shuffle=self.shuffle and train,
            num_workers=0 if isinstance(dataset, BatchedInMemoryImages) else self.num_workers,
            pin_memory=self.pin_memory,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set)

    def predict_dataloader(self) -> DataLoader:
        return self._loader(self.predict_set)
