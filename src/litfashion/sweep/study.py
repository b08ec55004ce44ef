"""The Optuna study and its storage: where it lives, the study-wide lock, which trials count toward ``n_trials``,
and trials whose worker died.

Without the lock two workers could both see ``n_trials - 1`` trials and both start one; Optuna's
``MaxTrialsCallback`` only checks after a trial ends. The lock is a file lock for a journal file or SQLite
(processes on one machine) and a PostgreSQL advisory lock for a server shared by many machines; both are
released by the operating system or the server when their process dies.

A trial that was stopped from outside (Ctrl-C, SIGTERM, its worker killed, its machine's heartbeat lost) is
marked FAIL and queued again with the same values, as Optuna's ``RetryHeartbeatStaleTrialCallback`` does: the
FAIL stays in the study as a record, and only its retry counts toward ``n_trials``. A trial that failed on its
own (a NaN loss) is a result and counts.
"""

import fcntl
import hashlib
import json
import logging
import os
import socket
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import optuna
from optuna.exceptions import StorageInternalError
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend, JournalStorage
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from litfashion.atomic import describe
from litfashion.errors import ConfigError, LitFashionError, WriteError
from litfashion.sweep.config import SweepConfig, grid, grid_size

# --- Where the study lives, and the study-wide lock that makes "count the trials, then ask for one" atomic.

JOURNAL_FILE = "study.journal"
# A RUNNING trial on a server whose worker has not written a heartbeat for GRACE_S seconds (a machine that
# died or lost its network) is marked failed by the next worker that asks for a trial.
HEARTBEAT_S = 30
GRACE_S = 120


@dataclass
class StudyStorage:
    storage: optuna.storages.BaseStorage
    lock: Callable[[], AbstractContextManager[None]]
    where: str
    rdb: RDBStorage | None = None


# A database that fails: SQLAlchemy's errors, which Optuna wraps in StorageInternalError around its commits.
STORAGE_FAILURES = (SQLAlchemyError, StorageInternalError)


class StorageError(LitFashionError):
    """The study's storage failed during the sweep (its server stopped, its network went away)."""


def failure_line(err: BaseException) -> str:
    """The driver's own first line behind ``err`` (Optuna's wrapper says only that a commit failed)."""
    seen: BaseException | None = err
    while seen is not None and not isinstance(seen, SQLAlchemyError):
        seen = seen.__cause__ or seen.__context__
    return (str(seen if seen is not None else err).strip().splitlines() or [type(err).__name__])[0]


def masked(url: str | None) -> str:
    """A storage URL as it may be shown: its password as ``***`` (a path is shown as it is)."""
    if url is None or "://" not in url:
        return str(url)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (SQLAlchemyError, ValueError):
        return url.split("://", 1)[0] + "://***"  # unparsable: it may hold anything


def without_password(text: str, url: str | None) -> str:
    """``text`` (a driver's error message) with the URL's password, plain or percent-encoded, replaced by ``***``."""
    try:
        password = make_url(url).password if url and "://" in url else None
    except (SQLAlchemyError, ValueError):
        password = None
    if password:
        text = text.replace(str(password), "***").replace(quote(str(password), safe=""), "***")
    return text


def storage_kind(url: str | None) -> str:
    """``journal`` (a file path, the default), ``sqlite`` or ``postgresql``; anything else is refused."""
    if url is None or "://" not in url:
        return "journal"
    scheme = url.split("://", 1)[0].split("+", 1)[0]
    if scheme in ("sqlite", "postgresql"):
        return scheme
    raise ConfigError(
        f"storage {masked(url)}: only a journal file path, sqlite:///FILE or postgresql+psycopg://USER@HOST/DB "
        "are supported (the sweep locks the study while it adds a trial)"
    )


@contextmanager
def storage_errors(handle: "StudyStorage", url: str | None) -> Iterator[None]:
    """A storage failure during the sweep as one line: the server or disk that failed, never the password."""
    try:
        yield
    except STORAGE_FAILURES as err:
        line = without_password(failure_line(err), url)
        raise StorageError(
            f"storage {handle.where} failed: {line}; run the same command again once it is back "
            "(the trial this worker was running is then failed and queued again)"
        ) from None
    except json.JSONDecodeError as err:
        raise StorageError(
            f"study journal {handle.where} is damaged: a record in it is not JSON ({err}); restore it from a copy, "
            "or start a new study with another study_name"
        ) from None
    except OSError as err:
        if err.errno is None:
            raise
        raise WriteError(f"cannot write study {handle.where}: {describe(err)}") from None


