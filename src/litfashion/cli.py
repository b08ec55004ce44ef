"""``litfashion fit|validate|test|predict``: LightningCLI wired with the data->model links, the callbacks and their
defaults; the up-front checks live in ``litfashion.preflight``."""

import argparse
import errno
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from jsonargparse import Namespace, add_instantiator, lazy_instance
from lightning.pytorch import Callback, LightningDataModule, LightningModule, Trainer
from lightning.pytorch.callbacks import BasePredictionWriter, Checkpoint, EarlyStopping, ModelCheckpoint, ProgressBar
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.loggers import Logger, TensorBoardLogger
from lightning.pytorch.plugins.io import CheckpointIO
from lightning.pytorch.utilities.exceptions import SIGTERMException
from lightning.pytorch.utilities.rank_zero import rank_zero_info

from litfashion import error_report, preflight
from litfashion.atomic import describe
from litfashion.callbacks import (
    CheckpointOnInterrupt,
    ConfusionMatrixLogger,
    HparamsLogger,
    LearningRateLogger,
    PredictionWriter,
    RNGStateCheckpoint,
    RunSummary,
    SampleGridLogger,
    StopOnNonFiniteLoss,
)
from litfashion.callbacks.group import CallbackGroup, is_stateless
from litfashion.callbacks.progress_bar import MetricsProgressBar
from litfashion.callbacks.save_config import AtomicSaveConfig
from litfashion.checkpoint_io import AtomicCheckpointIO
from litfashion.config_paths import absolute_paths
from litfashion.errors import ConfigError, in_chain
from litfashion.lightning_compat import CheckpointHparamsMixin, instantiate_trainer
from litfashion.models.legacy_hparams import upgrade_hparams
from litfashion.no_profiler import NoProfiler
from litfashion.quiet import quiet_resumed_fit, quiet_third_party

# What every run shows in TensorBoard and the terminal: config key -> callback, each off with `KEY.enabled: false`.
TENSORBOARD_CALLBACKS: dict[str, type[Callback]] = {
    "lr_monitor": LearningRateLogger,
    "hparams": HparamsLogger,
    "confusion_matrix": ConfusionMatrixLogger,
    "sample_grids": SampleGridLogger,
    "run_summary": RunSummary,
}

# What every config shares, as defaults (`litfashion fit --print_config` shows them): the tutorial evaluates
# after each epoch only, so no sanity check; loss and learning rate are logged every 50 steps.
TRAINER_DEFAULTS = {
    "accelerator": "auto",
    "devices": "auto",
    "log_every_n_steps": 50,
    "num_sanity_val_steps": 0,
    "logger": lazy_instance(
        TensorBoardLogger, save_dir=".", name="lightning_logs", default_hp_metric=False, log_graph=True
    ),
}
# best.ckpt: the best epoch by val/acc; last.ckpt: rewritten after every epoch and every validation (what
# `--ckpt_path last` resumes; see `last_saved_at_epoch_end`).
CHECKPOINT_DEFAULTS = {
    "checkpoint.monitor": "val/acc",
    "checkpoint.mode": "max",
    "checkpoint.filename": "best",
    "checkpoint.save_last": False,
    "checkpoint.auto_insert_metric_name": False,
    "last_checkpoint.monitor": None,
    "last_checkpoint.filename": "last",
    "last_checkpoint.save_top_k": 1,
    "last_checkpoint.every_n_epochs": 1,
    "last_checkpoint.enable_version_counter": False,
}

# Every callback the CLI configures: config key -> class. Since Lightning 2.6, `save_last` rewrites last.ckpt only
# when a new best is saved; a second, unmonitored ModelCheckpoint keeps last.ckpt at the latest epoch for resuming.
CALLBACKS: dict[str, type[Callback]] = {
    "progress_bar": MetricsProgressBar,
    "checkpoint": ModelCheckpoint,
    "last_checkpoint": ModelCheckpoint,
    "predictions": PredictionWriter,
    "finite_loss": StopOnNonFiniteLoss,
    "interrupt_checkpoint": CheckpointOnInterrupt,
    "rng_state": RNGStateCheckpoint,
    **TENSORBOARD_CALLBACKS,
}

