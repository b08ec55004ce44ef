"""A test-only callback that writes down, per rank and epoch, the indices its sampler gave and the labels seen."""

import json
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer


class RecordShards(Callback):
    """Writes ``{out}/rank{R}.json``: the loader's dataset and collate, and per epoch its indices and batch labels."""

    def __init__(self, out: str) -> None:
        self.out = Path(out)
        self.epochs: list[dict[str, list[int]]] = []

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.epochs.append({"indices": [int(i) for i in trainer.train_dataloader.sampler], "labels": []})

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: Any, batch_idx: int) -> None:
        self.epochs[-1]["labels"].extend(int(label) for label in batch[1])

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        loader = trainer.train_dataloader
        record = {
            "world_size": trainer.world_size,
            "sampler": type(loader.sampler.sampler).__name__,  # what the resumable loader's SkippingSampler wraps
            "dataset": type(loader.dataset).__name__,
            "collate_fn": loader.collate_fn.__name__,
            "epochs": self.epochs,
        }
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / f"rank{trainer.global_rank}.json").write_text(json.dumps(record))
