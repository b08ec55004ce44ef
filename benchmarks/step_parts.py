"""Micro-benchmark of the per-step pieces changed for issues 4 and 13: their cost in microseconds, on one CPU thread.

python benchmarks/step_parts.py

Lightning's rows: at every training step (automatic optimization) the Trainer calls six hooks
(``on_train_batch_start``, ``on_before_zero_grad``, ``on_before_backward``, ``on_after_backward``,
``on_before_optimizer_step``, ``on_train_batch_end``) on every callback, whether it overrides them or not, each
inside ``trainer.profiler.profile(...)`` and named with the callback's ``state_key``; around every hook it calls it
also sets and restores the LightningModule's ``_current_fx_name``.
"""

import argparse
import logging
import time
from collections.abc import Callable
from types import SimpleNamespace

import lightning.pytorch as pl
import torch
from bare_lightning import bare_trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.profilers import PassThroughProfiler, Profiler
from lightning.pytorch.trainer import call
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from litfashion.callbacks import StopOnNonFiniteLoss
from litfashion.callbacks.finite_loss import NO_BAD_STEP
from litfashion.callbacks.model_checkpoint import ModelCheckpoint as CachedKeyCheckpoint
from litfashion.data.in_memory import BatchedInMemoryImages, make_loader
from litfashion.models import ImageClassifier
from litfashion.models.running_metrics import LossAndAccuracy
from litfashion.no_profiler import NoProfiler
from litfashion.quiet import quiet_third_party

HOOKS_PER_STEP = 6
N_CALLBACKS = 10


