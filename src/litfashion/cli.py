"""``litfashion fit|validate|test|predict``: LightningCLI with the data->model links and up-front checks."""

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from jsonargparse import lazy_instance
from lightning.pytorch import Callback, LightningDataModule, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint, ProgressBar
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI, SaveConfigCallback
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities.rank_zero import rank_zero_info

from litfashion.callbacks import (
    ConfusionMatrixLogger,
    HparamsLogger,
    LearningRateLogger,
    PredictionWriter,
    RunSummary,
    SampleGridLogger,
)
from litfashion.callbacks.finite_loss import StopOnNonFiniteLoss
from litfashion.callbacks.interrupt_checkpoint import CheckpointOnInterrupt
from litfashion.callbacks.rng_state import RNGStateCheckpoint
from litfashion.checkpoints import check_state_dict_fits, checkpoint_class, load_checkpoint
from litfashion.errors import CheckpointError, ConfigError, LitFashionError
from litfashion.models.schedulers import build_scheduler
from litfashion.run_dirs import check_writable, newest_last_checkpoint, version_of

# What every run shows in TensorBoard and the terminal: config key -> callback, each off with `KEY.enabled: false`.
TENSORBOARD_CALLBACKS = {
    "lr_monitor": LearningRateLogger,
    "hparams": HparamsLogger,
    "confusion_matrix": ConfusionMatrixLogger,
    "sample_grids": SampleGridLogger,
    "run_summary": RunSummary,
}

# Config keys of the callbacks that only act in one subcommand, and of those that write checkpoints.
SUBCOMMAND_ONLY_CALLBACKS = {"predictions": "predict"}
CHECKPOINT_CALLBACKS = ("checkpoint", "last_checkpoint", "interrupt_checkpoint")

# Names Lightning itself resolves for `fit --ckpt_path`.
SPECIAL_CKPT_PATHS = {"last", "best", "hpc"}


