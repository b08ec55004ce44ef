"""Micro-benchmark of the per-step pieces changed for issue 4: their cost in microseconds, on one CPU thread.

python benchmarks/step_parts.py
"""

import time
from collections.abc import Callable

import torch
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
    print("| per step | us |\n|---|---:|")
    for name, us in rows:
        print(f"| {name} | {us:.1f} |")


if __name__ == "__main__":
    main()
