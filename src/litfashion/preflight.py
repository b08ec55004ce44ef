"""Checks of a parsed run config (and the model built from it) that fail before any data is read or file written.

Each takes the subcommand's config, the jsonargparse ``Namespace`` that LightningCLI parsed (``cli.config[cmd]``),
and raises a ``LitFashionError`` naming the config key; ``litfashion.cli`` calls them in order.
"""

from pathlib import Path
from typing import Any

import torch
from jsonargparse import Namespace
from torch import nn

from litfashion.checkpoints import check_state_dict_fits, checkpoint_class, load_checkpoint
from litfashion.errors import CheckpointError, ConfigError
from litfashion.models.schedulers import build_scheduler
from litfashion.run_dirs import check_writable, newest_checkpoint, newest_run_checkpoint, version_of

# Names Lightning itself resolves for `fit --ckpt_path`.
SPECIAL_CKPT_PATHS = {"last", "best", "hpc"}

# Stands in for the run's length, which only the Trainer knows, in the scheduler's dry run.
DRY_RUN_STEPS = 100


def _loggers(config: Namespace) -> list[Any]:
    """The configured loggers: ``{class_path, init_args}`` namespaces as parsed, or instances (none if false)."""
    loggers = (config.get("trainer") or Namespace()).get("logger")
    if not loggers or loggers is True:
        return []
    return list(loggers) if isinstance(loggers, list) else [loggers]


def _logger_args(logger: Any) -> Namespace:
    """A logger's settings, whether parsed (``init_args``) or given as an object."""
    if isinstance(logger, Namespace):
        return logger.get("init_args") or Namespace()
    return Namespace({key: getattr(logger, key, None) for key in ("save_dir", "name")})


def resolve_last_checkpoint(config: Namespace) -> Path | None:
    """``fit --ckpt_path last``: the newest ``last.ckpt`` or ``interrupted.ckpt`` of any earlier version, continued
    in that version.

    Each run logs to a new ``version_N``, where Lightning's own lookup of ``last`` finds nothing; so look in
    ``checkpoint.dirpath`` if set, else under the first logger's ``save_dir/name``. When found, ``config.ckpt_path``
    becomes its path and the logger's ``version`` is set to the one it came from, before the logger exists.
    Without one, ``last`` is left for Lightning, which warns and trains from scratch.
    """
    dirpath = (config.get("checkpoint") or Namespace()).get("dirpath")
    interrupted = (config.get("interrupt_checkpoint") or Namespace()).get("filename") or "interrupted.ckpt"
    names = ["last.ckpt", interrupted]
    loggers = _loggers(config)
    if dirpath:
        last = newest_checkpoint([Path(dirpath)], names)
    elif loggers and isinstance(loggers[0], Namespace) and "version" in _logger_args(loggers[0]):
        args = _logger_args(loggers[0])
        last = newest_run_checkpoint(Path(args.get("save_dir") or ".") / (args.get("name") or ""), names)
        if last is not None:
            args.version = version_of(last)
    else:
        return None
    if last is not None:
        config.ckpt_path = str(last)
    return last


def load_given_checkpoint(config: Namespace, subcommand: str) -> dict[str, Any] | None:
    """Load ``ckpt_path`` safely and check it was written by the configured model class (``None``: no file)."""
    ckpt_path = config.get("ckpt_path")
    if not ckpt_path or (subcommand == "fit" and ckpt_path in SPECIAL_CKPT_PATHS):
        return None
    ckpt = load_checkpoint(ckpt_path)
    written_by, configured = checkpoint_class(ckpt), (config.get("model") or Namespace()).get("class_path")
    if written_by and configured and written_by != configured:
        raise CheckpointError(
            f"checkpoint {ckpt_path} was written by {written_by}, but the config's model is {configured}"
        )
    return ckpt


def check_checkpoint_fits(ckpt: dict[str, Any] | None, model: nn.Module, config: Namespace) -> None:
    """The checkpoint's weights fit the built model (same names and shapes)."""
    if ckpt is not None:
        check_state_dict_fits(ckpt, model, config.ckpt_path)


