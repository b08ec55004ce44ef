"""Faults of an unattended sweep met in this process: SIGTERM in a one-worker sweep, a journal whose last line was
cut (or a record damaged), and a full disk under results.csv. Each row: the exit status, one line, what is kept
(no trial RUNNING), and the same command again completes the study."""

import errno
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.trial import TrialState, create_trial

import litfashion.atomic
from litfashion.cli import main
from litfashion.sweep.config import parse_sweep_args
from litfashion.sweep.study import open_storage, open_study
from tests.helpers.held_trial import HELD, HOLD, wait_until_held
from tests.helpers.in_process import in_folder
from tests.helpers.paths import CONFIGS
from tests.helpers.sweep_runs import CHOICES, LR, TINY, journal_study

INTERRUPTED_LINE = "litfashion sweep: interrupted; run the same command again to continue the study"


@pytest.fixture
def sweep_here(tmp_path: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "configs").symlink_to(CONFIGS)
    return in_folder(monkeypatch, tmp_path, tiny_source)


def seed_study(*args: str, values: tuple[tuple[float, float], ...] = ((0.3, 0.5),)) -> optuna.Study:
    """The tiny study with finished trials (lr, value) added directly: a study to continue, without fitting."""
    settings = parse_sweep_args([*TINY[1:], *args])
    study = open_study(settings, open_storage(settings))
    distributions = {LR: CategoricalDistribution(CHOICES)}
    for lr, value in values:
        study.add_trial(create_trial(params={LR: lr}, distributions=distributions, value=value))
    return study


def sweep_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("litfashion sweep:")]


@pytest.mark.slow
def test_sigterm_in_a_one_worker_sweep_fails_the_trial_and_the_rerun_continues(
    sweep_here: Path, capsys: pytest.CaptureFixture
) -> None:
    """The fit's SIGTERMException (Lightning's handler, then this worker's) reaches the sweep's Ctrl-C path."""
    run_dir = sweep_here / "sweeps" / "tiny" / HELD / "version_0"

    def terminate_when_held() -> None:
        wait_until_held(run_dir, lambda: True, timeout=300)
        os.kill(os.getpid(), 15)  # SIGTERM to this process, as a service manager sends it

    sender = threading.Thread(target=terminate_when_held, daemon=True)
    sender.start()
    with pytest.raises(SystemExit) as exited:
        main([*TINY, "--n_trials", "1", HOLD])
    sender.join()
    assert exited.value.code == 143
    assert sweep_lines(capsys.readouterr().err) == [INTERRUPTED_LINE]
    (held, queued) = journal_study(sweep_here).get_trials()
    assert held.state == TrialState.FAIL and held.user_attrs["error"] == "interrupted (SIGTERM); queued again"
    assert queued.state == TrialState.WAITING and queued.params == held.params
    assert (run_dir / "checkpoints" / "interrupted.ckpt").is_file()

    main([*TINY, "--n_trials", "1"])  # the same command again
    held, retried = journal_study(sweep_here).get_trials()
    assert retried.state in (TrialState.COMPLETE, TrialState.PRUNED) and retried.params == held.params


@pytest.mark.slow
def test_a_journal_cut_mid_line_is_repaired_with_one_line(sweep_here: Path, capsys: pytest.CaptureFixture) -> None:
    """Optuna skips a cut last line but appends after it, gluing the next record to it: the study would be lost."""
    seed_study(values=((0.3, 0.5), (0.2, 0.6)))
    journal = sweep_here / "sweeps" / "tiny" / "study.journal"
    size = journal.stat().st_size
    os.truncate(journal, size - 7)  # the second trial's record cut, as by a worker killed mid-write
    main([*TINY, "--n_trials", "2"])
    line = f"litfashion sweep: {journal}: its last line was cut off (a write that did not finish); dropped it ("
    assert [x for x in sweep_lines(capsys.readouterr().err) if x.startswith(line)], capsys.readouterr()
    assert all(json.loads(record) for record in journal.read_text().splitlines())  # every record reads back
    trials = journal_study(sweep_here).get_trials()
    assert [(t.params[LR], t.value) for t in trials[:1]] == [(0.3, 0.5)]  # the trial before the cut is kept
    assert len(trials) == 2 and trials[1].state in (TrialState.COMPLETE, TrialState.PRUNED)


def test_a_damaged_journal_record_is_one_error(sweep_here: Path, capsys: pytest.CaptureFixture) -> None:
    seed_study()
    journal = sweep_here / "sweeps" / "tiny" / "study.journal"
    records = journal.read_text().splitlines()
    journal.write_text("\n".join([*records[:-1], records[-1][:9] + records[-1], ""]))  # a glued record
    with pytest.raises(SystemExit) as exited:
        main([*TINY, "--n_trials", "1"])
    assert exited.value.code == 2
    (line,) = sweep_lines(capsys.readouterr().err)
    assert line.startswith(f"litfashion sweep: error: study journal {journal} is damaged: a record in it is not JSON")


@pytest.fixture
def full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on a 256 KiB tmpfs filled to the last byte (root can mount it); elsewhere an injected ENOSPC."""
    folder = tmp_path / "full"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:

        class NoSpace:
            def __getattr__(self, name: str) -> object:
                return getattr(os, name)

            @staticmethod
            def fsync(fd: int) -> None:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        (folder / "tiny").mkdir()
        (folder / "tiny" / "results.csv").write_text("old results\n")
        monkeypatch.setattr(litfashion.atomic, "os", NoSpace())
        yield folder
        return
    try:
        (folder / "tiny").mkdir()
        (folder / "tiny" / "results.csv").write_text("old results\n")
        with open(folder / "filler", "wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 4096)
            except OSError as err:
                assert err.errno == errno.ENOSPC
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def free_the_disk(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(litfashion.atomic, "os", os)
    (folder / "filler").unlink(missing_ok=True)


@pytest.mark.slow
def test_a_full_disk_under_results_csv_is_one_line_and_keeps_the_old_file(
    sweep_here: Path, full_disk: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    journal = sweep_here / "study.journal"
    seed_study("--storage", str(journal))
    command = [*TINY, "--n_trials", "1", "--storage", str(journal), "--sweep_dir", str(full_disk / "tiny")]
    with pytest.raises(SystemExit) as exited:
        main(command)
    assert exited.value.code == 2
    results = full_disk / "tiny" / "results.csv"
    expected = f"litfashion sweep: error: cannot write results {results}: no space left on the device (ENOSPC)"
    assert [line for line in capsys.readouterr().err.splitlines() if "error" in line] == [expected]
    assert results.read_text() == "old results\n"  # the previous file, whole
    assert sorted(p.name for p in (full_disk / "tiny").iterdir()) == ["results.csv"]  # no temporary file left
    (trial,) = optuna.load_study(study_name="tiny", storage=open_storage(parse_sweep_args(command[1:])).storage).trials
    assert trial.state == TrialState.COMPLETE

    free_the_disk(full_disk, monkeypatch)
    main(command)  # the same command, with space again
    assert results.read_text().splitlines()[1].startswith("1,0,0.3,0.5,COMPLETE")
    assert (full_disk / "tiny" / "optimization_history.png").stat().st_size > 0