class LitFashionCLI(LightningCLI):
    """Links what the data defines (input shape, classes) into the model, and checks inputs before any work."""

    def __init__(self, *args: Any, only_subcommand: str | None = None, **kwargs: Any) -> None:
        self._only_subcommand = only_subcommand
        super().__init__(*args, **kwargs)

    def subcommands(self) -> dict[str, set[str]]:  # type: ignore[override]
        """Only the subcommand being run, when it is known: each parser built adds ~0.05 s to start-up."""
        everything = LightningCLI.subcommands()
        if self._only_subcommand in everything:
            return {self._only_subcommand: everything[self._only_subcommand]}
        return everything

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        # jsonargparse skips a link whose data module lacks the attribute or whose model lacks the parameter,
        # so tasks without classes (the linear regression) share this CLI; tests/test_linear_regression.py runs one.
        for attribute in ("input_shape", "num_classes", "class_names"):
            parser.link_arguments(f"data.{attribute}", f"model.init_args.{attribute}", apply_on="instantiate")
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        # Since Lightning 2.6, `save_last` rewrites last.ckpt only when a new best is saved; a second, unmonitored
        # ModelCheckpoint keeps last.ckpt at the latest epoch, which is what resuming needs.
        parser.add_lightning_class_args(ModelCheckpoint, "last_checkpoint")
        parser.link_arguments("checkpoint.dirpath", "last_checkpoint.dirpath")
        parser.set_defaults(
            {
                "checkpoint.monitor": "val/acc",
                "checkpoint.mode": "max",
                "checkpoint.filename": "best",
                "checkpoint.save_last": False,
                "checkpoint.auto_insert_metric_name": False,
                "last_checkpoint.monitor": None,
                "last_checkpoint.filename": "last",
                "last_checkpoint.save_top_k": 1,
                "last_checkpoint.enable_version_counter": False,
            }
        )
        parser.add_lightning_class_args(PredictionWriter, "predictions")
        # Faults and exact resume (issue 6).
        parser.add_lightning_class_args(StopOnNonFiniteLoss, "finite_loss")
        parser.add_lightning_class_args(CheckpointOnInterrupt, "interrupt_checkpoint")
        parser.add_lightning_class_args(RNGStateCheckpoint, "rng_state")
        for key, callback in TENSORBOARD_CALLBACKS.items():
            parser.add_lightning_class_args(callback, key)

    def parse_arguments(self, parser: LightningArgumentParser, args: Sequence[str] | None) -> None:
        super().parse_arguments(parser, args)
        self._ckpt = None
        subcommand = self.config.get("subcommand")
        if not subcommand:
            return
        config = self.config[subcommand]
        if config.get("weights_only") is None:
            config.weights_only = True
        ckpt_path = config.get("ckpt_path")
        if ckpt_path and not (subcommand == "fit" and ckpt_path in SPECIAL_CKPT_PATHS):
            self._ckpt = load_checkpoint(ckpt_path)
            written_by, configured = checkpoint_class(self._ckpt), config.model.get("class_path")
            if written_by and configured and written_by != configured:
                raise CheckpointError(
                    f"checkpoint {ckpt_path} was written by {written_by}, but the config's model is {configured}"
                )

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """Check the model against the checkpoint and its optimizer settings before the Trainer exists."""
        if self._ckpt is not None:
            check_state_dict_fits(self._ckpt, self.model, self.config[self.subcommand].ckpt_path)
        model_config = self._get(self.config, "model").get("init_args") or {}
        optimizer = self._try_build("optimizer", model_config, [torch.nn.Parameter(torch.zeros(1))])
        if optimizer is not None:
            lr = optimizer.param_groups[0].get("lr")
            if isinstance(lr, (int, float)) and lr <= 0:
                class_path = model_config.optimizer.get("class_path", "")
                raise ConfigError(f"model.optimizer ({class_path}): the learning rate must be > 0, got {lr}")
            self._try_build("scheduler", model_config, optimizer, total_steps=100)
        self._check_log_dirs()
        self._drop_progress_bar_if_disabled()
        trainer_config = {**self._get(self.config_init, "trainer", default={}), **kwargs}
        trainer = self._instantiate_trainer(trainer_config, self._active_callbacks(trainer_config))
        self._check_shared_root_dir(trainer)
        if self.subcommand == "fit" and self.config_init.fit.get("ckpt_path") == "last":
            self._resume_from_newest_last(trainer)
        return trainer

    def _check_shared_root_dir(self, trainer: Trainer) -> None:
        """Without a logger every run writes ``config.yaml`` and ``checkpoints/`` straight into
        ``trainer.default_root_dir``: refuse to write over an earlier run's, unless this run resumes it."""
        saver = next((cb for cb in trainer.callbacks if isinstance(cb, SaveConfigCallback)), None)
        if trainer.loggers or saver is None or saver.overwrite:
            return
        earlier = Path(trainer.default_root_dir) / saver.config_filename
        if not earlier.is_file():
            return
        if self.subcommand == "fit" and self.config_init.fit.get("ckpt_path"):
            saver.overwrite = True
            return
        raise ConfigError(
            f"trainer.logger is false, so this run would write its {saver.config_filename} and checkpoints straight "
            f"into {trainer.default_root_dir}, over an earlier run's ({earlier}); set trainer.default_root_dir to a "
            "new folder, or keep a logger (each run then gets its own lightning_logs/version_N)"
        )

    def _active_callbacks(self, trainer_config: dict[str, Any]) -> list[Callback]:
        """The configured callbacks that act in this run; Lightning calls every callback's hooks at every step.

        Left out: those switched off with ``enabled: false``, those of another subcommand (the prediction
        writer outside ``predict``), and the checkpoint writers under ``trainer.enable_checkpointing: false``
        (which Lightning would otherwise refuse beside a ``ModelCheckpoint``).
        """
        skipped = {key for key, subcommand in SUBCOMMAND_ONLY_CALLBACKS.items() if subcommand != self.subcommand}
        if trainer_config.get("enable_checkpointing") is False:
            skipped.update(CHECKPOINT_CALLBACKS)
        keys = [key for key in self._parser(self.subcommand).callback_keys if key not in skipped]
        callbacks = [self._get(self.config_init, key) for key in keys]
        return [callback for callback in callbacks if getattr(callback, "enabled", True) is not False]

    def _drop_progress_bar_if_disabled(self) -> None:
        """``trainer.enable_progress_bar: false`` hides the configs' bar (Lightning refuses a bar callback then)."""
        trainer = self._get(self.config_init, "trainer")
        if trainer.get("enable_progress_bar") is False and trainer.get("callbacks"):
            trainer.callbacks = [cb for cb in trainer.callbacks if not isinstance(cb, ProgressBar)]

    def _check_log_dirs(self) -> None:
        """An unwritable log or checkpoint directory fails now, not after the data is loaded."""
        trainer = self._get(self.config_init, "trainer")
        loggers = trainer.get("logger")
        for logger in loggers if isinstance(loggers, list) else [loggers]:
            save_dir = getattr(logger, "save_dir", None)
            if save_dir:
                check_writable(save_dir, f"trainer.logger ({type(logger).__name__}) save_dir")
        if trainer.get("default_root_dir"):
            check_writable(trainer.default_root_dir, "trainer.default_root_dir")
        dirpath = getattr(self._get(self.config_init, "checkpoint"), "dirpath", None)
        if dirpath:
            check_writable(dirpath, "checkpoint.dirpath")

    def _resume_from_newest_last(self, trainer: Trainer) -> None:
        """``fit --ckpt_path last``: the newest ``last.ckpt`` of any earlier version, continued in its version.

        Each run logs to a new ``version_N``, where Lightning's own lookup of ``last`` finds nothing; so look
        under the logger's ``save_dir/name`` (or ``checkpoint.dirpath``) and keep logging in that version.
        """
        checkpoint = trainer.checkpoint_callback
        logger = trainer.logger
        if checkpoint is not None and checkpoint.dirpath:
            found = Path(checkpoint.dirpath) / "last.ckpt"
            last = found if found.is_file() else None
        elif logger is not None and logger.save_dir is not None and hasattr(logger, "_version"):
            last = newest_last_checkpoint(Path(logger.save_dir) / (logger.name or ""))
            if last is not None:
                logger._version = version_of(last)
        else:
            return
        if last is None:
            return  # Lightning warns that there is no last checkpoint and trains from scratch.
        check_state_dict_fits(load_checkpoint(last), self.model, last)
        for callback in trainer.callbacks:
            if isinstance(callback, SaveConfigCallback):
                callback.overwrite = True  # the resumed version already holds the first run's config.yaml
        self.config_init.fit.ckpt_path = str(last)
        rank_zero_info(f"Resuming from {last}")

    def _try_build(self, name: str, model_config: Any, argument: Any, total_steps: int | None = None) -> Any:
        """Call the model's injected ``optimizer``/``scheduler`` factory once, as a dry run of its settings.

        ``total_steps`` stands in for the run's length, which the Trainer only knows later, for schedulers
        that need it (see ``litfashion.models.schedulers``).
        """
        factory = getattr(self.model, name, None)
        if not callable(factory):
            return None
        try:
            if total_steps is not None:
                return build_scheduler(factory, argument, total_steps)
            return factory(argument)
        except (ValueError, TypeError, KeyError) as err:
            class_path = (model_config.get(name) or {}).get("class_path", "")
            raise ConfigError(f"model.{name} ({class_path}): {err}") from None


