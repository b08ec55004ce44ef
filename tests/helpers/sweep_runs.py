"""The tiny sweep (configs/sweeps/tiny.yaml) as a user runs it, and what its study holds: shared by the sweep tests
that start it as a process (signals, killed workers) or in this one."""

import time
from pathlib import Path

import optuna
from optuna.storages.journal import JournalFileBackend, JournalStorage
from optuna.trial import TrialState

from tests.helpers import forked
from tests.helpers.forked import Forked

LR = "model.init_args.optimizer.init_args.lr"
CHOICES = [1e-9, 0.5, 0.3, 0.2]
HOPELESS = 1e-9
TINY = ("sweep", "--config", "configs/sweeps/tiny.yaml")
# Seconds: generous, for a machine shared with other jobs; on an idle one each sweep here takes a few seconds.
LIMIT = 900


def journal_study(workdir: Path, name: str = "tiny") -> optuna.Study:
    storage = JournalStorage(JournalFileBackend(str(workdir / "sweeps" / name / "study.journal")))
    return optuna.load_study(study_name=name, storage=storage)


def start(workdir: Path, source: Path, *args: str) -> Forked:
    """The sweep in its own process group, as a terminal runs it (Ctrl-C reaches the whole group)."""
    return forked.start(*TINY, *args, cwd=workdir, source=source, merge_stderr=False, new_session=True)


def wait_for_running_trial(workdir: Path, proc: Forked, timeout: float = LIMIT) -> optuna.trial.FrozenTrial:
    """The first trial seen RUNNING with its run folder set, i.e. inside its fit (the journal is read again only
    when it grows)."""
    deadline = time.monotonic() + timeout
    journal = workdir / "sweeps" / "tiny" / "study.journal"
    seen = -1
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        size = journal.stat().st_size if journal.is_file() else -1
        if size != seen:
            seen = size
            try:
                running = journal_study(workdir).get_trials(states=(TrialState.RUNNING,))
            except KeyError:  # the journal exists, the study is not in it yet
                continue
            running = [t for t in running if "run_dir" in t.user_attrs]
            if running:
                return running[0]
        time.sleep(0.05)
    raise AssertionError("no trial started")


def check_full_grid(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Four trials, each grid point once, the hopeless one pruned with its last value, both workers used."""
    trials = study.get_trials()
    assert sorted(t.number for t in trials) == [0, 1, 2, 3]
    assert sorted(t.params[LR] for t in trials) == sorted(CHOICES)
    states = [(t.number, t.state.name, t.user_attrs.get("error")) for t in trials]
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials), states
    hopeless = next(t for t in trials if t.params[LR] == HOPELESS)
    assert hopeless.state == TrialState.PRUNED
    assert hopeless.value == hopeless.intermediate_values[max(hopeless.intermediate_values)]
    assert len({t.user_attrs["pid"] for t in trials}) == 2
    for trial in trials:
        run_dir = Path(trial.user_attrs["run_dir"])
        assert run_dir.name == "version_0" and run_dir.parent.name == f"trial_{trial.number:04d}"
        assert sorted(p.name for p in run_dir.parent.iterdir()) == ["version_0"]  # no trial ran twice
        assert (run_dir / "config.yaml").is_file() and list(run_dir.glob("events.out.tfevents.*"))
        if trial.state == TrialState.COMPLETE:
            assert Path(trial.user_attrs["best_checkpoint"]).is_file()
    return trials
