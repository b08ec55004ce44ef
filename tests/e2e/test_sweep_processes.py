"""``litfashion sweep`` as users run it: two worker processes on a journal file and on a real PostgreSQL server, a
worker killed and the command run again, and Ctrl-C; configs/sweeps/tiny.yaml on the tiny synthetic FashionMNIST.

Where the signal is not what is tested, the command runs in this process (``main``) and its workers are processes
forked from one forkserver, which the tests share: each pays no interpreter start-up of its own. A guard ends the
session with every thread's traceback if an in-process sweep hangs (there is no subprocess timeout to do it).
"""

import csv
import faulthandler
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from litfashion.cli import main
from tests.helpers.in_process import in_folder
from tests.helpers.paths import CONFIGS
from tests.helpers.postgres import MISSING, postgres_server, server_bin
from tests.helpers.sweep_runs import (
    LIMIT,
    LR,
    TINY,
    check_full_grid,
    journal_study,
    start,
    wait_for_running_trial,
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    bin_dir = server_bin()
    if bin_dir is None:
        pytest.fail(MISSING)
    with postgres_server(bin_dir) as url:
        yield url


@pytest.fixture
def hang_guard() -> Iterator[None]:
    faulthandler.dump_traceback_later(LIMIT, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A fresh folder where the configs are where the sweep YAML names them."""
    (tmp_path / "configs").symlink_to(CONFIGS)
    return tmp_path


@pytest.mark.slow
@pytest.mark.usefixtures("hang_guard")
def test_two_workers_share_a_journal_study(
    workdir: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    in_folder(monkeypatch, workdir, tiny_source)
    main([*TINY, "--workers", "2"])
    printed = capsys.readouterr().out
    trials = check_full_grid(journal_study(workdir))
    sweep_dir = workdir / "sweeps" / "tiny"
    with open(sweep_dir / "results.csv") as handle:
        rows = list(csv.DictReader(handle))
    best = max((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: t.value)
    assert int(rows[0]["trial"]) == best.number and rows[0]["rank"] == "1"
    assert {row["state"] for row in rows} <= {"COMPLETE", "PRUNED"} and len(rows) == 4
    assert "val/acc" in printed and "PRUNED" in printed
    assert (sweep_dir / "optimization_history.png").stat().st_size > 0
    assert (sweep_dir / "param_importances.png").stat().st_size > 0

    # HPARAMS: each run's event file carries the learning rate the trial used.
    events = EventAccumulator(best.user_attrs["run_dir"], size_guidance={"tensors": 0})
    events.Reload()
    start_info = plugin_data_pb2.HParamsPluginData.FromString(
        events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    ).session_start_info
    assert start_info.hparams["optimizer/lr"].number_value == pytest.approx(best.params[LR])

    # The trial's config.yaml is a plain fit config: it re-runs as is, into a new version beside the trial.
    main(["fit", "--config", str(Path(best.user_attrs["run_dir"]) / "config.yaml")])
    assert (Path(best.user_attrs["run_dir"]).parent / "version_1" / "checkpoints" / "best.ckpt").is_file()


@pytest.mark.slow
@pytest.mark.usefixtures("hang_guard")
def test_two_workers_share_a_postgresql_study(
    workdir: Path, tiny_source: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """With a password in the URL, given in a file: it is in no output, no trial's files, no results."""
    secret = "pa55-Word-never-shown"  # the test server trusts 127.0.0.1 and ignores it
    (workdir / "storage.url").write_text(postgres_url.replace("postgres@", f"postgres:{secret}@") + "\n")
    in_folder(monkeypatch, workdir, tiny_source)
    main([*TINY, "--workers", "2", "--storage_file", "storage.url", "--study_name", "tiny_pg"])
    check_full_grid(optuna.load_study(study_name="tiny_pg", storage=postgres_url))
    sweep_dir = workdir / "sweeps" / "tiny_pg"
    assert not (sweep_dir / "study.journal").exists()
    assert (sweep_dir / "results.csv").is_file()
    out, err = capsys.readouterr()
    assert "tiny_pg" in out and secret not in out + err
    written = [path for path in sweep_dir.rglob("*") if path.is_file()]  # configs, hparams, events, checkpoints
    assert any(path.name == "config.yaml" for path in written)
    assert [path for path in written if secret.encode() in path.read_bytes()] == []


@pytest.mark.slow
@pytest.mark.usefixtures("hang_guard")
def test_a_killed_worker_s_trial_is_failed_and_retried_by_the_next_run(
    workdir: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc = start(workdir, tiny_source, "--n_trials", "1")
    killed = wait_for_running_trial(workdir, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert journal_study(workdir).get_trials()[killed.number].state == TrialState.RUNNING

    in_folder(monkeypatch, workdir, tiny_source)
    main([*TINY, "--n_trials", "1"])  # the next run: this process, not the killed one
    trials = journal_study(workdir).get_trials()
    assert trials[killed.number].state == TrialState.FAIL
    (retry,) = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert retry.params == killed.params
    assert retry.state in (TrialState.COMPLETE, TrialState.PRUNED)
    assert len(trials) == 2  # n_trials counts the retry, not the killed trial
    with open(workdir / "sweeps" / "tiny" / "results.csv") as handle:
        notes = {row["trial"]: row["note"] for row in csv.DictReader(handle)}
    assert notes[str(killed.number)] == f"retried as trial {retry.number}"


@pytest.mark.slow
def test_ctrl_c_stops_every_worker_and_leaves_no_trial_running(workdir: Path, tiny_source: Path) -> None:
    proc = start(workdir, tiny_source, "--workers", "2")
    wait_for_running_trial(workdir, proc)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=LIMIT)
    assert proc.returncode == 130, stderr
    assert "interrupted; run the same command again to continue the study" in stderr
    trials = journal_study(workdir).get_trials()
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    interrupted = [t for t in trials if t.user_attrs.get("error") == "interrupted (Ctrl-C); queued again"]
    assert interrupted and all(t.state == TrialState.FAIL for t in interrupted)
    queued = {t.system_attrs.get("failed_trial") for t in trials if t.state == TrialState.WAITING}
    assert queued == {t.number for t in interrupted}
    assert (workdir / "sweeps" / "tiny" / "results.csv").is_file()
