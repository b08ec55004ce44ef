"""``litfashion fit|validate|test|predict``: LightningCLI with the data->model links and up-front checks."""

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import torch
from jsonargparse import lazy_instance
from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.loggers import TensorBoardLogger

from litfashion.callbacks.prediction_writer import PredictionWriter
from litfashion.checkpoints import check_state_dict_fits, checkpoint_class, load_checkpoint
from litfashion.errors import CheckpointError, ConfigError, LitFashionError
from litfashion.models.schedulers import build_scheduler

# Names Lightning itself resolves for `fit --ckpt_path`.
SPECIAL_CKPT_PATHS = {"last", "best", "hpc"}


class LitFashionCLI(LightningCLI):
    """Links what the data defines (input shape, classes) into the model, and checks inputs before any work."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        # jsonargparse skips a link whose data module lacks the attribute or whose model lacks the parameter,
        # so tasks without classes (the linear regression) share this CLI; tests/test_linear_regression.py runs one.
        for attribute in ("input_shape", "num_classes", "class_names"):
            parser.link_arguments(f"data.{attribute}", f"model.init_args.{attribute}", apply_on="instantiate")
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults(
            {
                "checkpoint.monitor": "val/acc",
                "checkpoint.mode": "max",
                "checkpoint.filename": "best",
                "checkpoint.save_last": True,
                "checkpoint.auto_insert_metric_name": False,
            }
        )
        parser.add_lightning_class_args(PredictionWriter, "predictions")

    def parse_arguments(self, parser: LightningArgumentParser, args: Sequence[str] | None) -> None:
        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        if not subcommand:
            return
        config = self.config[subcommand]
        if config.get("weights_only") is None:
            config.weights_only = True
        self._ckpt = None
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
        model_config = self.config[self.subcommand].model.get("init_args") or {}
        optimizer = self._try_build("optimizer", model_config, [torch.nn.Parameter(torch.zeros(1))])
        if optimizer is not None:
            lr = optimizer.param_groups[0].get("lr")
            if isinstance(lr, (int, float)) and lr <= 0:
                class_path = model_config.optimizer.get("class_path", "")
                raise ConfigError(f"model.optimizer ({class_path}): the learning rate must be > 0, got {lr}")
            self._try_build("scheduler", model_config, optimizer, total_steps=100)
        return super().instantiate_trainer(**kwargs)

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
EXTRA_COMMANDS: dict[str, str] = {}


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
        LitFashionCLI(
            LightningModule,
            LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            trainer_defaults={
                "logger": lazy_instance(TensorBoardLogger, save_dir=".", name="lightning_logs", default_hp_metric=False)
            },
            parser_kwargs={"allow_abbrev": False},
            args=args,
        )
    except Exception as err:
        reported = _reported_error(err)
        if reported is None:
            raise
        print(f"litfashion: error: {reported}", file=sys.stderr)
        raise SystemExit(2) from None
