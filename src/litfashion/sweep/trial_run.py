"""One trial: a real ``litfashion fit`` in this process, its outcome told to the study."""

from typing import Any

import optuna
from optuna.trial import TrialState

from litfashion.sweep.config import SweepConfig
from litfashion.sweep.fit_command import build_fit, fit_arguments, run_name
from litfashion.sweep.interrupt import Interrupt
from litfashion.sweep.pruning import MetricNotLoggedError, ReportToTrial
from litfashion.sweep.storage import StudyStorage, heartbeat
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

    A NaN loss or any error fails only this trial; Ctrl-C fails it and queues it again for the next run.
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
            interrupt.in_fit = True
            if interrupt.requested:
                raise KeyboardInterrupt
            cli.trainer.fit(cli.model, datamodule=cli.datamodule)
            interrupt.in_fit = False
    except (KeyboardInterrupt, SystemExit) as err:
        interrupt.in_fit = False
        if interrupt.requested:
            before = study.get_trials(deepcopy=True, states=(TrialState.RUNNING,))
            trial.set_user_attr("error", "interrupted (Ctrl-C); queued again")
            study.tell(trial, state=TrialState.FAIL)
            for frozen in before:
                if frozen.number == trial.number:
                    retry(study, frozen)
            return
        fail(study, trial, f"the fit exited ({err})")
        return
    except MetricNotLoggedError as err:
        interrupt.in_fit = False
        fail(study, trial, str(err))
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


def fail(study: optuna.Study, trial: optuna.Trial, message: str) -> None:
    trial.set_user_attr("error", message.splitlines()[0] if message else "failed")
    study.tell(trial, state=TrialState.FAIL)
