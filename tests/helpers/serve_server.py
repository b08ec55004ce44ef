"""A real ``litfashion serve`` process on a free port, and requests to it with the standard library only."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers.postgres import free_port
from tests.helpers.process import with_repo_importable

STOP_S = 3


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    url: str
    process: subprocess.Popen

    def get(self, path: str) -> Answer:
        return request(f"{self.url}{path}")

    def post(self, path: str, body: bytes, content_type: str) -> Answer:
        return request(f"{self.url}{path}", body, {"Content-Type": content_type})

    def post_file(self, data: bytes, filename: str = "image.png", field: str = "file") -> Answer:
        body, content_type = multipart(field, filename, data)
        return self.post("/predict", body, content_type)


def multipart(field: str, filename: str, data: bytes, part_type: str = "application/octet-stream") -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with one file part, and its Content-Type (as ``curl -F`` sends it)."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        f"Content-Type: {part_type}\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def request(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
    req = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return Answer(response.status, response.read(), response.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as err:
        return Answer(err.code, err.read(), err.headers.get("Content-Type", ""))


def start(*args: str, cwd: Path) -> Server:
    """``litfashion serve ARGS --port FREE`` in its own process group, not waited for: several start at once."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "litfashion", "serve", *args, "--port", str(port)],
        cwd=cwd,
        env=with_repo_importable({**os.environ, "PYTHONUNBUFFERED": "1"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return Server(f"http://127.0.0.1:{port}", process)


@contextmanager
def stopped_at_exit() -> Iterator[list[Server]]:
    """A list to put started servers in; at the end each group (the command, LitServe's HTTP and inference
    processes) gets Ctrl-C, as a terminal sends it, and what is left of them after ``STOP_S`` is killed."""
    servers: list[Server] = []
    try:
        yield servers
    finally:
        processes = [server.process for server in servers]
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
        deadline = time.monotonic() + STOP_S
        for process in processes:
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            if process.stdout is not None:
                process.stdout.close()


def wait_until_healthy(server: Server, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(
                f"litfashion serve exited {server.process.returncode}:\n{server.process.stdout.read()}"
            )
        try:
            if server.get("/health").status == 200:
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"litfashion serve did not answer /health within {within_s} s")
