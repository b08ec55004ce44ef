"""Where the study lives, and the study-wide lock that makes "count the trials, then ask for one" atomic.

Without the lock two workers could both see ``n_trials - 1`` trials and both start one; Optuna's
``MaxTrialsCallback`` only checks after a trial ends. The lock is a file lock for a journal file or SQLite
(processes on one machine) and a PostgreSQL advisory lock for a server shared by many machines; both are
released by the operating system or the server when their process dies.
"""

import fcntl
import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend, JournalStorage

from litfashion.errors import ConfigError
from litfashion.sweep.config import SweepConfig

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


def storage_kind(url: str | None) -> str:
    """``journal`` (a file path, the default), ``sqlite`` or ``postgresql``; anything else is refused."""
    if url is None or "://" not in url:
        return "journal"
    scheme = url.split("://", 1)[0].split("+", 1)[0]
    if scheme in ("sqlite", "postgresql"):
        return scheme
    raise ConfigError(
        f"storage {url}: only a journal file path, sqlite:///FILE or postgresql+psycopg://USER@HOST/DB are "
        "supported (the sweep locks the study while it adds a trial)"
    )


def open_storage(settings: SweepConfig) -> StudyStorage:
    kind = storage_kind(settings.storage)
    if kind == "journal":
        path = Path(settings.storage or Path(settings.sweep_dir) / JOURNAL_FILE).absolute()
        path.parent.mkdir(parents=True, exist_ok=True)
        backend = JournalFileBackend(str(path), lock_obj=FlockJournalLock(Path(f"{path}.lock")))
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
        raise ConfigError(f"storage {settings.storage}: cannot open: {str(err).splitlines()[0]}") from None
    if kind == "sqlite":
        database = Path(rdb.url.split("///", 1)[1]).absolute()
        return StudyStorage(rdb, lambda: file_lock(Path(f"{database}.sweep-lock")), rdb.url, rdb)
    digest = hashlib.sha256(f"litfashion-sweep:{settings.study_name}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    return StudyStorage(rdb, lambda: advisory_lock(rdb, key), rdb.engine.url.render_as_string(), rdb)


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
            handle.rdb.record_heartbeat(trial_id)
            stop.wait(HEARTBEAT_S)

    thread = threading.Thread(target=beat, name="sweep-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
