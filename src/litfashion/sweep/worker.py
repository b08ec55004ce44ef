"""The workers and their trials: ``--workers N`` processes, each taking trials from the shared study and running
each as a real ``litfashion fit`` in-process; Ctrl-C and SIGTERM; the callback that reports to the pruner; and the
check of the search space by the same fit CLI before any trial starts.
"""

import io
import math
import multiprocessing
import os
import signal
import sys
from argparse import ArgumentError
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, suppress
from multiprocessing import forkserver
from pathlib import Path
from types import FrameType
from typing import Any

import optuna
import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from optuna.trial import TrialState

from litfashion.cli import LitFashionCLI, make_cli
from litfashion.error_report import condense, project_error
from litfashion.errors import ConfigError, LitFashionError
from litfashion.quiet import quiet_third_party
from litfashion.sweep.config import (
    SweepConfig,
    boundary_values,
    fit_argument,
    suggest,
)
from litfashion.sweep.study import (
    STORAGE_FAILURES,
    StudyStorage,
    counted_trials,
    fail_lost_trials,
    heartbeat,
    open_storage,
    open_study,
    retry,
    storage_errors,
    this_process,
    total_trials,
)

# --- Ctrl-C and SIGTERM: the running trial is stopped and marked, and no storage write is cut in half.

# A preemption or a service manager's stop (SIGTERM) is handled as Ctrl-C (SIGINT) is.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def exit_status(signum: int) -> int:
    """The shell's status for a process stopped by ``signum``: 130 for SIGINT, 143 for SIGTERM."""
    return 128 + signum


def stop_signal_of(status: int | None) -> int | None:
    """The stop signal behind a worker's exit status (``128 + n``, or ``-n`` for a process the signal ended)."""
    for signum in STOP_SIGNALS:
        if status in (exit_status(signum), -signum):
            return signum
    return None


def signal_name(signum: int) -> str:
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


