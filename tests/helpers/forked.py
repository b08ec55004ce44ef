"""``litfashion`` as a real process, forked from a forkserver that imported it once, for the tests that signal or
kill a run: each pays a fork instead of an interpreter's start-up (importing torch and Lightning takes seconds).

The forkserver is the one ``litfashion sweep --workers N`` uses in this process, with the same preloaded modules,
so the in-process sweep tests and these share it. What such a process cannot stand for, the console script and
DDP (whose launcher starts ``python -m litfashion`` again for rank 1), stays a fresh interpreter
(tests/helpers/process.py).
"""

import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from litfashion.sweep.worker import start_forkserver

PRELOAD = ["litfashion.cli", "litfashion.sweep.worker"]  # as litfashion.sweep.worker.run_workers sets it


def _run(args: list[str], cwd: str, environ: dict[str, str], out: str, err: str, new_session: bool) -> None:
    """In the child: the folder, environment and output a shell would give ``litfashion ARGS``."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the forkserver ignores SIGTERM (start_forkserver)
    if new_session:
        os.setsid()
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(environ)
    for fd, path in ((1, out), (2, err)):
        os.dup2(os.open(path, os.O_WRONLY | os.O_APPEND), fd)
    sys.stdout.reconfigure(line_buffering=True)
    sys.argv = ["litfashion", *args]
    from litfashion.cli import main

    main(args)


class Forked:
    """The child, with the part of ``subprocess.Popen``'s interface the tests use; its output in files."""

    def __init__(self, process: multiprocessing.process.BaseProcess, out: Path, err: Path) -> None:
        self.process, self.out, self.err = process, out, err

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.exitcode

    def poll(self) -> int | None:
        return self.process.exitcode

    def send_signal(self, signum: int) -> None:
        if self.process.exitcode is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        self.process.join(timeout)
        if self.process.exitcode is None:
            raise subprocess.TimeoutExpired(["litfashion"], timeout or 0)
        return self.process.exitcode

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        """Waits for the exit; (stdout, stderr), or both in the first when stderr went to stdout."""
        self.wait(timeout)
        out = self.out.read_text()
        return (out, "") if self.err == self.out else (out, self.err.read_text())


def start(
    *args: str, cwd: Path, source: Path, merge_stderr: bool = True, new_session: bool = False, **env: str
) -> Forked:
    """``litfashion ARGS`` in ``cwd`` on the FashionMNIST files in ``source``; ``new_session``: its own process
    group, as a terminal runs a command (Ctrl-C reaches the whole group)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    start_forkserver()
    logs = Path(tempfile.mkdtemp(prefix="litfashion-forked-"))
    out, err = logs / "stdout", logs / "stderr"
    out.touch()
    err = out if merge_stderr else err
    err.touch()
    environ = {**os.environ, "LITFASHION_FASHION_MNIST_DIR": str(source), **env}
    process = context.Process(target=_run, args=(list(args), str(cwd), environ, str(out), str(err), new_session))
    process.start()
    return Forked(process, out, err)
