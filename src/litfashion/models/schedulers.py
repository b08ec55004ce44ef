"""Schedulers that need the run's length (``OneCycleLR``) get it from the Trainer, so the YAML need not say it."""

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any

from litfashion.errors import ConfigError


def needs_total_steps(factory: Callable[..., Any]) -> bool:
    """Whether ``factory`` builds a scheduler that takes ``total_steps`` and was given neither it nor ``epochs``.

    ``factory`` is what LightningCLI injects for a ``LRSchedulerCallable``: a ``functools.partial`` holding the
    class and the YAML's ``init_args`` (or a plain class, for a default given in code).
    """
    given: dict[str, Any] = {}
    cls: Any = factory
    if isinstance(factory, functools.partial):
        given = dict(factory.keywords)
        cls = next((arg for arg in factory.args if isinstance(arg, type)), factory.func)
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False
    return "total_steps" in parameters and given.get("total_steps") is None and given.get("epochs") is None


def build_scheduler(factory: Callable[..., Any], optimizer: Any, total_steps: float) -> Any:
    """``factory(optimizer)``, passing ``total_steps`` (the Trainer's stepping batches) where it is needed."""
    if not needs_total_steps(factory):
        return factory(optimizer)
    if not math.isfinite(total_steps) or total_steps < 1:
        raise ConfigError(
            "model.scheduler needs the run's length (total_steps): set trainer.max_epochs or trainer.max_steps, "
            "or give the scheduler's total_steps"
        )
    return factory(optimizer, total_steps=int(total_steps))
