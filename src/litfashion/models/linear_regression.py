"""The tutorial's linear regression ``y_pred = a + b * x``, fitted by an optimizer on the mean squared error."""

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.cli import OptimizerCallable
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor, nn


class LinearRegression(LightningModule):
    """Two scalar parameters ``a`` and ``b``, started at random (``seed_everything``) as in the walk-through.

    The walk-through's third method: ``loss.backward()`` then ``optimizer.step()``, which Lightning runs for
    us. ``a`` and ``b`` are logged at each validation (``params/a``, ``params/b``) and printed when the fit ends.

    Args:
        optimizer: Any ``torch.optim`` optimizer by ``class_path``; the walk-through's is ``torch.optim.SGD``.
    """

    def __init__(self, optimizer: OptimizerCallable = torch.optim.SGD) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.randn(1))
        self.b = nn.Parameter(torch.randn(1))
        self.loss_fn = nn.MSELoss()
        self.optimizer = optimizer

    def forward(self, x: Tensor) -> Tensor:
        return self.a + self.b * x

    def loss(self, batch: tuple[Tensor, Tensor]) -> Tensor:
        x, y = batch
        return self.loss_fn(self(x), y)

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        loss = self.loss(batch)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self.log("val/loss", self.loss(batch))

    def on_validation_epoch_end(self) -> None:
        self.log("params/a", self.a.detach().squeeze())
        self.log("params/b", self.b.detach().squeeze())

    def on_fit_end(self) -> None:
        rank_zero_info(f"fitted a = {self.a.item():.4f}, b = {self.b.item():.4f}")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return self.optimizer(self.parameters())
