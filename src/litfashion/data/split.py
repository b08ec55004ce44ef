"""The seeded hold-out split shared by the image data modules."""

import torch
from torch import Tensor


def holdout_split(n: int, fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """``(held_out, kept)`` indices of ``n`` samples: a ``fraction`` (at least one) chosen by ``seed``.

    Its own generator, so the split is the same on every rank and leaves the global random state alone.
    """
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_held = max(1, round(fraction * n))
    return order[:n_held], order[n_held:]