# Config keys of the callbacks that only act in one subcommand, and of those that write checkpoints.
SUBCOMMAND_ONLY_CALLBACKS = {"predictions": "predict"}
CHECKPOINT_CALLBACKS = ("checkpoint", "last_checkpoint", "interrupt_checkpoint")

# Callbacks Lightning finds by their type in `trainer.callbacks`: never grouped.
FOUND_BY_TYPE = (Checkpoint, EarlyStopping, ProgressBar, BasePredictionWriter)


def last_saved_at_epoch_end(check_val_every_n_epoch: int | None, val_check_interval: float | int | None) -> bool | None:
    """When validation skips whole epochs, ``last.ckpt`` is written at each epoch's end, where ``ModelCheckpoint``
    would wait for the next validation (a fit ending between two would lose its last epochs); otherwise ``None``,
    Lightning's rule: after each validation, mid-epoch ones included."""
    once_an_epoch = val_check_interval is None or (isinstance(val_check_interval, float) and val_check_interval == 1)
    return True if check_val_every_n_epoch not in (1, None) and once_an_epoch else None


class LitFashionCLI(CheckpointHparamsMixin, LightningCLI):
    """Links what the data defines (input shape, classes) into the model; runs ``litfashion.preflight``."""

    # The CLI running in this process, for the error line of a write that fails mid-run (main() names its folder).
    current: "LitFashionCLI | None" = None

    def __init__(
        self, *args: Any, only_subcommand: str | None = None, command: Sequence[str] = (), **kwargs: Any
    ) -> None:
        self._only_subcommand = only_subcommand
        self._command = list(command)
        self._command_parser: LightningArgumentParser | None = None
        LitFashionCLI.current = self
        for built in (Callback, Logger):
            add_instantiator(error_report.report_build_errors, built, subclasses=True)
        super().__init__(*args, **kwargs)

    def subcommands(self) -> dict[str, set[str]]:  # type: ignore[override]
        """Only the subcommand being run, when it is known: every parser built adds to start-up (BENCHMARKS.md)."""
        everything = LightningCLI.subcommands()
        if self._only_subcommand in everything:
            return {self._only_subcommand: everything[self._only_subcommand]}
        return everything

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        self._command_parser = parser
        # jsonargparse skips a link whose data module lacks the attribute or whose model lacks the parameter,
        # so tasks without classes (the linear regression) share this CLI (tests/unit/models/test_linear_regression.py).
        for attribute in ("input_shape", "num_classes", "class_names"):
            parser.link_arguments(f"data.{attribute}", f"model.init_args.{attribute}", apply_on="instantiate")
        for key, callback in CALLBACKS.items():
            parser.add_lightning_class_args(callback, key)
        parser.link_arguments("checkpoint.dirpath", "last_checkpoint.dirpath")
        validation = ("trainer.check_val_every_n_epoch", "trainer.val_check_interval")
        parser.link_arguments(validation, "last_checkpoint.save_on_train_epoch_end", compute_fn=last_saved_at_epoch_end)
        parser.set_defaults(CHECKPOINT_DEFAULTS)

    def parse_arguments(self, parser: LightningArgumentParser, args: Sequence[str] | None) -> None:
        """Resolve ``--ckpt_path last`` and check the checkpoint and directories while only the config exists."""
        super().parse_arguments(parser, args)
        absolute_paths(self.config)
        self._ckpt = None
        subcommand = self.config.get("subcommand")
        config = self.config[subcommand] if subcommand else self.config  # no subcommand: make_cli(run=False)
        if subcommand and config.get("weights_only") is None:
            config.weights_only = True
        if subcommand == "fit" and config.get("ckpt_path") == "last":
            last = preflight.resolve_last_checkpoint(config)
            if last is not None:
                self.save_config_kwargs["overwrite"] = True  # the resumed version already holds its config.yaml
                quiet_resumed_fit()
                rank_zero_info(f"Resuming from {last}")
        if subcommand in ("validate", "test", "predict"):
            _graph_only_when_fitting(config)
        self._ckpt = preflight.load_given_checkpoint(config, subcommand or "")
        preflight.check_validation_schedule(config)
        preflight.check_log_dirs(config)
        config_filename = self.save_config_kwargs.get("config_filename", "config.yaml")
        saves_config = self.save_config_callback is not None and not self.save_config_kwargs.get("overwrite")
        if saves_config and preflight.check_shared_root_dir(config, subcommand or "", config_filename):
            self.save_config_kwargs["overwrite"] = True

    def apply_checkpoint_hparams(self) -> None:
        """The checkpoint's model hyperparameters over the config, as LightningCLI does, but from the checkpoint
        already loaded (safely) above, upgraded from before the network was injected (``legacy_hparams``), and
        without ``init_weights`` (the checkpoint holds the weights) or ``test_time_flip`` (how to evaluate is the
        config's choice, not the trained model's)."""
        if self._ckpt is None:
            return
        hparams = upgrade_hparams(dict(self._ckpt.get("hyper_parameters") or {}))
        hparams.pop("_instantiator", None)
        if not hparams:
            return
        if "init_weights" in hparams:
            hparams["init_weights"] = None
        hparams.pop("test_time_flip", None)
        if "_class_path" in hparams:
            hparams = {"class_path": hparams.pop("_class_path"), "dict_kwargs": hparams}
        self.config = self.parser.parse_object({self.config.subcommand: {"model": hparams}}, self.config)

    def instantiate_classes(self) -> None:
        """A check failing while a callback, logger or the Trainer is built is bad input, reported as its setting
        and the check's words (``error_report.building`` keeps the arguments)."""
        try:
            super().instantiate_classes()
        except (error_report.BuildError, ValueError) as raised:  # jsonargparse wraps one in a list's ValueError
            err = in_chain(raised, error_report.BuildError)
            if err is None:
                raise
            among = error_report.DEVICE_SETTINGS if err.cls is Trainer else ()
            line = error_report.setting_error(self._config_key(err), err.cls.__init__, err.arguments, err.error, among)
            raise ConfigError(line) from err.error

    def _config_key(self, err: error_report.BuildError) -> str:
        """Where the class that refused its arguments is configured (two ``ModelCheckpoint`` differ in them)."""
        if err.cls is Trainer:
            return "trainer"
        if issubclass(err.cls, Logger):
            return "trainer.logger"
        section = self._section(self.config)
        keys = [key for key, cls in CALLBACKS.items() if cls is err.cls]
        matching = [key for key in keys if section[key].as_dict() == err.arguments]
        return next(iter(matching or keys), f"trainer.callbacks ({err.cls.__name__})")

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """Check the built model against the checkpoint and its optimizer settings before the Trainer exists; no
        configured profiler means ``NoProfiler``."""
        config = self._section(self.config)
        preflight.check_checkpoint_fits(self._ckpt, self.model, config)
        preflight.check_optimizer(self.model, config)
        self._drop_progress_bar_if_disabled()
        trainer_config = {**(self._section(self.config_init).get("trainer") or {}), **kwargs}
        if trainer_config.get("profiler") is None:
            trainer_config["profiler"] = NoProfiler()
        plugins = _as_list(trainer_config.get("plugins"))
        if not any(isinstance(plugin, CheckpointIO) for plugin in plugins):
            trainer_config["plugins"] = [*plugins, AtomicCheckpointIO()]
        callbacks = self._active_callbacks(trainer_config)
        with error_report.building(Trainer, dict(self._section(self.config_init).get("trainer") or {})):
            return instantiate_trainer(self, trainer_config, callbacks)

    def options(self) -> list[str]:
        """The flags of the command being parsed (``--trainer.max_epochs``), for the closest to a mistyped one."""
        parser = self._command_parser
        keys = parser.get_defaults().keys() if parser is not None else []  # a Namespace: no iteration over keys
        return [f"--{key}" for key in keys]

    def _section(self, config: Namespace) -> Namespace:
        """The running subcommand's part of ``config`` (all of it for ``make_cli(run=False)``)."""
        return config[self.subcommand] if self.subcommand else config

    def _active_callbacks(self, trainer_config: dict[str, Any]) -> list[Callback]:
        """The configured callbacks that act in this run; Lightning calls every callback's hooks at every step.

        Left out: those switched off with ``enabled: false`` (the one place that switch is read), those of
        another subcommand (the prediction writer outside ``predict``), the checkpoint writers under
        ``trainer.enable_checkpointing: false`` (which Lightning would otherwise refuse beside a ``ModelCheckpoint``),
        and the default progress bar when the bar is off or ``trainer.callbacks`` brings its own. The stateless
        ones that Lightning does not look up by type share one ``CallbackGroup``, so each hook is dispatched once
        for all of them.
        """
        skipped = {key for key, subcommand in SUBCOMMAND_ONLY_CALLBACKS.items() if subcommand != self.subcommand}
        if trainer_config.get("enable_checkpointing") is False:
            skipped.update(CHECKPOINT_CALLBACKS)
        own_bar = any(isinstance(cb, ProgressBar) for cb in _as_list(trainer_config.get("callbacks")))
        if trainer_config.get("enable_progress_bar") is False or own_bar:
            skipped.add("progress_bar")
        keys = [key for key in CALLBACKS if key not in skipped]
        callbacks = [self._section(self.config_init)[key] for key in keys]
        active = [callback for callback in callbacks if getattr(callback, "enabled", True) is not False]
        for callback in active:
            if isinstance(callback, CheckpointOnInterrupt):
                callback.command = self._command
        grouped = [cb for cb in active if is_stateless(cb) and not isinstance(cb, FOUND_BY_TYPE)]
        if len(grouped) < 2:
            return active
        return [CallbackGroup(grouped), *(cb for cb in active if cb not in grouped)]

    def _drop_progress_bar_if_disabled(self) -> None:
        """``trainer.enable_progress_bar: false`` also hides a bar in ``trainer.callbacks`` (Lightning refuses one)."""
        trainer = self._section(self.config_init).trainer
        if trainer.get("enable_progress_bar") is False and trainer.get("callbacks"):
            trainer.callbacks = [cb for cb in _as_list(trainer.callbacks) if not isinstance(cb, ProgressBar)]


