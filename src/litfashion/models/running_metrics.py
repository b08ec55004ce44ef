"""Training loss and accuracy for the epoch, at the cost of one small in-place add per step."""

import torch
from torch import Tensor
from torchmetrics import Metric


class LossAndAccuracy(Metric):
    """Sample-weighted mean loss and accuracy, synced across DDP ranks by torchmetrics (sum of the states).

    Updated every training step, so it does what ``MeanMetric`` + ``MulticlassAccuracy`` would with a
    fraction of their per-call checks and conversions (timed side by side by ``benchmarks/step_parts.py`` at
    commit f477bd3), and never reads a value
    back from the device, so a GPU is not made to wait.
    """

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        # Three scalars, not one buffer: each add then needs no view of a buffer element.
        self.add_state("loss_sum", default=torch.zeros(()), dist_reduce_fx="sum")  # loss x samples
        self.add_state("correct", default=torch.zeros((), dtype=torch.int64), dist_reduce_fx="sum")
        self.add_state("samples", default=torch.zeros((), dtype=torch.int64), dist_reduce_fx="sum")

    def update(self, loss: Tensor, logits: Tensor, target: Tensor) -> None:
        n = len(target)
        self.loss_sum.add_(loss.detach(), alpha=n)
        self.correct.add_((logits.detach().argmax(dim=1) == target).sum())
        self.samples.add_(n)

    def compute(self) -> tuple[Tensor, Tensor]:
        return self.loss_sum / self.samples, self.correct / self.samples
