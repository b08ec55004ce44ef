"""``torch.compile`` for the network, with one clear error where inductor cannot build kernels."""

import os
import shutil
from typing import Any

import torch
from torch import nn

from litfashion.errors import ConfigError


def cpu_compiler() -> str | None:
    """The C++ compiler inductor would call on the CPU (``$CXX``, else ``g++``, ``c++``, ``clang++``), or None."""
    candidates = [os.environ["CXX"]] if os.environ.get("CXX") else ["g++", "c++", "clang++"]
    return next((path for name in candidates if (path := shutil.which(name))), None)


def compile_net(net: nn.Module, device: torch.device) -> Any:
    """``torch.compile(net)``, after checking that inductor has what it needs on ``device``.

    Compilation itself is lazy (the first batch pays it), so a missing compiler would otherwise surface as a
    long inductor traceback mid-run; this fails before training starts instead.

    Args:
        net: The network to compile; its parameters are shared with the result.
        device: Where it runs: the CPU needs a C++ compiler, a CUDA device needs Triton.
    """
    if device.type == "cpu" and cpu_compiler() is None:
        raise ConfigError(
            "model.compile: torch.compile on the CPU needs a C++ compiler (g++, c++ or clang++ on PATH, or $CXX); "
            "none was found: install one (apt-get install g++) or set model.init_args.compile false"
        )
    if device.type == "cuda":
        try:
            import triton  # noqa: F401
        except ImportError as err:
            raise ConfigError(
                "model.compile: torch.compile on a GPU needs Triton (pip install triton); "
                "or set model.init_args.compile false"
            ) from err
    return torch.compile(net)
