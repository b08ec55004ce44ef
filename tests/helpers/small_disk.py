"""A real small file system (tmpfs) for the full-disk and read-only faults: mounting needs root, as in CI."""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lightning.pytorch import Callback, LightningModule, Trainer

FILLER = ".filler"


def mount(folder: Path, options: str) -> None:
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], check=True, capture_output=True)


def remount(folder: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(folder)], check=True, capture_output=True)


@contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    """``folder`` as a tmpfs of ``size`` (``4m``), unmounted afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    mount(folder, f"size={size}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)


def fill(folder: Path) -> None:
    """Takes every free block of the tmpfs at ``folder`` (into ``.filler``): the next write there fails (ENOSPC)."""
    try:
        with (folder / FILLER).open("wb", buffering=0) as handle:
            while True:
                handle.write(b"\0" * 65536)
    except OSError:
        pass


def can_mount(folder: Path) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    try:
        mount(folder, "size=64k")
    except (OSError, subprocess.CalledProcessError):
        return False
    subprocess.run(["umount", "-l", str(folder)], check=False, capture_output=True)
    return True


class DiskFaultAtStep(Callback):
    """At ``step``, the tmpfs at ``folder`` fills up (``full``) or turns read-only (``read_only``) under the run."""

    def __init__(self, folder: str, step: int, fault: str = "full") -> None:
        self.folder = Path(folder)
        self.step = step
        self.fault = fault

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, batch: object, batch_idx: int) -> None:
        if trainer.global_step == self.step:
            fill(self.folder) if self.fault == "full" else remount(self.folder, "ro")
