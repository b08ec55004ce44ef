"""A callback that holds the sweep's first trial inside its fit, so that what a test does to the sweep (a signal,
a stopped server) happens while a fit runs, whatever the machine's speed (a tiny trial ends within a second).

Passed to the trials in ``fit_args`` (``HOLD``). At its first batch it writes ``held`` (its pid) into the run
folder and waits until a test removes that file, or SIGTERM reaches Lightning, or Ctrl-C raises in its sleep.
"""

import os
import time
from collections.abc import Callable
from pathlib import Path

from lightning.pytorch import Callback, LightningModule, Trainer

HOLD = "--fit_args+=[--trainer.callbacks+=tests.helpers.held_trial.HoldTrial]"
HELD = "trial_0000"  # the first trial, whichever worker takes it
MARKER = "held"
LIMIT_S = 600.0


class HoldTrial(Callback):
    def __init__(self) -> None:
        self.done = False

    def on_train_batch_end(self, trainer: Trainer, pl_module: LightningModule, *args: object) -> None:
        run_dir = Path(trainer.log_dir or ".")
        if self.done or run_dir.parent.name != HELD:
            return
        self.done = True
        marker = run_dir / MARKER
        marker.write_text(str(os.getpid()))
        deadline = time.monotonic() + LIMIT_S
        while marker.exists() and not trainer.received_sigterm and time.monotonic() < deadline:
            time.sleep(0.02)


def wait_until_held(run_dir: Path, alive: Callable[[], bool], timeout: float = LIMIT_S) -> int:
    """The pid of the worker holding the trial in ``run_dir``, once it holds it."""
    marker = run_dir / MARKER
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert alive(), "the sweep ended before its first trial was held"
        if marker.is_file() and marker.read_text():
            return int(marker.read_text())
        time.sleep(0.05)
    raise AssertionError(f"{marker} never appeared")