def open_storage(settings: SweepConfig) -> StudyStorage:
    kind = storage_kind(settings.storage)
    if kind == "journal":
        path = Path(settings.storage or Path(settings.sweep_dir) / JOURNAL_FILE).absolute()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise WriteError(f"cannot write study journal {path}: {describe(err)}") from None
        lock = FlockJournalLock(Path(f"{path}.lock"))
        drop_cut_line(path, lock)
        backend = JournalFileBackend(str(path), lock_obj=lock)
        storage = JournalStorage(backend)
        return StudyStorage(storage, lambda: file_lock(Path(f"{path}.sweep-lock")), str(path))
    try:
        rdb = RDBStorage(
            settings.storage,
            heartbeat_interval=HEARTBEAT_S,
            grace_period=GRACE_S,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(),
        )
    except Exception as err:  # SQLAlchemy's connection and driver errors
        line = without_password(str(err).strip().splitlines()[0], settings.storage)
        raise ConfigError(f"storage {masked(settings.storage)}: cannot open: {line}") from None
    if kind == "sqlite":
        database = Path(rdb.url.split("///", 1)[1]).absolute()
        return StudyStorage(rdb, lambda: file_lock(Path(f"{database}.sweep-lock")), rdb.url, rdb)
    digest = hashlib.sha256(f"litfashion-sweep:{settings.study_name}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    return StudyStorage(rdb, lambda: advisory_lock(rdb, key), masked(settings.storage), rdb)


def drop_cut_line(path: Path, lock: "FlockJournalLock") -> None:
    """Cuts off a last line that a write did not finish (a worker killed, a full disk), under the journal's lock.

    Optuna skips such a line when it reads, but appends the next record after it, gluing the two into a line it
    cannot read back: the study would be lost from then on. Dropping it loses nothing any reader has seen.
    """
    if not path.is_file() or path.stat().st_size == 0:
        return
    lock.acquire()
    try:
        with open(path, "rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - 1))
            if handle.read(1) == b"\n":
                return
            keep = 0
            position = size
            while position > 0 and not keep:  # the end of the last complete line, read backwards in blocks
                start = max(0, position - 65536)
                handle.seek(start)
                block = handle.read(position - start)
                newline = block.rfind(b"\n")
                if newline >= 0:
                    keep = start + newline + 1
                position = start
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as err:
        raise WriteError(f"cannot repair study journal {path}: {describe(err)}") from None
    finally:
        lock.release()
    print(
        f"litfashion sweep: {path}: its last line was cut off (a write that did not finish); dropped it "
        f"({size - keep} bytes), the study continues from the {keep}-byte journal before it",
        file=sys.stderr,
    )


class FlockJournalLock:
    """The lock Optuna takes around each journal write, held with ``flock``: the kernel frees it when its process
    dies, where Optuna's symlink lock left by a killed worker blocks the others until its grace period ends.
    Implements the ``acquire``/``release`` of Optuna's journal lock classes (whose base class is private).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: IO[str] | None = None

    def acquire(self) -> bool:
        self.handle = open(self.path, "a")  # noqa: SIM115 - held open until release()
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return True

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def advisory_lock(rdb: RDBStorage, key: int) -> Iterator[None]:
    """PostgreSQL's session lock: held while this connection is open, freed by the server if the process dies."""
    from sqlalchemy import text

    with rdb.engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()


@contextmanager
def heartbeat(handle: StudyStorage, trial: optuna.Trial) -> Iterator[None]:
    """Records the trial's heartbeat on a database while it runs (Optuna does so only inside ``optimize``)."""
    if handle.rdb is None:
        yield
        return
    stop = threading.Event()
    trial_id = trial._trial_id  # the storage's id, which the heartbeat API takes; Trial exposes no public one

    def beat() -> None:
        while not stop.is_set():
            try:
                handle.rdb.record_heartbeat(trial_id)
            except STORAGE_FAILURES:
                return  # the server is gone: the trial's next report or tell meets it and stops the worker
            stop.wait(HEARTBEAT_S)

    thread = threading.Thread(target=beat, name="sweep-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# --- Which process runs a trial, so a later run can tell a trial whose worker was killed from one still running.


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), which tells a reused pid from the original."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, counted after the command name in parentheses


def this_process() -> dict[str, Any]:
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "pid_start": process_start(pid)}


def is_gone(owner: dict[str, Any]) -> bool:
    """True when ``owner`` ran on this host and its process has exited; False if alive or on another host."""
    if owner.get("host") != socket.gethostname() or not isinstance(owner.get("pid"), int):
        return False
    pid = owner["pid"]
    if Path("/proc").is_dir():
        return process_start(pid) != owner.get("pid_start")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# --- The Optuna study: its sampler and pruner, which trials count toward ``n_trials``, and trials whose worker died.

OWNER_KEYS = ("host", "pid", "pid_start")


class GridSampler(optuna.samplers.GridSampler):
    """Optuna's grid, without its ``study.stop()`` once the grid is done: that only works inside
    ``Study.optimize``, and the workers stop by counting trials instead."""

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: object) -> None:
        pass


