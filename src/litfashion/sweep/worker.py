"""A worker: takes trials from the shared study until it holds ``n_trials``, running each as a fit in-process."""

import optuna

from litfashion.sweep.config import SweepConfig
from litfashion.sweep.interrupt import Interrupt, exit_status
from litfashion.sweep.owners import this_process
from litfashion.sweep.space import suggest
from litfashion.sweep.storage import StudyStorage, open_storage, storage_errors
from litfashion.sweep.study import counted_trials, fail_lost_trials, open_study, total_trials
from litfashion.sweep.trial_run import run_trial


def run_worker(settings: SweepConfig, worker: int = 0) -> int:
    """0 when the study holds its ``n_trials``; after Ctrl-C or SIGTERM, the shell's status for it (130, 143)."""
    interrupt = Interrupt()
    with interrupt.installed():
        handle = open_storage(settings)
        with storage_errors(handle, settings.storage):
            study = open_study(settings, handle, worker)
            total = total_trials(settings)
            while not interrupt.requested:
                taken = take_trial(settings, handle, study, total)
                if taken is None:
                    break
                trial, params = taken
                run_trial(settings, handle, study, trial, params, interrupt)
    return exit_status(interrupt.signum) if interrupt.signum is not None else 0


def take_trial(
    settings: SweepConfig, handle: StudyStorage, study: optuna.Study, total: int
) -> tuple[optuna.Trial, dict] | None:
    """The next trial and its values, or None when the study is full; under the study-wide lock, so no two
    workers take the last slot and the sampler sees every running trial's values."""
    with handle.lock():
        fail_lost_trials(study, handle)
        if counted_trials(study) >= total:
            return None
        trial = study.ask()
        for key, value in this_process().items():
            trial.set_user_attr(key, value)
        return trial, suggest(trial, settings.space)
