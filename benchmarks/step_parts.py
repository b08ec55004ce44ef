"""Micro-benchmark of the per-step pieces changed for issue 4: their cost in microseconds, on one CPU thread.

python benchmarks/step_parts.py

The last rows are Lightning's own: at every training step (automatic optimization) the Trainer calls six
hooks (``on_train_batch_start``, ``on_before_zero_grad``, ``on_before_backward``, ``on_after_backward``,
``on_before_optimizer_step``, ``on_train_batch_end``) on every callback, whether it overrides them or not.
"""

import time
from collections.abc import Callable

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.trainer import call
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from litfashion.models.running_metrics import LossAndAccuracy


def microseconds(function: Callable[[], object], n: int = 3000) -> float:
    for _ in range(200):
        function()
    start = time.process_time()
    for _ in range(n):
        function()
    return (time.process_time() - start) / n * 1e6


HOOKS_PER_STEP = 6


def hook_dispatch(callbacks: list[pl.Callback]) -> Callable[[], None]:
    """One step's six hook dispatches of a Trainer holding ``callbacks`` (none of which does anything)."""
    trainer = pl.Trainer(
        logger=False,
        enable_checkpointing=any(isinstance(cb, ModelCheckpoint) for cb in callbacks),
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=callbacks,
    )
    trainer.strategy.connect(pl.LightningModule())

    def step() -> None:
        for _ in range(HOOKS_PER_STEP):
            call._call_callback_hooks(trainer, "on_before_backward", None)

    return step


def main() -> None:
    torch.set_num_threads(1)
    logits, target, loss = torch.randn(64, 10), torch.randint(0, 10, (64,)), torch.tensor(2.3)
    mean, accuracy = MeanMetric(nan_strategy="disable"), MulticlassAccuracy(10, average="micro", validate_args=False)
    sums = torch.zeros(2)
    running = LossAndAccuracy()

    def torchmetrics_updates() -> None:
        mean.update(loss, weight=64)
        accuracy.update(logits, target)

    def running_metric() -> None:
        running.update(loss, logits, target)

    def buffer_add() -> None:
        sums.add_(torch.stack((loss * 64, (logits.argmax(dim=1) == target).sum())))

    images = torch.randint(0, 256, (60000, 1, 28, 28), dtype=torch.uint8)
    index = torch.arange(6400, 6464)
    rows = [
        ("training loss + accuracy: MeanMetric + MulticlassAccuracy updates", microseconds(torchmetrics_updates)),
        ("training loss + accuracy: one add into a 2-element buffer", microseconds(buffer_add)),
        ("training loss + accuracy: LossAndAccuracy (a torchmetrics Metric)", microseconds(running_metric)),
        ("gather 64 uint8 images: images[index]", microseconds(lambda: images[index])),
        ("gather 64 uint8 images: images.index_select(0, index)", microseconds(lambda: images.index_select(0, index))),
    ]
    n_callbacks = 10
    empty = microseconds(hook_dispatch([]), n=1000)
    plain = microseconds(hook_dispatch([pl.Callback() for _ in range(n_callbacks)]), n=1000)
    checkpoints = [ModelCheckpoint(monitor=f"metric_{i}") for i in range(n_callbacks)]
    checkpoint = microseconds(hook_dispatch(checkpoints), n=1000)
    rows += [
        ("Lightning: 6 hook dispatches, no callbacks", empty),
        ("Lightning: 6 hook dispatches, per Callback that does nothing", (plain - empty) / n_callbacks),
        ("Lightning: 6 hook dispatches, per ModelCheckpoint (idle between epochs)", (checkpoint - empty) / n_callbacks),
    ]
    print("| per step | us |\n|---|---:|")
    for name, us in rows:
        print(f"| {name} | {us:.1f} |")


if __name__ == "__main__":
    main()
