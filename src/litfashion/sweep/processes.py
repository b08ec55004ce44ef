"""``--workers N``: N worker processes on this machine sharing the study, one GPU each when there are GPUs."""

import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import torch

from litfashion.errors import LitFashionError
from litfashion.sweep.config import SweepConfig
from litfashion.sweep.worker import INTERRUPTED, run_worker

CONFIG_ERROR = 2


def run_workers(settings: SweepConfig) -> int:
    """One worker runs in this process; more are spawned (a fresh interpreter each: CUDA cannot be forked).

    Ctrl-C reaches every process of the terminal's group; it is also passed on to the workers, for a SIGINT
    sent to this process alone. Returns the exit status: 0, ``INTERRUPTED``, or that of a failed worker.
    """
    if settings.workers == 1:
        return run_worker(settings, 0)
    context = multiprocessing.get_context("spawn")
    gpus = torch.cuda.device_count()
    workers = []
    for index in range(settings.workers):
        environment = {"CUDA_VISIBLE_DEVICES": str(index % gpus)} if gpus else {}
        with patched_environ(environment):
            process = context.Process(target=worker_main, args=(settings, index), name=f"sweep-worker-{index}")
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


def worker_main(settings: SweepConfig, index: int) -> None:
    try:
        code = run_worker(settings, index)
    except LitFashionError as err:
        print(f"litfashion sweep: error: {err}", file=sys.stderr)
        code = CONFIG_ERROR
    sys.exit(code)


@contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    """Environment variables for a child about to start (it copies them), restored afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
