"""Faults of an unattended sweep as processes meet them: SIGTERM to a worker or to the command, and the study's
PostgreSQL server stopped mid-sweep and started again. Each row: the exit status, one line, no trial left
RUNNING, and the same command run again completes the study.

The first trial is held inside its fit (tests/helpers/held_trial.py), so the fault always meets a running fit.
"""

import csv
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from litfashion.cli import main
from tests.helpers.held_trial import HELD, HOLD, MARKER, wait_until_held
from tests.helpers.in_process import in_folder
from tests.helpers.paths import CONFIGS
from tests.helpers.postgres import MISSING, PostgresServer, postgres_cluster, server_bin
from tests.helpers.sweep_runs import CHOICES, LIMIT, LR, TINY, journal_study, start

INTERRUPTED_LINE = "litfashion sweep: interrupted; run the same command again to continue the study"
SECRET = "pa55-Word-never-shown"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "configs").symlink_to(CONFIGS)
    return tmp_path


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    bin_dir = server_bin()
    if bin_dir is None:
        pytest.fail(MISSING)
    with postgres_cluster(bin_dir) as running:
        yield running


def sweep_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("litfashion sweep:")]


def check_completed(study: optuna.Study, held: int = 0) -> None:
    """The rerun completed the study: every grid point done once, the held trial FAIL and retried, none RUNNING."""
    trials = study.get_trials()
    states = [(t.number, t.state.name, t.user_attrs.get("error")) for t in trials]
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)], states
    done = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert sorted(t.params[LR] for t in done) == sorted(CHOICES), states
    assert trials[held].state == TrialState.FAIL
    assert any(t.system_attrs.get("failed_trial") == held for t in done), states


SIGTERM_TO = {
    "one worker": lambda proc, worker: worker,  # the worker holding the first trial; the other goes on
    "the command": lambda proc, worker: proc.pid,  # passed on to both workers
}


@pytest.mark.slow
@pytest.mark.parametrize("target", list(SIGTERM_TO))
def test_sigterm_stops_a_sweep_as_ctrl_c_does(
    target: str, workdir: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc = start(workdir, tiny_source, "--workers", "2", HOLD)
    run_dir = workdir / "sweeps" / "tiny" / HELD / "version_0"
    worker = wait_until_held(run_dir, lambda: proc.poll() is None)
    os.kill(SIGTERM_TO[target](proc, worker), signal.SIGTERM)
    _, stderr = proc.communicate(timeout=LIMIT)
    assert proc.returncode == 143, stderr
    assert sweep_lines(stderr) == [INTERRUPTED_LINE], stderr
    trials = journal_study(workdir).get_trials()
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert trials[0].state == TrialState.FAIL
    assert trials[0].user_attrs["error"] == "interrupted (SIGTERM); queued again"
    assert (run_dir / "checkpoints" / "interrupted.ckpt").is_file()  # the fit's own SIGTERM handling ran
    (run_dir / MARKER).unlink()

    in_folder(monkeypatch, workdir, tiny_source)
    main(list(TINY))  # the same command again (without the hold)
    check_completed(journal_study(workdir))
    with open(workdir / "sweeps" / "tiny" / "results.csv") as handle:
        notes = {row["trial"]: row["note"] for row in csv.DictReader(handle)}
    assert notes["0"].startswith("interrupted (SIGTERM); queued again; retried as trial ")


@pytest.mark.slow
def test_a_stopped_database_stops_the_sweep_with_one_line_and_the_rerun_completes(
    workdir: Path, tiny_source: Path, server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = server.url.replace("postgres@", f"postgres:{SECRET}@")  # the server trusts 127.0.0.1: any password
    monkeypatch.setenv("LITFASHION_SWEEP_STORAGE", url)
    proc = start(workdir, tiny_source, "--study_name", "tiny_pg", HOLD)
    run_dir = workdir / "sweeps" / "tiny_pg" / HELD / "version_0"
    wait_until_held(run_dir, lambda: proc.poll() is None)
    server.stop()
    try:
        (run_dir / MARKER).unlink()  # the fit goes on, and reports to the stopped server
        stdout, stderr = proc.communicate(timeout=LIMIT)
    finally:
        server.start()
    assert proc.returncode == 2, stderr
    (line,) = sweep_lines(stderr)
    assert line.startswith(f"litfashion sweep: error: storage {url.replace(SECRET, '***')} failed: "), line
    assert "run the same command again once it is back" in line
    assert SECRET not in stdout + stderr
    assert optuna.load_study(study_name="tiny_pg", storage=url).get_trials()[0].state == TrialState.RUNNING

    in_folder(monkeypatch, workdir, tiny_source)
    main([*TINY, "--study_name", "tiny_pg"])
    check_completed(optuna.load_study(study_name="tiny_pg", storage=url))
