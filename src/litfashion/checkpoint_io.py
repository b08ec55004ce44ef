"""Checkpoints written atomically: on disk, a checkpoint is the old complete file or the new complete one."""

from pathlib import Path
from typing import Any

import torch
from fsspec.implementations.local import LocalFileSystem
from lightning.fabric.utilities.cloud_io import get_filesystem
from lightning.pytorch.plugins.io import TorchCheckpointIO

from litfashion.atomic import atomic_open


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's ``TorchCheckpointIO``, writing local files through ``litfashion.atomic``.

    Lightning's own save goes through fsspec, whose local "transaction" copies the finished buffer over the target
    (a full disk leaves a truncated checkpoint where the last good one was); here a failed write leaves the old
    file and raises ``WriteError`` naming the path and the cause. Remote paths (``s3://``) keep Lightning's save.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None or not isinstance(get_filesystem(path), LocalFileSystem):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        with atomic_open(Path(path), "wb", what="checkpoint") as handle:
            torch.save(checkpoint, handle)
