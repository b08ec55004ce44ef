"""On Ctrl-C (SIGINT) or a preemption (SIGTERM), saves a checkpoint before Lightning shuts the run down."""

import shlex
from collections.abc import Sequence
from pathlib import Path

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities.exceptions import SIGTERMException
from lightning.pytorch.utilities.rank_zero import rank_zero_info

from litfashion.lightning_compat import sigterm_without_broadcast


class CheckpointOnInterrupt(Callback):
    """Writes ``filename`` next to the run's other checkpoints when training is interrupted.

    Lightning catches ``KeyboardInterrupt`` (Ctrl-C) and, after its own SIGTERM handler, raises
    ``SIGTERMException`` at the end of the step (every DDP rank at the same step: ``sigterm_without_broadcast``);
    both reach ``on_exception``.
    Only these save: after other errors (a NaN loss, a full disk) the weights or the disk may be broken, and the
    last good checkpoint is the one to keep. The checkpoint carries the loader's position and the RNG states, so
    resuming from it continues where training stopped; ``--ckpt_path last`` takes it when it is the newest.

    Args:
        filename: name of the checkpoint, written in the run's checkpoint folder.
    """

    def __init__(self, filename: str = "interrupted.ckpt") -> None:
        super().__init__()
        self.filename = filename
        self.path: Path | None = None
        self.command: Sequence[str] | None = None

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        sigterm_without_broadcast(trainer)

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, (KeyboardInterrupt, SIGTERMException)) or trainer.state.fn != TrainerFn.FITTING:
            return
        checkpoint = trainer.checkpoint_callback
        folder = Path(checkpoint.dirpath) if checkpoint and checkpoint.dirpath else Path(trainer.log_dir or ".")
        self.path = folder / self.filename
        trainer.save_checkpoint(self.path)
        signal = "SIGTERM" if isinstance(exception, SIGTERMException) else "Ctrl-C"
        rank_zero_info(
            f"Interrupted by {signal} at step {trainer.global_step} (epoch {trainer.current_epoch}); checkpoint "
            f"written to {self.path}. Resume with: {resume_command(self.command, self.path)}"
        )


def resume_command(command: Sequence[str] | None, checkpoint: Path) -> str:
    """``command`` (the run's arguments after ``litfashion``) with ``--ckpt_path`` set to ``checkpoint``."""
    kept: list[str] = []
    arguments = iter(command or ["fit", "--config", "CONFIG"])
    for argument in arguments:
        if argument == "--ckpt_path":
            next(arguments, None)
        elif not argument.startswith("--ckpt_path="):
            kept.append(argument)
    return shlex.join(["litfashion", *kept, "--ckpt_path", str(checkpoint)])
