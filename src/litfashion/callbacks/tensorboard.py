"""Finding the run's TensorBoard writer (callbacks stand aside under other loggers or none), and when to draw."""

from lightning.pytorch import Trainer
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.trainer.states import TrainerFn
from torch.utils.tensorboard import SummaryWriter


def summary_writer(trainer: Trainer) -> SummaryWriter | None:
    """The first TensorBoardLogger's writer on rank zero; ``None`` on other ranks or without TensorBoard."""
    if not trainer.is_global_zero:
        return None
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            return logger.experiment
    return None


def epoch_due(trainer: Trainer, every_n_epochs: int) -> bool:
    """Whether this validation epoch gets figures: every ``every_n_epochs``-th while fitting, always otherwise."""
    if trainer.sanity_checking:
        return False
    return trainer.state.fn != TrainerFn.FITTING or (trainer.current_epoch + 1) % every_n_epochs == 0