def _graph_only_when_fitting(config: Namespace) -> None:
    """The GRAPHS panel belongs to the run that trains the model; an evaluation would trace the same network again
    (the slowest part of evaluating a torchvision network on a few batches)."""
    loggers = (config.get("trainer") or Namespace()).get("logger")
    for logger in loggers if isinstance(loggers, list) else [loggers]:
        if isinstance(logger, Namespace) and (logger.get("init_args") or Namespace()).get("log_graph"):
            logger.init_args.log_graph = False


def _as_list(items: Any) -> list[Any]:
    """``trainer.callbacks`` or ``trainer.plugins`` as a list: one may be given alone."""
    if items is None:
        return []
    return items if isinstance(items, list) else [items]


# A run stopped by SIGTERM exits as a process killed by it would (128 + 15), after writing its checkpoint.
SIGTERM_EXIT_STATUS = 143
# A write that failed for want of space or a working disk: the machine's trouble, not a bug.
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO}

# Every command, as `litfashion --help` lists it: name -> (what it does, "module:function(argv)"); None: one of
# LightningCLI's subcommands, run by `make_cli`.
COMMANDS: dict[str, tuple[str, str | None]] = {
    "fit": ("train a model, validating it after each epoch (--ckpt_path last resumes)", None),
    "validate": ("evaluate a checkpoint on the validation data", None),
    "test": ("evaluate a checkpoint on the test data", None),
    "predict": ("predict with a checkpoint: predictions.csv, one row per image", None),
    "export": ("the trained network for use without Lightning", "litfashion.commands.export_model:main"),
    "export-images": (
        "FashionMNIST as PNG files and CSVs, for CSVImageDataModule",
        "litfashion.commands.export_images:main",
    ),
    "sweep": ("hyperparameter search with Optuna, every trial a real fit", "litfashion.commands.sweep:main"),
    "serve": ("a trained model on LitServe: POST /predict and a web page", "litfashion.commands.serve:main"),
}


