"""Which process runs a trial, so a later run can tell a trial whose worker was killed from one still running."""

import os
import socket
from pathlib import Path
from typing import Any


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
