"""On Ctrl-C (SIGINT), saves a checkpoint before Lightning shuts the run down."""

from pathlib import Path

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities.rank_zero import rank_zero_info


class CheckpointOnInterrupt(Callback):
    """Writes ``filename`` next to the run's other checkpoints when training is interrupted with Ctrl-C.

    Lightning catches ``KeyboardInterrupt``, calls ``on_exception`` on callbacks, then exits with status 1.
    Only an interrupt saves: after other errors (a NaN loss) the weights may be broken, and the last
    good checkpoint is the one to keep. The checkpoint is usually mid-epoch: resuming from it continues
    where training stopped, but is not bit-exact (``--ckpt_path last`` resumes exactly from the last epoch end).
    """

    def __init__(self, filename: str = "interrupted.ckpt") -> None:
        super().__init__()
        self.filename = filename
        self.path: Path | None = None

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, KeyboardInterrupt) or trainer.state.fn != TrainerFn.FITTING:
            return
        checkpoint = trainer.checkpoint_callback
        folder = Path(checkpoint.dirpath) if checkpoint and checkpoint.dirpath else Path(trainer.log_dir or ".")
        self.path = folder / self.filename
        trainer.save_checkpoint(self.path)
        rank_zero_info(
            f"Interrupted at step {trainer.global_step} (epoch {trainer.current_epoch}); checkpoint written to "
            f"{self.path}. Continue from it with `--ckpt_path {self.path}`."
        )
