"""Starting a network from a local weight file: an earlier run's export or checkpoint, or a plain state_dict."""

import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from litfashion.errors import CheckpointError

NET_PREFIX = "net."


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors in ``path``: a ``state_dict`` (``model_weights.pth``), or a Lightning checkpoint's ``net.*``."""
    where = f"model.init_weights {path}"
    if not Path(path).is_file():
        raise CheckpointError(f"{where}: no such file")
    try:
        loaded: Any = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(
            f"{where}: refused, it holds pickled Python objects; only tensors are accepted (weights_only=True)"
        ) from None
    except Exception as err:
        raise CheckpointError(f"{where}: not a readable PyTorch file ({type(err).__name__}: {err})") from None
    if isinstance(loaded, dict) and isinstance(loaded.get("state_dict"), dict):
        loaded = {k.removeprefix(NET_PREFIX): v for k, v in loaded["state_dict"].items() if k.startswith(NET_PREFIX)}
    if not isinstance(loaded, dict) or not loaded or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise CheckpointError(f"{where}: not a state_dict (a dict of tensors) nor a checkpoint with net.* weights")
    return loaded


def load_init_weights(net: nn.Module, path: str | Path) -> None:
    """Load ``path`` into ``net``, strictly: a file that does not fit names its missing, unexpected and
    mis-shaped keys. A network that wraps one model (``TorchvisionNet``'s ``model``) also takes that model's
    own ``state_dict``, keys without the wrapper's prefix."""
    weights = read_state_dict(path)
    expected = net.state_dict()
    prefixes = {key.split(".", 1)[0] for key in expected}
    if len(prefixes) == 1 and not weights.keys() & expected.keys():
        wrapped = {f"{next(iter(prefixes))}.{k}": v for k, v in weights.items()}
        if wrapped.keys() & expected.keys():
            weights = wrapped
    problems = [f"missing {k}" for k in expected if k not in weights]
    problems += [f"unexpected {k}" for k in weights if k not in expected]
    problems += [
        f"{k}: shape {list(weights[k].shape)} in the file, {list(v.shape)} in the network"
        for k, v in expected.items()
        if k in weights and weights[k].shape != v.shape
    ]
    if problems:
        shown = "; ".join(problems[:6]) + (f"; and {len(problems) - 6} more" if len(problems) > 6 else "")
        raise CheckpointError(f"model.init_weights {path} does not fit the network ({type(net).__name__}): {shown}")
    net.load_state_dict(weights)
