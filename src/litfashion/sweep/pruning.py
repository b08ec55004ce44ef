"""Reports the sweep's metric to the Optuna trial after each validation, and stops a trial the pruner gives up on.

Added to the trial's Trainer in code, not through the config: the run's ``config.yaml`` stays a plain fit
config that ``litfashion fit --config`` re-runs without Optuna.
"""

import math

import optuna
from lightning.pytorch import Callback, LightningModule, Trainer

from litfashion.errors import ConfigError


class MetricNotLoggedError(ConfigError):
    """The sweep's metric is not among the run's logged metrics: every trial would fail the same way."""


class ReportToTrial(Callback):
    """Steps are the trial's validation count (0, 1, ...), comparable across trials whatever their batch size.

    A pruned trial stops through ``trainer.should_stop`` at the end of its epoch, so its checkpoints and logs
    are complete; the caller then tells the study PRUNED (Optuna keeps the last reported value).
    """

    def __init__(self, trial: optuna.Trial, metric: str, maximize: bool) -> None:
        self.trial = trial
        self.metric = metric
        self.maximize = maximize
        self.validations = 0
        self.pruned = False
        self.best: float | None = None

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get(self.metric)
        if value is None:
            logged = ", ".join(sorted(trainer.callback_metrics)) or "none"
            raise MetricNotLoggedError(f"the sweep's metric {self.metric} is not logged by the run (logged: {logged})")
        value = float(value)
        self.trial.report(value, step=self.validations)
        self.validations += 1
        if math.isfinite(value) and (self.best is None or (value > self.best if self.maximize else value < self.best)):
            self.best = value
        if self.trial.should_prune():
            self.pruned = True
            trainer.should_stop = True
