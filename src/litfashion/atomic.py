"""Atomic writes: a file that a later step reads is either its old complete version or its new complete one.

Each write goes to a temporary file in the target's own folder (so ``os.replace`` never crosses a file system),
is flushed and fsynced, then replaces the target in one rename; the folder is fsynced so the rename survives a
power loss. A failure (a full disk, an I/O error, a folder turned read-only) removes the temporary file, leaves
the old target as it was, and raises ``WriteError`` naming the path and the cause.
"""

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from litfashion.errors import WriteError, in_chain


def describe(err: OSError) -> str:
    """``OSError`` as a cause a user can act on: ``no space left on the device (ENOSPC)``."""
    if err.errno is None:
        return str(err)
    name = errno.errorcode.get(err.errno, str(err.errno))
    reason = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded"}.get(err.errno)
    return f"{reason or os.strerror(err.errno).lower()} ({name})"


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb", what: str = "file", **kwargs: Any) -> Iterator[IO[Any]]:
    """``open(path, mode)`` whose content appears at ``path`` only when the block ends without an error."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise WriteError(f"cannot write {what} {path}: {describe(err)}") from err
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o666 & ~UMASK)  # mkstemp creates 0600; the target gets the usual mode
        os.replace(temporary, path)
        _fsync_folder(path.parent)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        cause = in_chain(err, OSError)
        if cause is not None:
            raise WriteError(f"cannot write {what} {path}: {describe(cause)}") from err
        raise


def atomic_write_text(path: str | Path, text: str, what: str = "file") -> None:
    with atomic_open(path, "w", what=what, encoding="utf-8", newline="") as handle:
        handle.write(text)


def _read_umask() -> int:
    """The process's umask (only readable by setting it), read once at import: setting it per write would race
    with files other threads create meanwhile (TensorBoard's writer)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _read_umask()


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # some file systems cannot fsync a directory; the rename still happened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