def usage() -> str:
    """``litfashion --help``: every command with one line; each command's own ``--help`` has its options."""
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {summary}" for name, (summary, _) in COMMANDS.items()]
    return "\n".join(
        [
            "usage: litfashion COMMAND [OPTIONS]   (python -m litfashion works too)",
            "",
            "The PyTorch basics tutorial as a Lightning training tool: FashionMNIST or your own images.",
            "",
            "commands:",
            *lines,
            "",
            "`litfashion COMMAND --help` shows a command's options; README.md has worked examples.",
        ]
    )


def make_cli(args: Sequence[str] | None = None, run: bool = True) -> LitFashionCLI:
    """The ``litfashion`` CLI; ``run=False`` (no subcommand in ``args``) only builds the model, data and Trainer."""
    argv = list(sys.argv[1:] if args is None else args)
    quiet_third_party(argv[0] if argv else None)
    return LitFashionCLI(
        LightningModule,
        LightningDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        trainer_defaults=TRAINER_DEFAULTS,
        save_config_callback=AtomicSaveConfig,
        # exit_on_error=False: a parse error reaches main() as an ArgumentError, reported in one line, instead of
        # jsonargparse printing the whole usage.
        parser_kwargs={"allow_abbrev": False, "prog": "litfashion", "exit_on_error": False},
        args=args,
        run=run,
        only_subcommand=argv[0] if run and argv else None,
        command=argv,
    )


