"""Running ``litfashion`` inside the test process (``litfashion.cli.main``), as a user's shell would run it in a folder.

A subprocess pays several seconds of imports; in-process runs pay them once per session.
"""

import logging
import sys
from pathlib import Path

import pytest

SOURCE_ENV = "LITFASHION_FASHION_MNIST_DIR"


def in_folder(monkeypatch: pytest.MonkeyPatch, folder: Path, source: Path | None) -> Path:
    """Work in ``folder`` with FashionMNIST taken from ``source`` (its .gz files; None: no local source).

    ``sys.argv`` becomes a bare ``litfashion`` (LightningCLI warns when it holds pytest's arguments beside ``args``).
    ``seed_everything`` writes ``PL_GLOBAL_SEED``/``PL_SEED_WORKERS`` into the environment; deleting them here
    first makes ``monkeypatch`` restore the environment after the test.
    """
    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "argv", ["litfashion"])
    if source is None:
        monkeypatch.delenv(SOURCE_ENV, raising=False)
    else:
        monkeypatch.setenv(SOURCE_ENV, str(source))
    for name in ("PL_GLOBAL_SEED", "PL_SEED_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    return folder


def lightning_messages(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """``caplog`` receiving what ``rank_zero_info`` logs (a process would print it on stderr).

    Lightning's loggers stop propagating to the root, where ``caplog`` listens, when they are imported before
    any root handler exists.
    """
    for name in ("lightning.fabric", "lightning.pytorch"):
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
        caplog.set_level(logging.INFO, logger=name)  # as Lightning sets it, whatever an earlier test set
    caplog.set_level(logging.INFO)
    return caplog
