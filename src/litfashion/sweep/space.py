"""The search space: drawing a trial's values, writing them as fit arguments, and the grid of a grid search.

Optuna stores categorical choices only as None, bool, int, float or str; a choice such as ``[512, 512]``
(``hidden_sizes``) is stored as its JSON text and turned back into the list when the fit arguments are written.
"""

import json
import math
from typing import Any

import optuna

from litfashion.sweep.config import Param

PRIMITIVES = (type(None), bool, int, float, str)


def stored_choices(param: Param) -> list[Any]:
    """The choices as Optuna stores them."""
    return [c if isinstance(c, PRIMITIVES) else json.dumps(c) for c in param.choices or []]


def suggest(trial: optuna.Trial, space: dict[str, Param]) -> dict[str, Any]:
    """The trial's value for every path, as the fit CLI takes it."""
    return {path: decode(param, draw(trial, path, param)) for path, param in space.items()}


def draw(trial: optuna.Trial, path: str, param: Param) -> Any:
    if param.type == "categorical":
        return trial.suggest_categorical(path, stored_choices(param))
    if param.type == "int":
        return trial.suggest_int(path, int(param.low), int(param.high), step=int(param.step or 1), log=param.log)
    return trial.suggest_float(path, param.low, param.high, step=param.step, log=param.log)


def decode(param: Param, stored: Any) -> Any:
    """The value behind a stored one (a choice's JSON text back to the list it stands for)."""
    if param.type == "categorical":
        return param.choices[stored_choices(param).index(stored)]
    if param.type == "int":
        return int(stored)
    return float(stored)


def fit_argument(path: str, value: Any) -> str:
    """``--path=value`` as the fit CLI parses it: strings as typed, everything else as JSON (lists, null, true)."""
    text = value if isinstance(value, str) else json.dumps(value)
    return f"--{path}={text}"


def boundary_values(param: Param) -> list[Any]:
    """The values that show whether the fit CLI accepts a parameter: both ends of a range, or every choice."""
    if param.type == "categorical":
        return list(param.choices or [])
    if param.type == "int":
        return [int(param.low), int(param.high)]
    return [float(param.low), float(param.high)]


def grid(space: dict[str, Param]) -> dict[str, list[Any]]:
    """Every value a grid search visits, per path (as Optuna stores them)."""
    points: dict[str, list[Any]] = {}
    for path, param in space.items():
        if param.type == "categorical":
            points[path] = stored_choices(param)
        elif param.type == "int":
            points[path] = list(range(int(param.low), int(param.high) + 1, int(param.step or 1)))
        else:
            count = math.floor((param.high - param.low) / param.step + 1e-9) + 1
            points[path] = [param.low + i * param.step for i in range(count)]
    return points


def grid_size(space: dict[str, Param]) -> int:
    return math.prod(len(values) for values in grid(space).values())


def short_names(paths: list[str]) -> dict[str, str]:
    """The shortest dotted tail of each path (``init_args`` left out) that no other path shares, for tables."""
    parts = {path: [p for p in path.split(".") if p != "init_args"] for path in paths}
    names = {}
    for path, words in parts.items():
        for n in range(1, len(words) + 1):
            tail = words[-n:]
            if all(other[-n:] != tail for o, other in parts.items() if o != path):
                names[path] = ".".join(tail)
                break
        else:
            names[path] = path
    return names
