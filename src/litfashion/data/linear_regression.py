"""The tutorial's synthetic regression data: ``y = a + b * x + noise``, shuffled into train and validation."""

import torch
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader, TensorDataset

from litfashion.errors import ConfigError


class LinearRegressionData(LightningDataModule):
    """``num_points`` samples ``x ~ N(0, 1)``, ``y = true_a + true_b * x + noise_std * N(0, 1)``, from ``seed``.

    As in the walk-through, ``val_fraction`` of a random order is held out for validation, and training is
    full-batch (one batch per epoch) unless ``batch_size`` says otherwise.

    Args:
        num_points: Samples drawn in all, training and validation together.
        val_fraction: Share of the samples held out for validation, in (0, 1).
        true_a: The intercept the model should find.
        true_b: The slope the model should find.
        noise_std: Standard deviation of the Gaussian noise added to ``y``.
        seed: Seed of the samples and of the held-out order (independent of ``seed_everything``).
        batch_size: Samples per training batch; ``null`` trains full-batch, one step an epoch.
    """

    def __init__(
        self,
        num_points: int = 100,
        val_fraction: float = 0.2,
        true_a: float = 1.0,
        true_b: float = 2.0,
        noise_std: float = 0.1,
        seed: int = 42,
        batch_size: int | None = None,
    ) -> None:
        super().__init__()
        if num_points < 2:
            raise ConfigError(f"data.num_points must be >= 2, got {num_points}")
        if not 0 < val_fraction < 1:
            raise ConfigError(f"data.val_fraction must be in (0, 1), got {val_fraction}")
        if noise_std < 0:
            raise ConfigError(f"data.noise_std must be >= 0, got {noise_std}")
        if batch_size is not None and batch_size < 1:
            raise ConfigError(f"data.batch_size must be >= 1, got {batch_size}")
        self.save_hyperparameters()
        generator = torch.Generator().manual_seed(seed)
        x = torch.randn(num_points, 1, generator=generator)
        y = true_a + true_b * x + noise_std * torch.randn(num_points, 1, generator=generator)
        order = torch.randperm(num_points, generator=generator)
        n_train = num_points - max(1, round(val_fraction * num_points))
        train_idx, val_idx = order[:n_train], order[n_train:]
        self.train_set = TensorDataset(x[train_idx], y[train_idx])
        self.val_set = TensorDataset(x[val_idx], y[val_idx])
        self.batch_size = batch_size

    def _loader(self, dataset: TensorDataset, shuffle: bool = False) -> DataLoader:
        return DataLoader(dataset, batch_size=self.batch_size or len(dataset), shuffle=shuffle)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=self.batch_size is not None)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set)
