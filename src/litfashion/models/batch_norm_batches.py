"""BatchNorm cannot normalize a batch of one sample in training: refuse a data size that would end an epoch with one."""

import math

from torch import nn

from litfashion.errors import ConfigError

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


def check_last_training_batch(net: nn.Module, train_size: int, batch_size: int, world_size: int = 1) -> None:
    """Raise before the first step, not at the end of the first epoch; each rank's share is padded to the same
    length (``DistributedSampler``), so its last batch holds ``ceil(train_size / world_size) % batch_size``."""
    if not any(isinstance(module, BATCH_NORMS) for module in net.modules()):
        return
    per_rank = math.ceil(train_size / world_size)
    if per_rank % batch_size == 1:
        where = f" per process ({world_size} processes)" if world_size > 1 else ""
        raise ConfigError(
            f"model.net has BatchNorm layers and each training epoch would end with a batch of 1 image "
            f"({per_rank} training images{where}, data.init_args.batch_size {batch_size}); BatchNorm cannot train "
            f"on one image: choose another batch_size"
        )
