"""The run's directories: finding the newest checkpoint to resume, and checking logs can be written."""

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from litfashion.errors import ConfigError


def newest_checkpoint(folders: Iterable[Path], names: Sequence[str]) -> Path | None:
    """The most recently written of the checkpoints called ``names`` in ``folders``: ``last.ckpt`` (each epoch's
    end) or ``interrupted.ckpt`` (a Ctrl-C or SIGTERM since)."""
    found = [folder / name for folder in folders for name in names if (folder / name).is_file()]
    return max(found, key=lambda p: p.stat().st_mtime_ns, default=None)


def newest_run_checkpoint(runs_dir: str | Path, names: Sequence[str]) -> Path | None:
    """``newest_checkpoint`` over every ``version_*/checkpoints/`` under a logger's ``save_dir/name``."""
    return newest_checkpoint(Path(runs_dir).glob("*/checkpoints"), names)


def version_of(checkpoint: Path) -> int | str:
    """The logger version a ``<version>/checkpoints/last.ckpt`` belongs to (``version_3`` -> 3)."""
    name = checkpoint.parent.parent.name
    match = re.fullmatch(r"version_(\d+)", name)
    return int(match.group(1)) if match else name


def check_writable(folder: str | Path, what: str) -> None:
    """Fail before training if ``folder`` cannot be created or written (it is not created here)."""
    folder = Path(folder).expanduser().absolute()
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{what}: cannot create {folder}: {existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{what}: cannot write to {folder}: no write permission on {existing}")