class Interrupt:
    """Ctrl-C or SIGTERM in a worker, noted outside a fit, so a storage write is never cut in half. Inside a fit,
    Ctrl-C raises ``KeyboardInterrupt`` (Lightning then shuts the fit down); SIGTERM is left to Lightning's own
    handler, which runs first and stops the fit at the end of the step with ``SIGTERMException``; it is raised
    here only when that handler is not installed yet. A second signal is ignored."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.in_fit = False
        self.trainer: Any = None  # the running fit's Trainer, whose ``received_sigterm`` says Lightning saw SIGTERM

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str:
        return signal_name(self.signum) if self.signum is not None else ""

    @contextmanager
    def installed(self) -> Iterator[None]:
        previous = {signum: signal.signal(signum, self._handle) for signum in STOP_SIGNALS}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            return
        self.signum = signum
        if not self.in_fit:
            return
        if signum == signal.SIGTERM and getattr(self.trainer, "received_sigterm", False):
            return
        raise KeyboardInterrupt


# --- ``--workers N``: N worker processes on this machine sharing the study, one GPU each when there are GPUs.

CONFIG_ERROR = 2


def run_workers(settings: SweepConfig) -> int:
    """One worker runs in this process; more are forked from a forkserver that imported the worker's modules
    once (a fresh interpreter per worker would import torch and Lightning again; a plain fork of this process could
    inherit a CUDA context). Each child picks its GPU itself, before CUDA starts.

    Ctrl-C reaches every process of the terminal's group; Ctrl-C or SIGTERM sent to this process alone is
    passed on to the workers. The forkserver ignores both (it would otherwise die of a SIGTERM to the group and
    take the workers' exit statuses with it). Returns the exit status: 0, 130 or 143 after Ctrl-C or SIGTERM
    (here or in any worker), or that of a failed worker.
    """
    if settings.workers == 1:
        return run_worker(settings, 0)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["litfashion.cli", "litfashion.sweep.worker"])
    start_forkserver()
    gpus = torch.cuda.device_count()
    workers: list[multiprocessing.process.BaseProcess] = []
    received: list[int] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        for process in workers:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signum)

    previous = {signum: signal.signal(signum, forward) for signum in STOP_SIGNALS}
    try:
        for index in range(settings.workers):
            if received:
                break
            gpu = str(index % gpus) if gpus else None
            process = context.Process(
                target=worker_main, args=(settings, index, gpu, dict(os.environ)), name=f"sweep-worker-{index}"
            )
            process.start()
            workers.append(process)
        for process in workers:
            process.join()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    codes = [process.exitcode for process in workers]
    stopped = received + [signum for signum in map(stop_signal_of, codes) if signum is not None]
    if stopped:
        return exit_status(stopped[0])
    failed = [code for code in codes if code]
    for index, code in enumerate(codes):
        if code and code < 0:
            print(f"litfashion sweep: worker {index} was killed by signal {-code}", file=sys.stderr)
    return (CONFIG_ERROR if CONFIG_ERROR in failed else 1) if failed else 0


def start_forkserver() -> None:
    """Starts the forkserver, if it is not running, with SIGTERM ignored (it ignores SIGINT itself); a worker sets
    its own handlers."""
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGTERM, previous)


def worker_main(
    settings: SweepConfig, index: int, gpu: str | None = None, environ: dict[str, str] | None = None
) -> None:
    """A forked worker gets the command's working folder from multiprocessing, but the environment the forkserver
    started with, which a later command in the same process may have changed: ``environ`` is the command's."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the forkserver's SIG_IGN, until the worker installs its own
    if environ is not None:
        os.environ.clear()
        os.environ.update(environ)
    quiet_third_party("sweep")  # a fresh interpreter's warning filters, not the command's
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu  # read when CUDA starts, which is later, in this process
    try:
        code = run_worker(settings, index)
    except LitFashionError as err:
        print(f"litfashion sweep: error: {err}", file=sys.stderr)
        code = CONFIG_ERROR
    sys.exit(code)


# --- A worker: takes trials from the shared study until it holds ``n_trials``, running each as a fit in-process.


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


# --- One trial: a real ``litfashion fit`` in this process, its outcome told to the study.


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


# --- Pruning: the sweep's metric reported to the trial after each validation; a trial the pruner gives up on stops.
# Added to the trial's Trainer in code, not through the config: the run's config.yaml stays a plain fit config
# that `litfashion fit --config` re-runs without Optuna.


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


# --- The ``litfashion fit`` arguments of one trial: the sweep's fit configs and arguments, its values, its run folder.


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


# --- The search space checked by the fit CLI's own parser, before any trial starts and before anything is written:
# each entry parsed at both ends of its range (or with each choice) on top of the fit configs, so the parser that
# will run the trials judges unknown paths and values of the wrong type; nothing is instantiated per value.


def check_space(settings: SweepConfig) -> None:
    base = fit_arguments(settings, "space_check", {})
    cli = build_base(settings, base)
    parser = cli.parser
    parser.exit_on_error = False  # raise ArgumentError to report here, instead of printing usage and exiting
    for path, param in settings.space.items():
        for value in boundary_values(param):
            try:
                parser.parse_args([*base, fit_argument(path, value)])
            except ArgumentError as err:
                raise ConfigError(
                    f"{settings.source}: space entry {path} (value {value!r}) does not fit the fit config: "
                    f"{condense(str(err))}"
                ) from None


def build_base(settings: SweepConfig, base: list[str]) -> LitFashionCLI:
    """The fit CLI on the sweep's fit configs and ``fit_args``, built once (their own errors are reported here)."""
    stderr = io.StringIO()
    try:
        with redirect_stderr(stderr):
            return build_fit(base)
    except SystemExit:
        message = stderr.getvalue().strip().split("error:", 1)[-1]
        raise ConfigError(f"{settings.source}: fit_configs/fit_args do not parse: {condense(message)}") from None
    except Exception as err:
        reported = project_error(err)
        if reported is None:
            raise
        raise ConfigError(f"{settings.source}: fit_configs/fit_args: {reported}") from None
