"""Logs how long each training epoch takes and how many samples per second it trains, plus the start-up time."""

import os
import time
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities.data import extract_batch_size


def process_age_s() -> float | None:
    """Seconds since this process started, from ``/proc`` (Linux); None where that is not available."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started_ticks = int(fields[19])  # field 22 of proc(5), counted after "pid (comm)"
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    return uptime - started_ticks / os.sysconf("SC_CLK_TCK")


class EpochTimer(Callback):
    """Logs ``time/epoch_s`` and ``time/train_samples_per_s`` per epoch, and ``time/startup_s`` once.

    The epoch time runs from ``on_train_epoch_start`` to the end of the epoch's last training batch, so it
    leaves out the validation that Lightning runs inside the epoch: it is the time a plain ``train_loop`` takes.
    ``time/startup_s`` is the time from the process start to the start of the first training epoch (Linux only).
    It takes no arguments.
    """

    def __init__(self) -> None:
        self._start = 0.0
        self._end = 0.0
        self._samples = 0
        self._startup: float | None = None
        self._startup_logged = False

    def on_train_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self._startup_logged:
            self._startup = process_age_s()
        self._samples = 0
        self._start = self._end = time.perf_counter()

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self._samples += extract_batch_size(batch)
        self._end = time.perf_counter()

    def on_train_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        seconds = self._end - self._start
        if seconds <= 0:
            return
        pl_module.log("time/epoch_s", seconds)
        pl_module.log("time/train_samples_per_s", self._samples / seconds)
        if self._startup is not None and not self._startup_logged:
            pl_module.log("time/startup_s", self._startup)
            self._startup_logged = True
