"""``litfashion sweep`` in this process (one worker): a failing trial does not stop the sweep, a metric the run
never logs does, with one error."""

import csv
import os
from pathlib import Path

import optuna
import pytest
from optuna.storages.journal import JournalFileBackend, JournalStorage
from optuna.trial import TrialState

from litfashion.cli import main
from litfashion.sweep import worker
from tests.helpers.paths import CONFIGS

LR = "model.init_args.optimizer.init_args.lr"


@pytest.fixture
def sweep_here(tmp_path: Path, tiny_source: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "configs").symlink_to(CONFIGS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LITFASHION_FASHION_MNIST_DIR", str(tiny_source))
    return tmp_path


@pytest.mark.slow
def test_a_nan_trial_is_failed_and_the_sweep_goes_on(sweep_here: Path, capsys: pytest.CaptureFixture) -> None:
    space = f"--space={{{LR}: {{type: categorical, choices: [1.0e+12, 0.3]}}}}"
    main(["sweep", "--config", "configs/sweeps/tiny.yaml", "--pruner.type=none", "--n_trials=2", space])
    storage = JournalStorage(JournalFileBackend(str(sweep_here / "sweeps" / "tiny" / "study.journal")))
    trials = {t.params[LR]: t for t in optuna.load_study(study_name="tiny", storage=storage).get_trials()}
    assert set(trials) == {1e12, 0.3}
    assert trials[1e12].state == TrialState.FAIL
    assert "NonFiniteLossError" in trials[1e12].user_attrs["error"]
    assert trials[0.3].state == TrialState.COMPLETE
    out = capsys.readouterr().out
    assert "FAIL" in out and "COMPLETE" in out
    with open(sweep_here / "sweeps" / "tiny" / "results.csv") as handle:
        rows = {row["state"]: row for row in csv.DictReader(handle)}
    assert rows["FAIL"]["note"].startswith("NonFiniteLossError: training stopped: the loss became NaN or infinite")
    assert rows["COMPLETE"]["rank"] == "1"


@pytest.mark.slow
def test_a_metric_the_run_never_logs_stops_the_sweep(sweep_here: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", "--config", "configs/sweeps/tiny.yaml", "--metric=val/accuracy"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("litfashion sweep: error: the sweep's metric val/accuracy is not logged by the run")
    assert "val/acc" in error
    (trial,) = optuna.load_study(
        study_name="tiny", storage=JournalStorage(JournalFileBackend(str(sweep_here / "sweeps/tiny/study.journal")))
    ).get_trials()
    assert trial.state == TrialState.FAIL


def test_a_forked_worker_runs_with_the_command_s_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The forkserver's environment is that of its start; the worker takes the one its command passes."""
    seen: dict[str, str] = {}
    monkeypatch.setattr(worker, "run_worker", lambda settings, index: seen.update(os.environ) or 0)
    saved = dict(os.environ)
    try:
        with pytest.raises(SystemExit) as exited:
            worker.worker_main(None, 0, "1", {"PATH": saved.get("PATH", ""), "LITFASHION_FASHION_MNIST_DIR": "/d"})
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert exited.value.code == 0
    assert seen == {"PATH": saved.get("PATH", ""), "LITFASHION_FASHION_MNIST_DIR": "/d", "CUDA_VISIBLE_DEVICES": "1"}
