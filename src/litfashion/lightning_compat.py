"""Every use of Lightning's (and its libraries') internals, in one place, each with the version it was checked
against and why no public way exists. ``lightning`` is pinned below 2.7 in pyproject.toml for these.

Checked against lightning 2.6.6 and tensorboard 2.20:

- ``LightningCLI._parse_ckpt_path`` (overridden by ``CheckpointHparamsMixin``): LightningCLI reads a checkpoint's
  model hyperparameters over the config in this private step of ``parse_arguments``, re-reading the file
  (unsafely, without ``weights_only``) and unable to upgrade hyperparameters of older checkpoints. No hook exists.
- ``LightningCLI._instantiate_trainer`` (``instantiate_trainer``): the public ``instantiate_trainer`` attaches
  every configured callback, those switched off or of another subcommand too (a ``ModelCheckpoint`` beside
  ``enable_checkpointing: false`` is an error); the private one takes the list, adds ``trainer_defaults``'
  callbacks and the ``SaveConfigCallback`` built with the subcommand's parser (itself only behind ``_parser``).
- ``LightningModule._current_fx_name`` (``HookNameMixin``): Lightning sets this attribute around each of the
  dozens of hook calls of a training step; ``nn.Module.__setattr__`` checks every set against parameters, buffers
  and modules (1.0 us a set against 0.2 us; BENCHMARKS.md, "The pieces of a step": about 2% of a step).
- ``SummaryWriter._get_file_writer`` (``event_file_writer``): the HPARAMS table must go into the run's own event
  file; the public ``add_hparams`` writes it into a sub-run, a second row per run in TensorBoard.
- Lightning's rule for which training steps a logger writes (``logs_this_step``): the same test as
  ``_LoggerConnector.should_update_logs``, from public Trainer state, so the training loss is logged (a device sync
  on a GPU) only at the steps Lightning would write.
- ``Trainer._signal_connector`` and the ``signal_handlers`` of its SIGTERM handler (``sigterm_without_broadcast``):
  under DDP, Lightning's SIGTERM handler runs ``dist.broadcast`` inside the signal handler, which can meet the
  collective the interrupted step was in and hang every rank (docs/faults.md). The handler that
  replaces it only marks the trainer, as ``trainer.received_sigterm`` reads it; the loop's own broadcast from rank
  zero at the start of each step then stops every rank at the same step. No public way to set the mark exists.
- ``_PrefetchDataFetcher`` fetches no batch ahead from a loader with a length (``data/resumable.py`` relies on it to
  count the batches the loop took): behaviour, not an import; ``tests/e2e/test_resume.py`` would catch a change.
"""

import signal
from types import FrameType
from typing import Any

from lightning.pytorch import Callback, Trainer
from lightning.pytorch.utilities.rank_zero import rank_prefixed_message, rank_zero_info


class CheckpointHparamsMixin:
    """Routes LightningCLI's private checkpoint-hyperparameter step to the CLI's public ``apply_checkpoint_hparams``."""

    def _parse_ckpt_path(self) -> None:
        self.apply_checkpoint_hparams()  # type: ignore[attr-defined]


class HookNameMixin:
    """For a LightningModule: a string or ``None`` replacing a plain attribute (one in ``__dict__``, so no parameter,
    buffer or module) is set directly, as ``nn.Module.__setattr__`` ends up doing anyway."""

    def __setattr__(self, name: str, value: Any) -> None:
        if (value is None or type(value) is str) and name in self.__dict__:
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)


def instantiate_trainer(cli: Any, config: dict[str, Any], callbacks: list[Callback]) -> Trainer:
    """``cli``'s Trainer from ``config`` with exactly ``callbacks`` (and the defaults and config saving)."""
    return cli._instantiate_trainer(config, callbacks)


def event_file_writer(writer: Any) -> Any:
    """The run's own event file writer of a ``torch.utils.tensorboard.SummaryWriter``."""
    return writer._get_file_writer()


def logs_this_step(trainer: Trainer) -> bool:
    """Whether the loggers write this training step (``log_every_n_steps``, and the last step of a stopped run)."""
    every = trainer.log_every_n_steps
    if every == 0:
        return False
    return (trainer.global_step + 1) % every == 0 or trainer.should_stop


def sigterm_without_broadcast(trainer: Trainer) -> None:
    """Under DDP, swaps Lightning's SIGTERM notifier (installed when the fit starts) for one that does no collective:
    it marks the trainer and passes the signal on to the ranks this process launched, as Lightning's does."""
    composed = signal.getsignal(signal.SIGTERM)
    handlers = getattr(composed, "signal_handlers", None)
    connector = trainer._signal_connector
    if trainer.world_size < 2 or not isinstance(handlers, list):
        return

    def notify(signum: int, frame: FrameType | None) -> None:
        rank_zero_info(rank_prefixed_message(f"Received SIGTERM: {signum}", trainer.local_rank))
        if not connector.received_sigterm and trainer.strategy.launcher is not None:
            trainer.strategy.launcher.kill(signum)
        connector.received_sigterm = True

    notifier = connector._sigterm_notifier_fn
    composed.signal_handlers = [notify if handler == notifier else handler for handler in handlers]
