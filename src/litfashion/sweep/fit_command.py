"""The ``litfashion fit`` arguments of one trial: the sweep's fit configs and arguments, its values, its run folder."""

from pathlib import Path
from typing import Any

from litfashion.cli import LitFashionCLI, make_cli
from litfashion.sweep.config import SweepConfig
from litfashion.sweep.space import fit_argument


def build_fit(args: list[str]) -> LitFashionCLI:
    """The fit's model, data and Trainer, as ``litfashion fit`` builds them (``make_cli(run=False)``)."""
    return make_cli(args, run=False)


def run_name(number: int) -> str:
    return f"trial_{number:04d}"


def fit_arguments(settings: SweepConfig, name: str, params: dict[str, Any]) -> list[str]:
    """Arguments for ``make_cli(..., run=False)``; the run logs to ``<sweep_dir>/<name>/version_0``.

    The logger's ``version`` is left to TensorBoardLogger, so re-running the saved ``config.yaml`` writes a new
    ``version_1`` beside the trial instead of over it. ``checkpoint.dirpath`` is cleared (a fixed folder would be
    shared by all trials) and the best checkpoint follows the sweep's metric.
    """
    args: list[str] = []
    for config in settings.fit_configs:
        args += ["--config", config]
    args += settings.fit_args
    args += [
        f"--trainer.logger.init_args.save_dir={Path(settings.sweep_dir).absolute()}",
        f"--trainer.logger.init_args.name={name}",
        "--checkpoint.dirpath=null",
        f"--checkpoint.monitor={settings.metric}",
        f"--checkpoint.mode={'max' if settings.direction == 'maximize' else 'min'}",
    ]
    return args + [fit_argument(path, value) for path, value in params.items()]