def main(args: Sequence[str] | None = None) -> None:
    """One entry point: the command named first runs; every error is reported the same way, in one line."""
    argv = list(sys.argv[1:] if args is None else args)
    name = argv[0] if argv else None
    if name in (None, "-h", "--help"):
        print(usage(), file=sys.stdout if name else sys.stderr)
        raise SystemExit(0 if name else 2)
    if not name.startswith("-") and name not in COMMANDS:
        hint = error_report.close_matches(name, list(COMMANDS), cutoff=0.6)
        print(f"litfashion: error: unknown command {name!r}{hint} Commands: {', '.join(COMMANDS)}", file=sys.stderr)
        raise SystemExit(2)
    target = COMMANDS.get(name, ("", None))[1]
    try:
        if target is None:
            make_cli(args)
        else:
            module_name, function = target.split(":")
            getattr(importlib.import_module(module_name), function)(argv[1:])
    except SIGTERMException:
        raise SystemExit(SIGTERM_EXIT_STATUS) from None
    except Exception as err:
        line = error_report.one_line(err, argv, _options()) if target is None else _project_line(err)
        if line is None and isinstance(err, OSError) and err.errno in WRITE_ERRNOS:
            line = f"cannot write {_failed_path(err)}: {describe(err)}"
        if line is None:
            raise
        print(f"litfashion{'' if target is None else ' ' + name}: error: {line}", file=sys.stderr)
        if isinstance(err, argparse.ArgumentError):
            print(error_report.help_hint(argv), file=sys.stderr)
        raise SystemExit(2) from None


def _options() -> list[str]:
    return [] if LitFashionCLI.current is None else LitFashionCLI.current.options()


def _project_line(err: BaseException) -> str | None:
    """A command's own error (a ``LitFashionError``), as its message."""
    project = error_report.project_error(err)
    return None if project is None else str(project)


def _failed_path(err: OSError) -> str:
    """The file a write failed on; a writer thread's error (TensorBoard's events) names none: the run's folder."""
    if err.filename:
        return str(err.filename)
    log_dir = getattr(getattr(LitFashionCLI.current, "trainer", None), "log_dir", None)
    return f"a file in {log_dir}" if log_dir else "a file"
