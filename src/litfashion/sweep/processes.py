"""``--workers N``: N worker processes on this machine sharing the study, one GPU each when there are GPUs."""

import multiprocessing
import os
import signal
import sys
from multiprocessing import forkserver
from types import FrameType

import torch

from litfashion.errors import LitFashionError
from litfashion.quiet import quiet_third_party
from litfashion.sweep.config import SweepConfig
from litfashion.sweep.interrupt import STOP_SIGNALS, exit_status, stop_signal_of
from litfashion.sweep.worker import run_worker

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
