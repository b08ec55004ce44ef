"""The Optuna study: its sampler and pruner, which trials count toward ``n_trials``, and trials whose worker died.

A trial that was stopped from outside (Ctrl-C, its worker killed, its machine's heartbeat lost) is marked
FAIL and queued again with the same values, as Optuna's ``RetryHeartbeatStaleTrialCallback`` does: the FAIL
stays in the study as a record, and only its retry counts toward ``n_trials``. A trial that failed on its own
(a NaN loss) is a result and counts.
"""

import logging
import warnings

import optuna
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from litfashion.errors import ConfigError
from litfashion.sweep.config import SweepConfig
from litfashion.sweep.owners import is_gone
from litfashion.sweep.space import grid, grid_size
from litfashion.sweep.storage import StudyStorage

OWNER_KEYS = ("host", "pid", "pid_start")


class GridSampler(optuna.samplers.GridSampler):
    """Optuna's grid, without its ``study.stop()`` once the grid is done: that only works inside
    ``Study.optimize``, and the workers stop by counting trials instead."""

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: object) -> None:
        pass


def make_sampler(settings: SweepConfig, worker: int) -> optuna.samplers.BaseSampler:
    """TPE and random are seeded per worker (``seed + worker``), else all workers would draw the same first
    points; the grid's seed orders its points and must be the same in every worker."""
    config = settings.sampler
    if config.type == "grid":
        return GridSampler(grid(settings.space), seed=config.seed)
    seed = None if config.seed is None else config.seed + worker
    if config.type == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # constant_liar: running trials count as bad results, so parallel workers spread out.
        return optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=config.n_startup_trials, multivariate=True, constant_liar=True
        )


def make_pruner(settings: SweepConfig) -> optuna.pruners.BasePruner:
    config = settings.pruner
    if config.type == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=config.n_startup_trials, n_warmup_steps=config.n_warmup_steps
        )
    if config.type == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=config.min_resource, reduction_factor=config.reduction_factor
        )
    return optuna.pruners.NopPruner()


def open_study(settings: SweepConfig, handle: StudyStorage, worker: int = 0) -> optuna.Study:
    """The sweep's study, created on first use; continuing one with the other direction is refused."""
    optuna.logging.set_verbosity(logging.WARNING)
    direction = StudyDirection.MAXIMIZE if settings.direction == "maximize" else StudyDirection.MINIMIZE
    study = optuna.create_study(
        study_name=settings.study_name,
        storage=handle.storage,
        sampler=make_sampler(settings, worker),
        pruner=make_pruner(settings),
        direction=settings.direction,
        load_if_exists=True,
    )
    if study.direction != direction:
        raise ConfigError(
            f"{settings.source}: study {settings.study_name} in {handle.where} was created to "
            f"{study.direction.name.lower()} its metric, not to {settings.direction}: pick another study_name"
        )
    if worker == 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([settings.metric])
    return study


def total_trials(settings: SweepConfig) -> int:
    """``n_trials``, or the grid's size when a grid search has fewer points."""
    if settings.sampler.type == "grid":
        return min(settings.n_trials, grid_size(settings.space))
    return settings.n_trials


def retried_numbers(trials: list[FrozenTrial]) -> set[int]:
    return {number for trial in trials for number in trial.system_attrs.get("retry_history", [])}


def counted_trials(study: optuna.Study) -> int:
    """Trials that count toward ``n_trials``: running or finished, except those stopped from outside and retried."""
    trials = study.get_trials(deepcopy=False)
    retried = retried_numbers(trials)
    return sum(1 for t in trials if t.state != TrialState.WAITING and t.number not in retried)


def retry(study: optuna.Study, trial: FrozenTrial) -> None:
    """Queue ``trial``'s values again (``trial`` as it was before it was marked FAIL)."""
    RetryHeartbeatStaleTrialCallback()(study, trial)


def fail_lost_trials(study: optuna.Study, handle: StudyStorage) -> list[int]:
    """Mark FAIL (and queue again) the RUNNING trials whose worker process on this host is gone, and on a
    database those whose heartbeat stopped; returns their numbers."""
    lost = []
    for trial in study.get_trials(deepcopy=True, states=(TrialState.RUNNING,)):
        if is_gone({key: trial.user_attrs.get(key) for key in OWNER_KEYS}):
            study.tell(trial.number, state=TrialState.FAIL)
            retry(study, trial)
            lost.append(trial.number)
    if handle.rdb is not None:
        optuna.storages.fail_stale_trials(study)
    return lost
