"""Turning an exception from the libraries underneath into the one line ``litfashion: error:`` prints.

Three kinds reach ``cli.main``: the project's own ``LitFashionError`` (possibly re-raised by torch from a
DataLoader worker, wrapped in the worker's traceback), jsonargparse's ``ArgumentError`` (a config file that
does not parse, a mistyped flag, a value of the wrong type), and the checks Lightning runs while the Trainer,
its callbacks and loggers are built (``MisconfigurationException``, ``ValueError``), which the CLI catches where it
builds them and reports with ``setting_error``. Anything else is a bug, and keeps its traceback.
"""

import argparse
import difflib
import importlib
import inspect
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from lightning.fabric.utilities.exceptions import MisconfigurationException

from litfashion.errors import LitFashionError, in_chain

CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
# Branches of a jsonargparse Union error that only say "it is not the other type either".
NOT_THE_ALTERNATIVE = re.compile(r"Expected a <class '(NoneType|bool)'>|is abstract|Expected an instantiatable class")


def one_line(err: BaseException, argv: Sequence[str], options: Sequence[str] = ()) -> str | None:
    """What to print after ``litfashion: error:``; None for an error that is not bad input (a bug). ``options``:
    the command's flags, for the closest ones to a mistyped flag."""
    project = project_error(err)
    if project is not None:
        return unwrap_worker_message(project)
    if isinstance(err, argparse.ArgumentError):
        return parse_error(err, argv, options)
    return None


def help_hint(argv: Sequence[str]) -> str:
    """The short pointer printed under a parse error, instead of the whole usage."""
    subcommand = next((a for a in argv[:1] if not a.startswith("-")), None)
    return f"litfashion: see `litfashion {subcommand + ' ' if subcommand else ''}--help` for the options"


def project_error(err: BaseException) -> LitFashionError | None:
    """The LitFashionError behind ``err``: jsonargparse wraps errors raised while it builds classes."""
    return in_chain(err, LitFashionError)


def unwrap_worker_message(err: BaseException) -> str:
    """The worker's own message: torch re-raises a worker's error as ``Caught X in DataLoader worker process N.``
    followed by the worker's traceback, whose last line(s) hold the original ``module.X: message``."""
    message = str(err)
    if not message.startswith(f"Caught {type(err).__name__} in DataLoader worker"):
        return message
    marker = f"{type(err).__module__}.{type(err).__qualname__}: "
    return message.rsplit(marker, 1)[1].rstrip() if marker in message else message.splitlines()[-1]


# --- jsonargparse: config files and flags -------------------------------------------------------------------


def parse_error(err: argparse.ArgumentError, argv: Sequence[str], options: Sequence[str] = ()) -> str:
    message = str(err.message if err.message is not None else err)
    if message.startswith("Problems parsing config"):
        broken = broken_config_file(argv)
        if broken:
            return broken
    unknown = re.match(r"unrecognized arguments: (.*)", message, re.S)
    if unknown:
        flags = [a for a in unknown.group(1).split() if a.startswith("-")] or unknown.group(1).split()[:1]
        return f"unknown option {' '.join(flags)}{close_matches(flags[0], options)}"
    return condense(message)


def broken_config_file(argv: Sequence[str]) -> str | None:
    """The first config file named in ``argv`` that is not valid YAML, with the line where parsing stopped."""
    for arg in argv:
        path = Path(arg.split("=", 1)[1] if arg.startswith("--") and "=" in arg else arg)
        if path.suffix not in CONFIG_SUFFIXES or not path.is_file():
            continue
        try:
            yaml.safe_load(path.read_text())
        except yaml.MarkedYAMLError as bad:
            mark = bad.problem_mark or bad.context_mark
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
            context = ""
            if bad.context and bad.context_mark:
                context = f" ({bad.context} started at line {bad.context_mark.line + 1})"
            return f"{path}: {where}: {bad.problem}{context}: not valid YAML"
        except (yaml.YAMLError, UnicodeDecodeError) as bad:
            return f"{path}: not valid YAML: {bad}"
    return None


