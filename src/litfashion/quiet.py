"""Silencing third-party notices that a run triggers and its user cannot act on, each matched narrowly."""

import logging
import warnings

# (message regex, category, module regex) of warnings raised inside the libraries, not by anything configured.
IGNORED_WARNINGS = [
    # TensorBoardLogger's log_graph traces the model with torch.jit, which torch now deprecates.
    (r"`torch\.jit\.trace(_method)?` is deprecated", FutureWarning, r"torch\.jit\._trace"),
    # The model summary sizes parameters at 32 bits under a mixed precision; the parameters are 32-bit there.
    (r"Precision .* is not supported by the model summary", UserWarning, r"lightning\.pytorch\.utilities"),
    # Lightning's own pytree helper still uses LeafSpec.
    (r"`isinstance\(treespec, LeafSpec\)` is deprecated", FutureWarning, r"lightning\.pytorch\.utilities\._pytree"),
]

# validate/test/predict log to a new version folder, so every checkpoint's ModelCheckpoint state names another
# dirpath; Lightning then warns that it restores only best_model_path, which only matters to a resumed fit.
EVALUATING_WARNINGS = [
    (r"The dirpath has changed from ", UserWarning, r"lightning\.pytorch\.callbacks\.model_checkpoint"),
]

# `fit --ckpt_path last` continues in the folder of the checkpoint it resumes, which is therefore not empty.
RESUMING_WARNINGS = [
    (r"Checkpoint directory .* exists and is not empty", Warning, r"lightning\.pytorch\.callbacks\.model_checkpoint"),
]

# Optuna marks the heartbeat API experimental; a sweep on a database uses it on purpose (sweep/study.py), outside
# ``Study.optimize`` (each trial is a whole fit, told to the study by hand). Optuna attributes these warnings to
# the calling line (litfashion.sweep), so they are matched by message alone.
SWEEP_WARNINGS = [
    (r"(optuna\S*\.)?(RetryHeartbeatStaleTrialCallback|fail_stale_trials) is experimental", Warning, ""),
    (r"Argument ``heartbeat_interval`` is an experimental feature", Warning, ""),
    (r"Heartbeat of storage is supposed to be used with Study\.optimize", UserWarning, ""),
    # Each trial's fit is built from its own arguments while sys.argv holds the sweep's.
    (r"LightningCLI's args parameter is intended", UserWarning, r"lightning\.pytorch\.cli"),
]

# Lightning's advertisement for its cloud logger and model registry, printed at every Trainer start.
LIGHTNING_TIP = "💡 Tip:"


class _DropTips(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(LIGHTNING_TIP)


def quiet_third_party(subcommand: str | None = None) -> None:
    """Install the filters; idempotent, so the CLI may call it for every run in one process."""
    evaluating = subcommand in ("validate", "test", "predict")
    extra = EVALUATING_WARNINGS if evaluating else SWEEP_WARNINGS if subcommand == "sweep" else []
    _ignore(IGNORED_WARNINGS + extra)
    rank_zero_log = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    if not any(isinstance(f, _DropTips) for f in rank_zero_log.filters):
        rank_zero_log.addFilter(_DropTips())


def quiet_resumed_fit() -> None:
    _ignore(RESUMING_WARNINGS)


def _ignore(filters: list[tuple[str, type[Warning], str]]) -> None:
    for message, category, module in filters:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)