def check_validation_schedule(config: Namespace) -> None:
    """Settings Lightning only divides by mid-run (a ``ZeroDivisionError`` after the first epoch): check them now."""
    trainer = config.trainer
    every = trainer.get("check_val_every_n_epoch")
    if every is not None and every < 1:
        raise ConfigError(f"trainer.check_val_every_n_epoch must be >= 1 (or null), got {every}")
    interval = trainer.get("val_check_interval")
    if interval is not None and interval <= 0:
        raise ConfigError(
            f"trainer.val_check_interval must be > 0 (a fraction of an epoch or a step count), got {interval}"
        )


def check_log_dirs(config: Namespace) -> None:
    """An unwritable log or checkpoint directory fails now, not after the data is loaded."""
    for logger in _loggers(config):
        save_dir = _logger_args(logger).get("save_dir")
        if save_dir:
            name = logger.class_path.rsplit(".", 1)[-1] if isinstance(logger, Namespace) else type(logger).__name__
            check_writable(save_dir, f"trainer.logger ({name}) save_dir")
    root_dir = config.trainer.get("default_root_dir")
    if root_dir:
        check_writable(root_dir, "trainer.default_root_dir")
    dirpath = (config.get("checkpoint") or Namespace()).get("dirpath")
    if dirpath:
        check_writable(dirpath, "checkpoint.dirpath")


def check_shared_root_dir(config: Namespace, subcommand: str, config_filename: str = "config.yaml") -> bool:
    """Without a logger every run writes its config and ``checkpoints/`` straight into ``trainer.default_root_dir``:
    refuse to write over an earlier run's, unless this run resumes it. Returns whether this run may overwrite
    the earlier run's config file (it resumes that run)."""
    logger = (config.get("trainer") or Namespace()).get("logger")
    if logger is not False and logger != []:  # None and true: Lightning's default logger, with versions
        return False
    root_dir = Path(config.trainer.get("default_root_dir") or Path.cwd())
    earlier = root_dir / config_filename
    if not earlier.is_file():
        return False
    if subcommand == "fit" and config.get("ckpt_path"):
        return True
    raise ConfigError(
        f"trainer.logger is false, so this run would write its {config_filename} and checkpoints straight "
        f"into {root_dir}, over an earlier run's ({earlier}); set trainer.default_root_dir to a "
        "new folder, or keep a logger (each run then gets its own lightning_logs/version_N)"
    )


def check_optimizer(model: nn.Module, config: Namespace) -> None:
    """Call the model's injected ``optimizer`` (and ``scheduler``) factory once, as a dry run of their settings;
    a learning rate <= 0 is refused too. Models without injected factories pass."""
    model_config = (config.get("model") or Namespace()).get("init_args") or Namespace()
    optimizer = _dry_run(model, "optimizer", model_config, [nn.Parameter(torch.zeros(1))])
    if optimizer is None:
        return
    lr = optimizer.param_groups[0].get("lr")
    if isinstance(lr, (int, float)) and lr <= 0:
        class_path = (model_config.get("optimizer") or Namespace()).get("class_path", "")
        raise ConfigError(f"model.optimizer ({class_path}): the learning rate must be > 0, got {lr}")
    _dry_run(model, "scheduler", model_config, optimizer, total_steps=DRY_RUN_STEPS)


def _dry_run(
    model: nn.Module, name: str, model_config: Namespace, argument: Any, total_steps: int | None = None
) -> Any:
    factory = getattr(model, name, None)
    if not callable(factory):
        return None
    try:
        if total_steps is not None:
            return build_scheduler(factory, argument, total_steps)
        return factory(argument)
    except (ValueError, TypeError, KeyError) as err:
        class_path = (model_config.get(name) or Namespace()).get("class_path", "")
        raise ConfigError(f"model.{name} ({class_path}): {err}") from None
