"""One trial: a real ``litfashion fit`` in this process, its outcome told to the study."""

from contextlib import suppress
from typing import Any

import optuna
from optuna.trial import TrialState

from litfashion.sweep.config import SweepConfig
from litfashion.sweep.fit_command import build_fit, fit_arguments, run_name
from litfashion.sweep.interrupt import Interrupt
from litfashion.sweep.pruning import MetricNotLoggedError, ReportToTrial
from litfashion.sweep.storage import STORAGE_FAILURES, StudyStorage, heartbeat
from litfashion.sweep.study import retry


def run_trial(
    settings: SweepConfig,
    handle: StudyStorage,
    study: optuna.Study,
    trial: optuna.Trial,
    params: dict[str, Any],
    interrupt: Interrupt,
) -> None:
    """Fit with the trial's values and tell the study COMPLETE (best value), PRUNED (last value) or FAIL.

    A NaN loss or any error fails only this trial; Ctrl-C or SIGTERM fails it and queues it again for the next
    run. A storage server that fails stops the worker (the trial is queued again if the server still answers).
    """
    name = run_name(trial.number)
    report = ReportToTrial(trial, settings.metric, settings.direction == "maximize")
    checkpoint = None
    try:
        with heartbeat(handle, trial):
            cli = build_fit(fit_arguments(settings, name, params))
            cli.trainer.callbacks.append(report)
            trial.set_user_attr("run_dir", cli.trainer.log_dir)
            checkpoint = cli.trainer.checkpoint_callback
            interrupt.trainer = cli.trainer
            interrupt.in_fit = True
            if interrupt.requested:
                raise KeyboardInterrupt
            cli.trainer.fit(cli.model, datamodule=cli.datamodule)
            interrupt.in_fit = False
    except (KeyboardInterrupt, SystemExit) as err:  # Lightning exits after Ctrl-C; SIGTERMException is a SystemExit
        interrupt.in_fit = False
        if interrupt.requested:
            requeue(study, trial, f"interrupted ({interrupt.name}); queued again")
            return
        fail(study, trial, f"the fit exited ({err})")
        return
    except MetricNotLoggedError as err:
        interrupt.in_fit = False
        fail(study, trial, str(err))
        raise
    except STORAGE_FAILURES:
        interrupt.in_fit = False
        with suppress(Exception):  # the server may be gone: the next run then finds the trial's worker gone
            requeue(study, trial, "the study's storage failed; queued again")
        raise
    except Exception as err:
        interrupt.in_fit = False
        fail(study, trial, f"{type(err).__name__}: {err}")
        return
    if checkpoint is not None and checkpoint.best_model_path:
        trial.set_user_attr("best_checkpoint", checkpoint.best_model_path)
    if report.pruned:
        study.tell(trial, state=TrialState.PRUNED)
    elif report.best is None:
        fail(study, trial, f"{settings.metric} was never a finite number")
    else:
        study.tell(trial, report.best)


def requeue(study: optuna.Study, trial: optuna.Trial, note: str) -> None:
    """FAIL with ``note``, and its values queued again: stopped from outside, it is not a result."""
    before = [t for t in study.get_trials(deepcopy=True, states=(TrialState.RUNNING,)) if t.number == trial.number]
    trial.set_user_attr("error", note)
    study.tell(trial, state=TrialState.FAIL)
    for frozen in before:
        retry(study, frozen)


def fail(study: optuna.Study, trial: optuna.Trial, message: str) -> None:
    trial.set_user_attr("error", message.splitlines()[0] if message else "failed")
    study.tell(trial, state=TrialState.FAIL)