def make_sampler(settings: SweepConfig, worker: int) -> optuna.samplers.BaseSampler:
    """TPE and random are seeded per worker (``seed + worker``), else all workers would draw the same first
    points; the grid's seed orders its points and must be the same in every worker."""
    config = settings.sampler
    if config.type == "grid":
        return GridSampler(grid(settings.space), seed=config.seed)
    seed = None if config.seed is None else config.seed + worker
    if config.type == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # constant_liar: running trials count as bad results, so parallel workers spread out.
        return optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=config.n_startup_trials, multivariate=True, constant_liar=True
        )


def make_pruner(settings: SweepConfig) -> optuna.pruners.BasePruner:
    config = settings.pruner
    if config.type == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=config.n_startup_trials, n_warmup_steps=config.n_warmup_steps
        )
    if config.type == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=config.min_resource, reduction_factor=config.reduction_factor
        )
    return optuna.pruners.NopPruner()


def open_study(settings: SweepConfig, handle: StudyStorage, worker: int = 0) -> optuna.Study:
    """The sweep's study, created on first use; continuing one with the other direction is refused."""
    optuna.logging.set_verbosity(logging.WARNING)
    direction = StudyDirection.MAXIMIZE if settings.direction == "maximize" else StudyDirection.MINIMIZE
    study = optuna.create_study(
        study_name=settings.study_name,
        storage=handle.storage,
        sampler=make_sampler(settings, worker),
        pruner=make_pruner(settings),
        direction=settings.direction,
        load_if_exists=True,
    )
    if study.direction != direction:
        raise ConfigError(
            f"{settings.source}: study {settings.study_name} in {handle.where} was created to "
            f"{study.direction.name.lower()} its metric, not to {settings.direction}: pick another study_name"
        )
    if worker == 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([settings.metric])
    return study


def total_trials(settings: SweepConfig) -> int:
    """``n_trials``, or the grid's size when a grid search has fewer points."""
    if settings.sampler.type == "grid":
        return min(settings.n_trials, grid_size(settings.space))
    return settings.n_trials


def retried_numbers(trials: list[FrozenTrial]) -> set[int]:
    return {number for trial in trials for number in trial.system_attrs.get("retry_history", [])}


def counted_trials(study: optuna.Study) -> int:
    """Trials that count toward ``n_trials``: running or finished, except those stopped from outside and retried."""
    trials = study.get_trials(deepcopy=False)
    retried = retried_numbers(trials)
    return sum(1 for t in trials if t.state != TrialState.WAITING and t.number not in retried)


def retry(study: optuna.Study, trial: FrozenTrial) -> None:
    """Queue ``trial``'s values again (``trial`` as it was before it was marked FAIL)."""
    RetryHeartbeatStaleTrialCallback()(study, trial)


def fail_lost_trials(study: optuna.Study, handle: StudyStorage) -> list[int]:
    """Mark FAIL (and queue again) the RUNNING trials whose worker process on this host is gone, and on a
    database those whose heartbeat stopped; returns their numbers."""
    lost = []
    for trial in study.get_trials(deepcopy=True, states=(TrialState.RUNNING,)):
        if is_gone({key: trial.user_attrs.get(key) for key in OWNER_KEYS}):
            study.tell(trial.number, state=TrialState.FAIL)
            retry(study, trial)
            lost.append(trial.number)
    if handle.rdb is not None:
        optuna.storages.fail_stale_trials(study)
    return lost
