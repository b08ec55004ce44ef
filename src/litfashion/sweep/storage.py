"""Where the study lives, and the study-wide lock that makes "count the trials, then ask for one" atomic.

Without the lock two workers could both see ``n_trials - 1`` trials and both start one; Optuna's
``MaxTrialsCallback`` only checks after a trial ends. The lock is a file lock for a journal file or SQLite
(processes on one machine) and a PostgreSQL advisory lock for a server shared by many machines; both are
released by the operating system or the server when their process dies.
"""

import fcntl
import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import quote

import optuna
from optuna.exceptions import StorageInternalError
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend, JournalStorage
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from litfashion.atomic import describe
from litfashion.errors import ConfigError, LitFashionError, WriteError
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
