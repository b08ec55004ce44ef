"""The notices filtered for being noise are filtered only where they are noise."""

import warnings

import pytest
from lightning.pytorch import Trainer
from lightning.pytorch.demos.boring_classes import BoringModel
from lightning.pytorch.utilities.model_summary import ModelSummary
from optuna.exceptions import ExperimentalWarning

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


# What Optuna 4 says, word for word, when a sweep on a database uses its heartbeat API (sweep/study.py).
OPTUNA_NOTICES = [
    "RetryHeartbeatStaleTrialCallback is experimental (supported from v2.8.0). The interface can change in the future.",
    "optuna.storages._heartbeat.fail_stale_trials is experimental (supported from v2.9.0). The interface can change "
    "in the future.",
    "Argument ``heartbeat_interval`` is an experimental feature. The interface can change in the future.",
]


def optuna_notices_shown(subcommand: str | None) -> int:
    with warnings.catch_warnings(record=True) as seen:
        warnings.resetwarnings()
        warnings.simplefilter("always")
        quiet_third_party(subcommand)
        for notice in OPTUNA_NOTICES:
            warnings.warn_explicit(notice, ExperimentalWarning, "study.py", 1, module="litfashion.sweep.study")
        warnings.warn_explicit(
            "Heartbeat of storage is supposed to be used with Study.optimize.", UserWarning, "x.py", 1, module="optuna"
        )
    return len(seen)


def test_a_sweep_drops_optuna_s_heartbeat_notices_and_only_a_sweep() -> None:
    assert optuna_notices_shown("sweep") == 0
    assert optuna_notices_shown("fit") == 4


def test_the_model_summary_under_mixed_precision_says_nothing_about_its_size_estimate() -> None:
    """Lightning's summary warns that it sizes bf16-mixed parameters at 32 bits, which they are: dropped."""
    model = BoringModel()
    model.trainer = Trainer(precision="bf16-mixed", logger=False, enable_checkpointing=False, enable_progress_bar=False)
    with warnings.catch_warnings(record=True) as seen:
        warnings.resetwarnings()
        warnings.simplefilter("always")
        quiet_third_party("fit")
        summary = ModelSummary(model)
    assert summary.total_parameters > 0
    assert not [w for w in seen if "model summary" in str(w.message)], [str(w.message) for w in seen]