def microseconds(function: Callable[[], object], n: int) -> float:
    for _ in range(max(n // 10, 1)):
        function()
    start = time.process_time()
    for _ in range(n):
        function()
    return (time.process_time() - start) / n * 1e6


def hook_dispatch(callbacks: list[pl.Callback], profiler: Profiler) -> Callable[[], None]:
    """One step's six hook dispatches of a Trainer holding ``callbacks`` (none of which does anything)."""
    checkpointing = any(isinstance(cb, ModelCheckpoint) for cb in callbacks)
    trainer = bare_trainer(callbacks, enable_checkpointing=checkpointing, profiler=profiler)
    trainer.strategy.connect(pl.LightningModule())

    def step() -> None:
        for _ in range(HOOKS_PER_STEP):
            call._call_callback_hooks(trainer, "on_before_backward", None)

    return step


def per_callback(make: Callable[[int], pl.Callback], profiler: Profiler, n: int) -> float:
    """Six dispatches' cost per callback made by ``make``, over a Trainer without callbacks."""
    empty = microseconds(hook_dispatch([], profiler), n)
    full = microseconds(hook_dispatch([make(i) for i in range(N_CALLBACKS)], profiler), n)
    return (full - empty) / N_CALLBACKS


def nan_check(read_each_loss: bool, loss: torch.Tensor) -> Callable[[], None]:
    """``StopOnNonFiniteLoss.on_train_batch_end`` on a finite loss: read at once, or folded into a flag."""
    check = StopOnNonFiniteLoss()
    check._read_each_loss, check._every = read_each_loss, 1 << 62
    check._first_bad = torch.tensor(NO_BAD_STEP)
    trainer = SimpleNamespace(global_step=1)
    return lambda: check.on_train_batch_end(trainer, None, loss, None, 0)


def next_batch(images: torch.Tensor, targets: torch.Tensor) -> Callable[[], object]:
    """The next batch of 64 from litfashion's in-memory DataLoader, in order, starting over at the end."""
    loader = make_loader(BatchedInMemoryImages(images, targets), batch_size=64, shuffle=False)
    batches = iter(loader)

    def step() -> object:
        nonlocal batches
        try:
            return next(batches)
        except StopIteration:
            batches = iter(loader)
            return next(batches)

    return step


def quiet() -> None:
    """litfashion's filters for third-party notices, and no "GPU available" lines from each Trainer built here."""
    quiet_third_party()
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)


def rows(n: int) -> list[tuple[str, float]]:
    torch.set_num_threads(1)
    logits, target, loss = torch.randn(64, 10), torch.randint(0, 10, (64,)), torch.tensor(2.3)
    mean, accuracy = MeanMetric(nan_strategy="disable"), MulticlassAccuracy(10, average="micro", validate_args=False)
    sums = torch.zeros(2)
    running = LossAndAccuracy()

    def torchmetrics_updates() -> None:
        mean.update(loss, weight=64)
        accuracy.update(logits, target)

    def buffer_add() -> None:
        sums.add_(torch.stack((loss * 64, (logits.argmax(dim=1) == target).sum())))

    images = torch.randint(0, 256, (60000, 1, 28, 28), dtype=torch.uint8)
    index = torch.arange(6400, 6464)
    module, classifier = pl.LightningModule(), ImageClassifier()

    def bookkeeping(model: pl.LightningModule) -> Callable[[], None]:
        def set_name() -> None:
            model._current_fx_name = "on_before_backward"

        return set_name

    passthrough, no_profiler = PassThroughProfiler(), NoProfiler()
    dispatch = "Lightning: 6 hook dispatches"
    return [
        ("training loss + accuracy: MeanMetric + MulticlassAccuracy updates", microseconds(torchmetrics_updates, n)),
        ("training loss + accuracy: one add into a 2-element buffer", microseconds(buffer_add, n)),
        (
            "training loss + accuracy: LossAndAccuracy (a torchmetrics Metric)",
            microseconds(lambda: running.update(loss, logits, target), n),
        ),
        ("gather 64 uint8 images: images[index]", microseconds(lambda: images[index], n)),
        (
            "gather 64 uint8 images: images.index_select(0, index)",
            microseconds(lambda: images.index_select(0, index), n),
        ),
        ("64 uint8 images in order: slices (views)", microseconds(lambda: images[6400:6464], n)),
        (
            "DataLoader: the next 64 in-memory images in order",
            microseconds(next_batch(images, torch.zeros(len(images), dtype=torch.int64)), n),
        ),
        ("scaling 64 uint8 images: float().div_(255)", microseconds(lambda: images[6400:6464].float().div_(255), n)),
        ("NaN check: isfinite folded into a flag tensor", microseconds(nan_check(False, loss), n)),
        ("NaN check: math.isfinite(loss.item())", microseconds(nan_check(True, loss), n)),
        ("hook-name bookkeeping, one set: nn.Module.__setattr__", microseconds(bookkeeping(module), n)),
        ("hook-name bookkeeping, one set: ImageClassifier.__setattr__", microseconds(bookkeeping(classifier), n)),
        (
            f"{dispatch}, no callbacks (PassThroughProfiler)",
            microseconds(hook_dispatch([], passthrough), n),
        ),
        (f"{dispatch}, no callbacks (NoProfiler)", microseconds(hook_dispatch([], no_profiler), n)),
        (
            f"{dispatch}, per Callback that does nothing (PassThroughProfiler)",
            per_callback(lambda i: pl.Callback(), passthrough, n),
        ),
        (
            f"{dispatch}, per Callback that does nothing (NoProfiler)",
            per_callback(lambda i: pl.Callback(), no_profiler, n),
        ),
        (
            f"{dispatch}, per Lightning ModelCheckpoint (PassThroughProfiler)",
            per_callback(lambda i: ModelCheckpoint(monitor=f"metric_{i}"), passthrough, n),
        ),
        (
            f"{dispatch}, per Lightning ModelCheckpoint (NoProfiler)",
            per_callback(lambda i: ModelCheckpoint(monitor=f"metric_{i}"), no_profiler, n),
        ),
        (
            f"{dispatch}, per litfashion ModelCheckpoint (NoProfiler, state_key built once)",
            per_callback(lambda i: CachedKeyCheckpoint(monitor=f"metric_{i}"), no_profiler, n),
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=3000, help="timed calls per row")
    args = parser.parse_args(argv)
    quiet()
    print("| per step | us |\n|---|---:|")
    for name, us in rows(args.calls):
        print(f"| {name} | {us:.1f} |")


if __name__ == "__main__":
    main()
