"""``--workers N``: N worker processes on this machine sharing the study, one GPU each when there are GPUs."""

import multiprocessing
import os
import signal
import sys
from types import FrameType

import torch

from litfashion.errors import LitFashionError
from litfashion.quiet import quiet_third_party
from litfashion.sweep.config import SweepConfig
from litfashion.sweep.worker import INTERRUPTED, run_worker

CONFIG_ERROR = 2


def run_workers(settings: SweepConfig) -> int:
    """One worker runs in this process; more are forked from a forkserver that imported the worker's modules
    once (a fresh interpreter per worker would import torch and Lightning again; a plain fork of this process could
    inherit a CUDA context). Each child picks its GPU itself, before CUDA starts.

    Ctrl-C reaches every process of the terminal's group; it is also passed on to the workers, for a SIGINT
    sent to this process alone. Returns the exit status: 0, ``INTERRUPTED``, or that of a failed worker.
    """
    if settings.workers == 1:
        return run_worker(settings, 0)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["litfashion.cli", "litfashion.sweep.worker"])
    gpus = torch.cuda.device_count()
    workers = []
    for index in range(settings.workers):
        gpu = str(index % gpus) if gpus else None
        process = context.Process(
            target=worker_main, args=(settings, index, gpu, dict(os.environ)), name=f"sweep-worker-{index}"
        )
        process.start()
        workers.append(process)
    interrupted = False

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal interrupted
        interrupted = True
        for process in workers:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGINT)

    previous = signal.signal(signal.SIGINT, forward)
    try:
        for process in workers:
            process.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    codes = [process.exitcode for process in workers]
    if interrupted or INTERRUPTED in codes:
        return INTERRUPTED
    failed = [code for code in codes if code]
    for index, code in enumerate(codes):
        if code and code < 0:
            print(f"litfashion sweep: worker {index} was killed by signal {-code}", file=sys.stderr)
    return (CONFIG_ERROR if CONFIG_ERROR in failed else 1) if failed else 0


def worker_main(
    settings: SweepConfig, index: int, gpu: str | None = None, environ: dict[str, str] | None = None
) -> None:
    """A forked worker gets the command's working folder from multiprocessing, but the environment the forkserver
    started with, which a later command in the same process may have changed: ``environ`` is the command's."""
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
