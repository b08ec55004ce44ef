"""``litfashion sweep --config configs/sweeps/NAME.yaml``: hyperparameter search with Optuna (docs/sweeps.md).

Everything is checked (the sweep YAML, and the search space against the fit CLI's parser) before the sweep
folder or the study is written; then the workers run, and the results are reported even after Ctrl-C.
"""

import sys

from litfashion.quiet import quiet_third_party
from litfashion.sweep.config import parse_sweep_args
from litfashion.sweep.processes import run_workers
from litfashion.sweep.report import write_report
from litfashion.sweep.space_check import check_space
from litfashion.sweep.storage import open_storage, storage_kind
from litfashion.sweep.study import open_study
from litfashion.sweep.worker import INTERRUPTED


def main(argv: list[str]) -> None:
    quiet_third_party("sweep")
    settings = parse_sweep_args(argv)
    storage_kind(settings.storage)
    check_space(settings)
    handle = open_storage(settings)
    open_study(settings, handle)
    status = run_workers(settings)
    write_report(open_study(settings, handle), settings)
    if status == INTERRUPTED:
        print("litfashion sweep: interrupted; run the same command again to continue the study", file=sys.stderr)
    if status:
        raise SystemExit(status)
