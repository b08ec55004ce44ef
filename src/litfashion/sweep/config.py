"""The sweep YAML and its search space: what to search, how, and where the study and its runs live.

Parsed like every config (jsonargparse). Optuna stores categorical choices only as None, bool, int, float or
str; a choice such as ``[512, 512]`` (``hidden_sizes``) is stored as its JSON text and turned back into the list
when the fit arguments are written.
"""

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import optuna
import yaml
from jsonargparse import ActionConfigFile, ArgumentParser

from litfashion.atomic import describe
from litfashion.error_report import condense
from litfashion.errors import ConfigError

# --- The sweep YAML: what to search, how, and where the study and its runs live; parsed like every config.


@dataclass
class Param:
    """One search-space entry, keyed in ``space`` by the fit CLI path it sets.

    ``float`` and ``int`` draw from ``[low, high]`` (``log: true`` on a log scale, ``step`` on a grid of that
    spacing); ``categorical`` picks one of ``choices`` (any YAML values: numbers, strings, lists).
    """

    type: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: list[Any] | None = None


@dataclass
class Sampler:
    """How the next trial's parameters are chosen: ``tpe`` (Bayesian), ``random``, or ``grid`` (every point).

    Each worker seeds its sampler with ``seed + worker index``, so parallel workers do not draw the same points.
    """

    type: Literal["tpe", "random", "grid"] = "tpe"
    seed: int | None = 0
    n_startup_trials: int = 10


@dataclass
class Pruner:
    """When a trial is stopped early: ``median`` (worse than the median of earlier trials at the same validation),
    ``hyperband``, or ``none``. Steps count the trial's validations (0, 1, ...), the same in every trial whatever
    its batch size.
    """

    type: Literal["median", "hyperband", "none"] = "median"
    n_startup_trials: int = 5
    n_warmup_steps: int = 0
    min_resource: int = 1
    reduction_factor: int = 3


@dataclass
class SweepConfig:
    """The whole sweep; every field is also a command-line flag (``--n_trials 50``) that overrides the YAML."""

    fit_configs: list[str]
    space: dict[str, Param]
    fit_args: list[str] = field(default_factory=list)
    metric: str = "val/acc"
    direction: Literal["maximize", "minimize"] = "maximize"
    n_trials: int = 20
    workers: int = 1
    sampler: Sampler = field(default_factory=Sampler)
    pruner: Pruner = field(default_factory=Pruner)
    storage: str | None = field(default=None, repr=False)  # a server URL may hold a password
    storage_file: str | None = None
    study_name: str | None = None
    sweep_dir: str | None = None
    source: str = "the command line"  # the sweep YAML, named in errors


STORAGE_ENV = "LITFASHION_SWEEP_STORAGE"
# Keys that name files or folders: relative to the sweep YAML that sets them, or to the working folder when
# given on the command line.
PATH_KEYS = ("fit_configs", "storage", "storage_file", "sweep_dir")


def sweep_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="litfashion sweep",
        description="Hyperparameter search with Optuna: each trial is a `litfashion fit`.",
        exit_on_error=False,
    )
    parser.add_argument("-c", "--config", action=ActionConfigFile, help="the sweep YAML (configs/sweeps/*.yaml)")
    parser.add_class_arguments(SweepConfig, as_group=False, skip={"source"})
    return parser


def parse_sweep_args(argv: list[str]) -> SweepConfig:
    """The sweep YAML and flags as a checked ``SweepConfig``; any problem is one ``ConfigError`` naming the file."""
    parser = sweep_parser()
    source = _config_file(argv)
    try:
        namespace = parser.parse_args(argv)
    except Exception as err:  # jsonargparse raises ArgumentError, or others for unreadable files
        raise ConfigError(f"{source}: {condense(str(err))}") from None
    namespace.pop("config", None)
    settings = SweepConfig(**vars(parser.instantiate(namespace)))
    settings.source = source
    resolve_paths(settings, argv)
    settings.storage = storage_url(settings)
    if settings.study_name is None:
        settings.study_name = Path(source).stem if source != "the command line" else "sweep"
    if settings.sweep_dir is None:
        settings.sweep_dir = str(Path("sweeps") / settings.study_name)
    check_settings(settings)
    return settings


def path_origins(argv: list[str]) -> dict[str, tuple[Path, int]]:
    """For each key of ``PATH_KEYS`` set last by a sweep YAML (not by a later flag): that YAML's folder, and for
    ``fit_configs`` how many of the entries it gave (entries appended later with ``--fit_configs+=`` are not)."""
    origins: dict[str, tuple[Path, int]] = {}
    for i, arg in enumerate(argv):
        flag, has_value, value = arg.partition("=")
        if flag in ("-c", "--config"):
            file = value if has_value else (argv[i + 1] if i + 1 < len(argv) else "")
            try:
                content = yaml.safe_load(Path(file).read_text()) if Path(file).is_file() else None
            except (OSError, yaml.YAMLError):
                content = None
            for key in PATH_KEYS if isinstance(content, dict) else ():
                if key in content:
                    count = len(content[key]) if key == "fit_configs" and isinstance(content[key], list) else 1
                    origins[key] = (Path(file).absolute().parent, count)
        elif flag.startswith("--") and flag[2:] in PATH_KEYS:
            origins.pop(flag[2:], None)
    return origins


