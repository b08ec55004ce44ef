"""Checks the search space with the fit CLI's own parser before any trial starts and before anything is written.

Each entry is parsed at both ends of its range (or with each choice) on top of the fit configs, so the parser
that will run the trials judges unknown paths and values of the wrong type; nothing is instantiated per value.
"""

import io
from argparse import ArgumentError
from contextlib import redirect_stderr

from litfashion.cli import LitFashionCLI
from litfashion.error_report import project_error
from litfashion.errors import ConfigError
from litfashion.sweep.config import SweepConfig, condense
from litfashion.sweep.fit_command import build_fit, fit_arguments
from litfashion.sweep.space import boundary_values, fit_argument


def check_space(settings: SweepConfig) -> None:
    base = fit_arguments(settings, "space_check", {})
    cli = build_base(settings, base)
    parser = cli.parser
    parser.exit_on_error = False  # raise ArgumentError to report here, instead of printing usage and exiting
    for path, param in settings.space.items():
        for value in boundary_values(param):
            try:
                parser.parse_args([*base, fit_argument(path, value)])
            except ArgumentError as err:
                raise ConfigError(
                    f"{settings.source}: space entry {path} (value {value!r}) does not fit the fit config: "
                    f"{condense(str(err))}"
                ) from None


def build_base(settings: SweepConfig, base: list[str]) -> LitFashionCLI:
    """The fit CLI on the sweep's fit configs and ``fit_args``, built once (their own errors are reported here)."""
    stderr = io.StringIO()
    try:
        with redirect_stderr(stderr):
            return build_fit(base)
    except SystemExit:
        message = stderr.getvalue().strip().split("error:", 1)[-1]
        raise ConfigError(f"{settings.source}: fit_configs/fit_args do not parse: {condense(message)}") from None
    except Exception as err:
        reported = project_error(err)
        if reported is None:
            raise
        raise ConfigError(f"{settings.source}: fit_configs/fit_args: {reported}") from None
