"""The notices filtered for being noise are filtered only where they are noise."""

import warnings

import pytest

from litfashion.quiet import quiet_third_party

DIRPATH_NOTICE = "The dirpath has changed from './a/checkpoints' to './b/checkpoints', therefore ..."


def shown(subcommand: str | None) -> int:
    """How many times Lightning's dirpath notice reaches the user after the CLI's filters for ``subcommand``."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.resetwarnings()
        warnings.simplefilter("always")
        quiet_third_party(subcommand)
        warnings.warn_explicit(
            DIRPATH_NOTICE, UserWarning, "model_checkpoint.py", 1, module="lightning.pytorch.callbacks.model_checkpoint"
        )
    return len(seen)


@pytest.mark.parametrize("subcommand", ["validate", "test", "predict"])
def test_evaluating_a_checkpoint_drops_the_dirpath_notice(subcommand: str) -> None:
    assert shown(subcommand) == 0


def test_a_resumed_fit_keeps_it() -> None:
    assert shown("fit") == 1
