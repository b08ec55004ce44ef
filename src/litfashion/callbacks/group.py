"""Several stateless callbacks behind one: Lightning dispatches each hook to the group once, not to each member."""

from collections.abc import Callable, Iterable
from typing import Any

from lightning.pytorch import Callback, Trainer
from lightning.pytorch.profilers import PassThroughProfiler

# Every hook Lightning may call on a callback (``setup``, ``on_train_batch_end``, ``on_exception``, ...).
HOOKS = tuple(
    name
    for name, value in vars(Callback).items()
    if callable(value) and (name.startswith("on_") or name in ("setup", "teardown"))
)


def overrides(callback: Callback, hook: str) -> bool:
    return getattr(type(callback), hook) is not getattr(Callback, hook)


def is_stateless(callback: Callback) -> bool:
    """Whether the callback keeps nothing in checkpoints, so grouping it leaves checkpoints as they were."""
    return not any(overrides(callback, name) for name in ("state_dict", "load_state_dict")) and callback.state_key == (
        type(callback).__qualname__
    )


def _fan_out(name: str, members: list[Callback]) -> Callable[..., None]:
    """The group's ``name`` hook; under a profiler each member's share is recorded as Lightning names it."""
    targets = [(getattr(member, name), f"[Callback]{member.state_key}.{name}") for member in members]

    def hook(trainer: Trainer, *args: Any, **kwargs: Any) -> None:
        if isinstance(trainer.profiler, PassThroughProfiler):
            for target, _ in targets:
                target(trainer, *args, **kwargs)
            return
        for target, action in targets:
            with trainer.profiler.profile(action):
                target(trainer, *args, **kwargs)

    return hook


class CallbackGroup(Callback):
    """Calls each hook on the members that implement it, in the members' order.

    Lightning calls all of a callback's hooks at every step, six of them per training step, through its
    profiler and ``state_key``, whether the callback overrides them or not; the per-run panels and checks do
    nothing at most of those calls. Grouped, they cost one dispatch per hook. Only stateless callbacks belong
    here (``is_stateless``): their checkpoint state would otherwise be filed under the group.

    Args:
        callbacks: The members, called in this order; the CLI builds the group from the stateless ones.
    """

    def __init__(self, callbacks: Iterable[Callback]) -> None:
        self.callbacks = list(callbacks)
        stateful = [type(cb).__name__ for cb in self.callbacks if not is_stateless(cb)]
        if stateful:
            raise ValueError(f"only stateless callbacks can be grouped, not {', '.join(stateful)}")
        for name in HOOKS:
            members = [cb for cb in self.callbacks if overrides(cb, name)]
            if members:
                setattr(self, name, _fan_out(name, members))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(type(cb).__name__ for cb in self.callbacks)})"
