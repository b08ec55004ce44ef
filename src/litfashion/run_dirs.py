"""The run's directories: finding the newest ``last.ckpt`` to resume, and checking logs can be written."""

import os
import re
from pathlib import Path

from litfashion.errors import ConfigError


def newest_last_checkpoint(runs_dir: str | Path) -> Path | None:
    """The most recently written ``version_*/checkpoints/last.ckpt`` under a logger's ``save_dir/name``."""
    found = [p for p in Path(runs_dir).glob("*/checkpoints/last.ckpt") if p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime_ns, default=None)


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
