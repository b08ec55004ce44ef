"""Finding the run's TensorBoard writer, so callbacks stand aside under other loggers or none."""

from lightning.pytorch import Trainer
from lightning.pytorch.loggers import TensorBoardLogger
from torch.utils.tensorboard import SummaryWriter


def summary_writer(trainer: Trainer) -> SummaryWriter | None:
    """The first TensorBoardLogger's writer on rank zero; ``None`` on other ranks or without TensorBoard."""
    if not trainer.is_global_zero:
        return None
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            return logger.experiment
    return None
