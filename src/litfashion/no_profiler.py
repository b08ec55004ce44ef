"""The Trainer's profiler when the config names none: Lightning's ``PassThroughProfiler`` at no cost per hook."""

from contextlib import AbstractContextManager, nullcontext

from lightning.pytorch.profilers import PassThroughProfiler

_NOTHING = nullcontext()


class NoProfiler(PassThroughProfiler):
    """Lightning enters ``trainer.profiler.profile(name)`` around every hook it calls, on every callback, at every
    training step. ``PassThroughProfiler`` builds a generator-based context manager each time, a measurable share
    of a small model's step (BENCHMARKS.md); this returns one shared, reusable no-op context.
    ``trainer.profiler: simple`` (or any other) replaces it as usual."""

    def profile(self, action_name: str) -> AbstractContextManager[None]:
        return _NOTHING
