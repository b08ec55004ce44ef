"""Ctrl-C or SIGTERM in a worker: the running trial is stopped and marked, and no storage write is cut in half."""

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

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
