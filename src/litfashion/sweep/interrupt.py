"""Ctrl-C in a worker: the running trial is stopped and marked, and no storage write is cut in half."""

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Interrupt:
    """Ctrl-C in a worker: raised inside a running fit (Lightning then shuts it down and the trial is marked),
    only noted elsewhere, so a storage write is never cut in half. A second Ctrl-C is ignored."""

    def __init__(self) -> None:
        self.requested = False
        self.in_fit = False

    @contextmanager
    def installed(self) -> Iterator[None]:
        previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            return
        self.requested = True
        if self.in_fit:
            raise KeyboardInterrupt