def resolve_paths(settings: SweepConfig, argv: list[str]) -> None:
    """Paths from a sweep YAML as absolute paths under its folder, wherever the command starts; those from the
    command line stay relative to the working folder."""

    def under(folder: Path, path: str) -> str:
        return path if Path(path).is_absolute() else str((folder / path).resolve())

    for key, (folder, count) in path_origins(argv).items():
        value = getattr(settings, key)
        if value is None:
            continue
        if key == "fit_configs":
            settings.fit_configs = [under(folder, p) for p in value[:count]] + value[count:]
        elif key == "storage" and value.startswith("sqlite:///"):
            settings.storage = "sqlite:///" + under(folder, value.removeprefix("sqlite:///"))
        elif key != "storage" or "://" not in value:
            setattr(settings, key, under(folder, value))


def storage_url(settings: SweepConfig) -> str | None:
    """``storage``, else the content of ``storage_file``, else ``$LITFASHION_SWEEP_STORAGE``: a server's password
    need not be on the command line (where every user of the machine can read it) or in the YAML."""
    if settings.storage is not None and settings.storage_file is not None:
        raise ConfigError(
            f"{settings.source}: storage and storage_file are both set: give one (--storage null drops the YAML's)"
        )
    if settings.storage_file is not None:
        try:
            url = Path(settings.storage_file).read_text().strip()
        except (OSError, UnicodeDecodeError) as err:
            cause = describe(err) if isinstance(err, OSError) else "not UTF-8 text"
            where = f"{settings.source}: storage_file {settings.storage_file}"
            raise ConfigError(f"{where}: cannot read: {cause}") from None
        if not url:
            raise ConfigError(f"{settings.source}: storage_file {settings.storage_file} is empty")
        return url
    if settings.storage is None and os.environ.get(STORAGE_ENV, "").strip():
        return os.environ[STORAGE_ENV].strip()
    return settings.storage


def _config_file(argv: list[str]) -> str:
    """The last ``--config`` given, to name in errors."""
    found = "the command line"
    for i, arg in enumerate(argv):
        if arg in ("-c", "--config") and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith("--config="):
            found = arg.split("=", 1)[1]
    return found


def check_settings(settings: SweepConfig) -> None:
    """What the types alone cannot say: counts, ranges and each space entry's own consistency."""
    where = settings.source
    if not settings.fit_configs:
        raise ConfigError(f"{where}: fit_configs must name at least one fit YAML")
    for config in settings.fit_configs:
        if not Path(config).is_file():
            raise ConfigError(f"{where}: fit_configs: {config} is not a file")
    if settings.n_trials < 1:
        raise ConfigError(f"{where}: n_trials must be >= 1, got {settings.n_trials}")
    if settings.workers < 1:
        raise ConfigError(f"{where}: workers must be >= 1, got {settings.workers}")
    if not settings.space:
        raise ConfigError(f"{where}: space is empty: name at least one parameter to search")
    for path, param in settings.space.items():
        problem = param_problem(param, grid=settings.sampler.type == "grid")
        if problem:
            raise ConfigError(f"{where}: space entry {path}: {problem}")


def param_problem(param: Param, grid: bool) -> str | None:
    """Why ``param`` cannot be searched, or None."""
    if param.type == "categorical":
        if not param.choices:
            return "type categorical needs a non-empty list of choices"
        if param.low is not None or param.high is not None or param.log or param.step is not None:
            return "type categorical takes only choices (not low, high, log or step)"
        return None
    if param.choices is not None:
        return f"type {param.type} takes low and high, not choices (use type: categorical)"
    if param.low is None or param.high is None:
        return f"type {param.type} needs both low and high"
    if not (math.isfinite(param.low) and math.isfinite(param.high)):
        return f"low and high must be finite numbers, got low={param.low}, high={param.high}"
    if param.low > param.high:
        return f"low ({param.low}) is greater than high ({param.high})"
    if param.log and param.low <= 0:
        return f"log: true needs low > 0, got low={param.low}"
    if param.log and param.step is not None:
        return "log: true and step cannot be combined"
    if param.step is not None and param.step <= 0:
        return f"step must be > 0, got {param.step}"
    if param.type == "int":
        for name in ("low", "high", "step"):
            value = getattr(param, name)
            if value is not None and not float(value).is_integer():
                return f"type int needs whole numbers, got {name}={value}"
        if grid and param.log:
            return "the grid sampler cannot search a log-scale int: list the values with type: categorical"
    if grid and param.type == "float" and param.step is None:
        return "the grid sampler needs a step for a float (or type: categorical with the values)"
    return None


# --- The search space: drawing a trial's values, writing them as fit arguments, and the grid of a grid search.

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
