"""``litfashion sweep --config configs/sweeps/NAME.yaml``: hyperparameter search with Optuna (docs/sweeps.md).

Everything is checked (the sweep YAML, and the search space against the fit CLI's parser) before the sweep
folder or the study is written; then the workers run, and the results are reported even after Ctrl-C or SIGTERM.
"""

import sys

from litfashion.quiet import quiet_third_party
from litfashion.sweep.config import parse_sweep_args
from litfashion.sweep.report import write_report
from litfashion.sweep.study import StorageError, open_storage, open_study, storage_errors, storage_kind
from litfashion.sweep.worker import check_space, run_workers, stop_signal_of


def main(argv: list[str]) -> None:
    quiet_third_party("sweep")
    settings = parse_sweep_args(argv)
    storage_kind(settings.storage)
    check_space(settings)
    handle = open_storage(settings)
    with storage_errors(handle, settings.storage):
        open_study(settings, handle)
    status = run_workers(settings)
    try:
        with storage_errors(handle, settings.storage):
            write_report(open_study(settings, handle), settings)
    except StorageError:
        if status:  # a worker has said why already, in one line
            raise SystemExit(status) from None
        raise
    if stop_signal_of(status) is not None:
        print("litfashion sweep: interrupted; run the same command again to continue the study", file=sys.stderr)
    if status:
        raise SystemExit(status)
