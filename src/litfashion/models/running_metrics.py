"""Training loss and accuracy for the epoch, at the cost of one small in-place add per step."""

import torch
from torch import Tensor
from torchmetrics import Metric


class LossAndAccuracy(Metric):
    """Sample-weighted mean loss and accuracy, synced across DDP ranks by torchmetrics (sum of the states).

    Updated every training step, so it does what ``MeanMetric`` + ``MulticlassAccuracy`` would with a
    fraction of their per-call checks and conversions (``benchmarks/step_parts.py``), and never reads a value
    back from the device, so a GPU is not made to wait.
    """

    full_state_update = False

    def __init__(self) -> None:
        super().__init__()
        self.add_state("sums", default=torch.zeros(3), dist_reduce_fx="sum")  # loss x samples, correct, samples

    def update(self, loss: Tensor, logits: Tensor, target: Tensor) -> None:
        n = len(target)
        # In place on views of the buffer: `sums[i] += x` would also copy each result back with __setitem__.
        self.sums[0].add_(loss.detach(), alpha=n)
        self.sums[1].add_((logits.detach().argmax(dim=1) == target).sum())
        self.sums[2].add_(n)

    def compute(self) -> tuple[Tensor, Tensor]:
        loss_sum, correct, samples = self.sums
        return loss_sum / samples, correct / samples
