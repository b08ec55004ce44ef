"""CallbackGroup: each hook reaches the members that implement it, in order; the group refuses stateful members."""

from types import SimpleNamespace
from typing import Any

import pytest
from lightning.pytorch import Callback
from lightning.pytorch.profilers import PassThroughProfiler, SimpleProfiler

from litfashion.callbacks.group import CallbackGroup, is_stateless
from litfashion.callbacks.rng_state import RNGStateCheckpoint


class Recorder(Callback):
    def __init__(self, name: str, calls: list[tuple[str, str, tuple[Any, ...]]]) -> None:
        self.name = name
        self.calls = calls

    def on_train_batch_end(self, *args: Any) -> None:
        self.calls.append((self.name, "on_train_batch_end", args))


class EpochOnly(Callback):
    def __init__(self, calls: list[tuple[str, str, tuple[Any, ...]]]) -> None:
        self.calls = calls

    def on_train_epoch_end(self, *args: Any) -> None:
        self.calls.append(("epoch", "on_train_epoch_end", args))

    def on_exception(self, *args: Any) -> None:
        self.calls.append(("epoch", "on_exception", args))


def test_each_hook_reaches_the_members_that_implement_it_in_order() -> None:
    calls: list[tuple[str, str, tuple[Any, ...]]] = []
    group = CallbackGroup([Recorder("a", calls), EpochOnly(calls), Recorder("b", calls)])
    trainer = SimpleNamespace(profiler=PassThroughProfiler())
    group.on_train_batch_end(trainer, "module", "outputs", "batch", 3)
    group.on_train_epoch_end(trainer, "module")
    group.on_exception(trainer, "module", KeyboardInterrupt())
    group.on_validation_batch_end(trainer, "module", None, None, 0)  # nobody implements it: nothing happens
    assert [(name, hook) for name, hook, _ in calls] == [
        ("a", "on_train_batch_end"),
        ("b", "on_train_batch_end"),
        ("epoch", "on_train_epoch_end"),
        ("epoch", "on_exception"),
    ]
    assert calls[0][2] == (trainer, "module", "outputs", "batch", 3)


def test_a_profiler_sees_each_member_under_its_own_name() -> None:
    calls: list[tuple[str, str, tuple[Any, ...]]] = []
    profiler = SimpleProfiler()
    group = CallbackGroup([Recorder("a", calls), EpochOnly(calls)])
    group.on_train_batch_end(SimpleNamespace(profiler=profiler), "module", None, None, 0)
    group.on_train_epoch_end(SimpleNamespace(profiler=profiler), "module")
    assert set(profiler.recorded_durations) == {
        "[Callback]Recorder.on_train_batch_end",
        "[Callback]EpochOnly.on_train_epoch_end",
    }


def test_only_stateless_callbacks_join() -> None:
    assert is_stateless(Recorder("a", [])) and not is_stateless(RNGStateCheckpoint())
    with pytest.raises(ValueError, match="RNGStateCheckpoint"):
        CallbackGroup([Recorder("a", []), RNGStateCheckpoint()])