def _reported_error(err: BaseException) -> LitFashionError | None:
    """The LitFashionError behind ``err``: jsonargparse wraps errors raised while it builds classes."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, LitFashionError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


# Commands beside LightningCLI's fit/validate/test/predict: name -> "module:function(argv)".
EXTRA_COMMANDS: dict[str, str] = {
    "export": "litfashion.commands.export_model:main",
    "export-images": "litfashion.commands.export_images:main",
    "sweep": "litfashion.commands.sweep:main",
}


def make_cli(args: Sequence[str] | None = None, run: bool = True) -> LitFashionCLI:
    """The ``litfashion`` CLI; ``run=False`` (no subcommand in ``args``) only builds the model, data and Trainer."""
    argv = list(sys.argv[1:] if args is None else args)
    return LitFashionCLI(
        LightningModule,
        LightningDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        trainer_defaults={
            "logger": lazy_instance(
                TensorBoardLogger, save_dir=".", name="lightning_logs", default_hp_metric=False, log_graph=True
            )
        },
        parser_kwargs={"allow_abbrev": False, "prog": "litfashion"},
        args=args,
        run=run,
        only_subcommand=argv[0] if run and argv else None,
    )


def main(args: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if args is None else args)
    if argv and argv[0] in EXTRA_COMMANDS:
        module_name, function = EXTRA_COMMANDS[argv[0]].split(":")
        command = getattr(importlib.import_module(module_name), function)
        try:
            command(argv[1:])
        except LitFashionError as err:
            print(f"litfashion {argv[0]}: error: {err}", file=sys.stderr)
            raise SystemExit(2) from None
        return
    try:
        make_cli(args)
    except Exception as err:
        reported = _reported_error(err)
        if reported is None:
            raise
        print(f"litfashion: error: {reported}", file=sys.stderr)
        raise SystemExit(2) from None
