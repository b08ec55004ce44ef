"""A callback that counts the Python function calls per training step (cProfile), to find per-step overhead.

    PYTHONPATH=src:benchmarks python -m litfashion fit --config configs/fashion_mnist.yaml \\
        --trainer.max_epochs 1 --trainer.limit_train_batches 200 --trainer.callbacks+=call_count.CallCount

Call counts, unlike timings, do not change with the machine's load. The epoch's profile is written to
``call_count.prof`` (read it with ``python -m pstats call_count.prof``).
"""

import cProfile
import pstats
import sys
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer


class CallCount(Callback):
    def __init__(self, output: str = "call_count.prof") -> None:
        self.output = output
        self._profile: cProfile.Profile | None = None
        self._steps = 0

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._steps = 0
        self._profile = cProfile.Profile()
        self._profile.enable()

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self._steps += 1
        if self._steps == trainer.num_training_batches and self._profile is not None:
            self._profile.disable()  # before the validation that runs inside the epoch

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._profile is None or not self._steps:
            return
        self._profile.disable()
        stats = pstats.Stats(self._profile)
        stats.dump_stats(self.output)
        print(f"Python calls per training step: {stats.total_calls / self._steps:.0f}", file=sys.stderr)
        self._profile = None
