"""``litfashion fit|validate|test|predict``: LightningCLI with the data->model links and up-front checks."""

import sys
from collections.abc import Sequence

import torch
from jsonargparse import lazy_instance
from lightning.pytorch import LightningDataModule, LightningModule
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.loggers import TensorBoardLogger

from litfashion.callbacks.prediction_writer import PredictionWriter
from litfashion.checkpoints import check_state_dict_fits, checkpoint_class, load_checkpoint
from litfashion.errors import CheckpointError, LitFashionError

# Names Lightning itself resolves for `fit --ckpt_path`.
SPECIAL_CKPT_PATHS = {"last", "best", "hpc"}


class LitFashionCLI(LightningCLI):
    """Links what the data defines (input shape, classes) into the model, and checks inputs before any work."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
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

    def after_instantiate_classes(self) -> None:
        """Build the optimizer and scheduler once on a dummy parameter: bad values fail now, not mid-run."""
        super().after_instantiate_classes()
        if self._ckpt is not None:
            check_state_dict_fits(self._ckpt, self.model, self.config[self.subcommand].ckpt_path)
        make_optimizer = getattr(self.model, "optimizer", None)
        if callable(make_optimizer):
            try:
                optimizer = make_optimizer([torch.nn.Parameter(torch.zeros(1))])
                make_scheduler = getattr(self.model, "scheduler", None)
                if callable(make_scheduler):
                    make_scheduler(optimizer)
            except (ValueError, TypeError, KeyError) as err:
                raise LitFashionError(f"model.optimizer / model.scheduler: {err}") from None


def main(args: Sequence[str] | None = None) -> None:
    try:
        LitFashionCLI(
            LightningModule,
            LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            trainer_defaults={
                "logger": lazy_instance(
                    TensorBoardLogger, save_dir=".", name="lightning_logs", default_hp_metric=False
                )
            },
            args=args,
        )
    except LitFashionError as err:
        print(f"litfashion: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
