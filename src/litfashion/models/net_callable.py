"""How ``ImageClassifier`` gets its network: a factory injected by LightningCLI, called with the data's shape."""

import functools
import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from litfashion.errors import ConfigError

# Like LightningCLI's ``OptimizerCallable``: the YAML gives ``{class_path, init_args}`` without the first two
# arguments (input shape and class count), which the model passes, linked from the data module.
NetCallable = Callable[[Sequence[int], int], nn.Module]


def net_spec(net: Any) -> dict[str, Any]:
    """``{class_path, init_args}`` of a factory given in Python (a class, or a ``functools.partial`` of one).

    What the CLI records for a YAML's ``net``; a checkpoint holding it (rather than the callable) stays loadable
    with ``weights_only=True`` and tells ``litfashion export`` what to rebuild.
    """
    init_args: dict[str, Any] = {}
    cls = net
    if isinstance(net, functools.partial):
        init_args = dict(net.keywords)
        cls = next((arg for arg in net.args if isinstance(arg, type)), net.func)
    return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": init_args}


def import_net_class(class_path: str) -> type[nn.Module]:
    """The ``torch.nn.Module`` class named by ``class_path`` (``package.module.Class``)."""
    module_name, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError) as err:
        raise ConfigError(f"model.net: {class_path} cannot be imported ({err})") from None
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ConfigError(f"model.net: {class_path} is not a torch.nn.Module class")
    return cls


def net_factory(net: NetCallable | Mapping[str, Any]) -> NetCallable:
    """``net`` itself, or the factory that a recorded ``{class_path, init_args}`` describes: what
    ``ImageClassifier(**hparams)`` (``load_from_checkpoint`` of a model built in Python) and the export get."""
    if not isinstance(net, Mapping):
        return net
    return functools.partial(import_net_class(net["class_path"]), **dict(net.get("init_args") or {}))


def build_net(net: NetCallable, input_shape: Sequence[int], num_classes: int, class_path: str) -> nn.Module:
    """``net(input_shape, num_classes)``, checked by one forward pass of a zero image before any training.

    The pass runs in eval mode without gradients: it touches no BatchNorm statistics and draws no random
    numbers, so training is the same as without it.
    """
    module = net(list(input_shape), num_classes)
    if not isinstance(module, nn.Module):
        raise ConfigError(f"model.net ({class_path}) built a {type(module).__name__}, not a torch.nn.Module")
    example = torch.zeros(2, *input_shape)
    training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(example)
    except Exception as err:  # any failure of a user's network on the data's shape
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(
            f"model.net ({class_path}) fails on the data's images (input shape {list(input_shape)}): {message}"
        ) from None
    finally:
        module.train(training)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, num_classes):
        shape = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ConfigError(
            f"model.net ({class_path}) gives outputs of shape {shape} for a batch of 2 images of shape "
            f"{list(input_shape)}; expected [2, {num_classes}] (one logit per class, num_classes={num_classes})"
        )
    return module
