"""Schedulers that need the run's length (OneCycleLR) get the Trainer's step count unless the config gives one."""

import functools

import pytest
import torch

from litfashion.errors import ConfigError
from litfashion.models.schedulers import build_scheduler, needs_total_steps


def test_one_cycle_without_a_length_gets_the_trainers_step_count() -> None:
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))])
    one_cycle = functools.partial(lambda cls, *a, **kw: cls(*a, **kw), torch.optim.lr_scheduler.OneCycleLR, max_lr=0.1)
    assert needs_total_steps(one_cycle)
    assert build_scheduler(one_cycle, optimizer, 17.0).total_steps == 17
    given = functools.partial(one_cycle, total_steps=5)
    assert not needs_total_steps(given)
    assert build_scheduler(given, optimizer, 17.0).total_steps == 5
    step_lr = functools.partial(lambda cls, *a, **kw: cls(*a, **kw), torch.optim.lr_scheduler.StepLR, step_size=3)
    assert not needs_total_steps(step_lr)
    with pytest.raises(ConfigError, match="needs the run's length"):
        build_scheduler(one_cycle, optimizer, float("inf"))
