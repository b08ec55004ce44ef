"""A short summary in the terminal when fit ends: best accuracy, checkpoints, and how to open TensorBoard."""

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.loggers import TensorBoardLogger
from rich import get_console
from rich.table import Table


class RunSummary(Callback):
    """Prints best ``val/acc``, the checkpoint paths, the log directory and the ``tensorboard`` command.

    Rank zero only.

    Args:
        enabled: ``false`` leaves it out of the run (the CLI drops it before the Trainer is built).
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        log_dir = trainer.log_dir  # a broadcast under DDP: every rank must take part, or rank zero waits forever
        if not trainer.is_global_zero:
            return
        table = Table(title="Run summary", show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column()
        best = trainer.callback_metrics.get("val/acc_best")
        if best is not None:
            table.add_row("best val/acc", f"{best.item():.4f}")
        checkpoint = trainer.checkpoint_callback
        if checkpoint is not None and getattr(checkpoint, "best_model_path", ""):
            score = checkpoint.best_model_score
            scored = f" ({checkpoint.monitor} = {score.item():.4f})" if score is not None else ""
            table.add_row("best checkpoint", f"{checkpoint.best_model_path}{scored}")
        # last.ckpt comes from the unmonitored `last_checkpoint` callback (or a `save_last` one).
        last = next(
            (cb.best_model_path for cb in trainer.checkpoint_callbacks if cb.monitor is None and cb.best_model_path),
            getattr(checkpoint, "last_model_path", ""),
        )
        if last:
            table.add_row("last checkpoint", last)
        if log_dir:
            table.add_row("log directory", log_dir)
        tensorboard = next((lg for lg in trainer.loggers if isinstance(lg, TensorBoardLogger)), None)
        if tensorboard is not None:
            table.add_row("open in TensorBoard", f"tensorboard --logdir {tensorboard.root_dir}")
        if trainer.progress_bar_callback is not None:
            # Let the progress bar draw its final state first (it would at teardown), so the summary comes last.
            trainer.progress_bar_callback.teardown(trainer, pl_module, "fit")
        get_console().print(table)