def condense(message: str) -> str:
    """jsonargparse's multi-line report (``Parser key "k":``, the Union's branches, ``Given value:``) as one line:
    the key, and the innermost reason of the branch that applies. jsonargparse (4.53) puts the key and a Union's
    branches only in this text: its errors are plain ``TypeError``/``ValueError``, a Union keeps only its first
    branch as ``__cause__``, and it has no setting for the format."""
    lines = [line.rstrip() for line in message.splitlines() if line.strip()]
    key = re.match(r'Parser key "([^"]+)":\s*(.*)', lines[0]) if lines else None
    if key is None:
        return _tidy(" ".join(line.strip() for line in lines))
    name, rest = key.group(1), key.group(2)
    given = next((line.split("Given value:", 1)[1].strip() for line in lines if "Given value:" in line), "")
    nested = re.match(r"NestedArg\(key='([^']+)', val='(.*)'\)$", given)
    if nested:
        name, given = f"{name}.{nested.group(1)}", nested.group(2)
    branches = _branches(lines)
    if not branches:
        reason = " ".join([rest, *(line.strip() for line in lines[1:] if "Given value" not in line)]).strip()
    else:
        relevant = [b for b in branches if not NOT_THE_ALTERNATIVE.search(" ".join(b))] or branches
        branch = relevant[0]
        reason = branch[-1].strip().removeprefix("- ")
        if all(len(b) == 1 and b[0].startswith("- Expected a") for b in relevant) and len(relevant) > 1:
            reason = "expected " + " or ".join(b[0].removeprefix("- Expected a").strip() for b in relevant)
        inner_keys = [m.group(1) for line in branch for m in [re.search(r'Parser key "([^"]+)"', line)] if m]
        if inner_keys and not nested:
            name = ".".join([name, *inner_keys])
        unknown = re.search(r"Option '([^']+)' is not accepted", reason)
        paths = [m.group(1) for line in branch for m in re.finditer(r"class_path[ =]'([^']+)'", line)]
        class_path = paths[-1] if paths else None
        reason = re.sub(r"^Type .* expects a function or a callable class: |\s*Got value: Namespace\(.*\)$", "", reason)
        if unknown and class_path:
            reason += close_matches(unknown.group(1), _init_parameters(class_path))
    if given and not re.search("Got value|Given value|not accepted", reason):
        reason += f" (got {given})"
    return _tidy(f"{name}: {reason}")


def _branches(lines: list[str]) -> list[list[str]]:
    """The ``- ...`` items under ``Errors:``, each with its more indented continuation lines."""
    if not any(line.strip() == "Errors:" for line in lines):
        return []
    start = next(i for i, line in enumerate(lines) if line.strip() == "Errors:") + 1
    branches: list[list[str]] = []
    indent = None
    for line in lines[start:]:
        stripped = line.lstrip()
        depth = len(line) - len(stripped)
        if stripped.startswith("Given value"):
            break
        if stripped.startswith("- ") and (indent is None or depth == indent):
            indent = depth
            branches.append([stripped])
        elif branches:
            branches[-1].append(stripped)
    return branches


def _tidy(text: str) -> str:
    text = re.sub(r"<class '([\w.]+)'>", r"\1", text)
    return re.sub(r"\s+", " ", text.replace("typing.", "")).strip()


def close_matches(word: str, candidates: Sequence[str], cutoff: float = 0.75) -> str:
    found = difflib.get_close_matches(word, list(candidates), n=3, cutoff=cutoff)
    return f"; did you mean {' or '.join(found)}?" if found else ""


def _init_parameters(class_path: str) -> list[str]:
    module_name, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError, ValueError):
        return []
    return [p for c in inspect.getmro(cls) if "__init__" in vars(c) for p in inspect.signature(c.__init__).parameters]


# --- Lightning: building the Trainer, its callbacks, loggers and strategy -----------------------------------

# The Trainer's settings Lightning checks together when it picks the device, the strategy and the precision: a
# message that names none of them ("No supported gpu backend found!") is about those the user changed.
DEVICE_SETTINGS = ("accelerator", "strategy", "devices", "num_nodes", "precision", "plugins", "sync_batchnorm")


class BuildError(Exception):
    """A class the config names refused its arguments: which class, with which arguments (``report_build_errors``)."""

    def __init__(self, cls: type, arguments: dict[str, Any], error: BaseException) -> None:
        super().__init__(f"{cls.__name__}: {error}")
        self.cls, self.arguments, self.error = cls, arguments, error


@contextmanager
def building(cls: type, arguments: dict[str, Any]) -> Iterator[None]:
    """A check ``arguments`` fail while ``cls`` is built (Lightning's ``MisconfigurationException``, a
    ``ValueError``) comes out as a ``BuildError`` that keeps them; a ``LitFashionError`` keeps its own message."""
    try:
        yield
    except (MisconfigurationException, ValueError) as err:
        if project_error(err) is not None:
            raise
        raise BuildError(cls, arguments, err) from err


def report_build_errors(class_type: type, *args: Any, **kwargs: Any) -> Any:
    """A jsonargparse instantiator: builds the class as the default one does, ``building`` it."""
    with building(class_type, kwargs):
        return class_type(*args, **kwargs)


def setting_error(
    prefix: str, function: Any, given: dict[str, Any], err: BaseException, among: Sequence[str] = ()
) -> str:
    """``PREFIX.SETTING: message``: the parameters of ``function`` the message names; else those in ``given``
    (``among`` them, if set) that differ from their defaults, with their values; else the prefix alone."""
    message = _tidy(str(err))
    defaults = _defaults(function)
    named = [name for name in defaults if re.search(rf"\b{re.escape(name)}\b", message)]
    if named:
        return f"{', '.join(f'{prefix}.{name}' for name in named)}: {message}"
    changed = {
        name: value
        for name, value in given.items()
        if name in defaults and (not among or name in among) and value != defaults[name]
    }
    if changed:
        return f"{', '.join(f'{prefix}.{name}={value!r}' for name, value in changed.items())}: {message}"
    return f"{prefix}: {message}"


def _defaults(function: Any) -> dict[str, Any]:
    parameters = inspect.signature(function).parameters
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {name: p.default for name, p in parameters.items() if name != "self" and p.kind in keyword}
