"""The sweep's results: a ranked table in the terminal, the same as ``results.csv``, and two PNG plots."""

import csv
import io
import json
import warnings
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState
from rich.console import Console
from rich.table import Table

from litfashion.atomic import atomic_open, atomic_write_text
from litfashion.sweep.config import SweepConfig, decode, short_names

RESULTS_CSV = "results.csv"
HISTORY_PNG = "optimization_history.png"
IMPORTANCES_PNG = "param_importances.png"
# COMPLETE trials first (ranked by value), then PRUNED (by their last value), then the rest by number.
STATE_ORDER = {
    TrialState.COMPLETE: 0,
    TrialState.PRUNED: 1,
    TrialState.RUNNING: 2,
    TrialState.WAITING: 3,
    TrialState.FAIL: 4,
}


def result_rows(study: optuna.Study, settings: SweepConfig) -> tuple[list[str], list[list[Any]]]:
    """Header and rows: rank, trial, one column per searched path, the metric, state, run folder, note."""
    trials = study.get_trials(deepcopy=False)
    retried_as = {t.system_attrs["retry_history"][-1]: t.number for t in trials if t.system_attrs.get("retry_history")}
    sign = -1 if settings.direction == "maximize" else 1

    def order(trial: FrozenTrial) -> tuple:
        ranked = trial.state in (TrialState.COMPLETE, TrialState.PRUNED) and trial.value is not None
        return (STATE_ORDER[trial.state], sign * trial.value if ranked else 0.0, trial.number)

    paths = list(settings.space)
    header = ["rank", "trial", *paths, settings.metric, "state", "run_dir", "note"]
    rows = []
    rank = 0
    for trial in sorted(trials, key=order):
        if trial.state == TrialState.COMPLETE:
            rank += 1
        values = [shown(settings, path, trial.params[path]) if path in trial.params else "" for path in paths]
        note = trial.user_attrs.get("error", "")
        if trial.number in retried_as:
            note = f"{note}; " if note else ""
            note += f"retried as trial {retried_as[trial.number]}"
        rows.append(
            [
                rank if trial.state == TrialState.COMPLETE else "",
                trial.number,
                *values,
                "" if trial.value is None else trial.value,
                trial.state.name,
                shown_path(trial.user_attrs.get("run_dir", "")),
                note,
            ]
        )
    return header, rows


def shown(settings: SweepConfig, path: str, stored: Any) -> Any:
    value = decode(settings.space[path], stored)
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def shown_path(path: str) -> str:
    """A run folder under the current directory as a relative path (what ``tensorboard --logdir`` shows)."""
    if not path:
        return ""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def write_report(study: optuna.Study, settings: SweepConfig, console: Console | None = None) -> Path:
    """Prints the table, writes the CSV and the plots into the sweep folder; returns the CSV's path.

    Each file is written whole or not at all (``litfashion.atomic``): a full disk leaves the previous one.
    """
    console = console or Console()
    if not console.is_terminal:
        console.width = max(console.width, 200)  # a pipe or a log file: rich would fold the table into 80 columns
    folder = Path(settings.sweep_dir)
    header, rows = result_rows(study, settings)
    names = short_names(list(settings.space))
    table = Table(title=f"study {study.study_name}: {len(rows)} trials, {settings.direction} {settings.metric}")
    for column in header:
        table.add_column(names.get(column, column), overflow="fold")
    for row in rows:
        table.add_row(*(f"{cell:.4g}" if isinstance(cell, float) else str(cell) for cell in row))
    console.print(table)
    path = folder / RESULTS_CSV
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    atomic_write_text(path, text.getvalue(), what="results")
    for note in write_plots(study, folder):
        console.print(note)
    console.print(f"Results: {path}; every trial's curves and hparams: tensorboard --logdir {folder}")
    return path


def write_plots(study: optuna.Study, folder: Path) -> list[str]:
    """Optimization history and parameter importances as PNGs (matplotlib, no browser); notes on what was skipped."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as plots

    notes = []
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        for filename, plot, needed in (
            (HISTORY_PNG, plots.plot_optimization_history, 1),
            (IMPORTANCES_PNG, plots.plot_param_importances, 2),
        ):
            if len(complete) < needed:
                notes.append(f"{filename} not drawn: it needs {needed} complete trial(s), there are {len(complete)}")
                continue
            try:
                axes = plot(study)
            except (ValueError, RuntimeError) as err:
                notes.append(f"{filename} not drawn: {err}")
                continue
            try:
                with atomic_open(folder / filename, "wb", what="plot") as handle:
                    axes.figure.savefig(handle, format="png", dpi=100, bbox_inches="tight")
            finally:
                plt.close(axes.figure)
    return notes
