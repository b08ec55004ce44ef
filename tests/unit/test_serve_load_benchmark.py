"""``benchmarks/serve_load.py``'s own logic against a stand-in HTTP server: it sends exactly the requests asked
for, counts each error by kind, and its table has a row per server and concurrency (no speed is asserted)."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import ClassVar

import pytest

from tests.helpers.benchmarks import load_benchmark


class EverySecondFails(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the benchmark's clients use it
    seen: ClassVar[list[bytes]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            self.seen.append(body)
            status = 500 if len(self.seen) % 2 == 0 else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stand_in() -> Iterator[int]:
    EverySecondFails.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), EverySecondFails)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def serve_load(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_benchmark("serve_load", monkeypatch)


def test_load_sends_the_requests_asked_for_and_counts_errors(serve_load: ModuleType, stand_in: int) -> None:
    bodies = [serve_load.multipart(f"{i}.png", bytes([i]) * 10) for i in range(3)]
    row = serve_load.load(stand_in, bodies, requests=20, concurrency=4)
    assert len(EverySecondFails.seen) == 20
    assert {body for body in EverySecondFails.seen} == {body for body, _ in bodies}
    assert (row["requests"], row["concurrency"], row["errors"], row["error_kinds"]) == (20, 4, 10, ["HTTP 500"])
    assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]


def test_the_table_has_a_row_per_server_and_concurrency(serve_load: ModuleType) -> None:
    row = {"requests_per_s": 100.0, "p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": 3.0, "errors": 0}
    results = {
        "servers": {"a": [{**row, "concurrency": 1}, {**row, "concurrency": 8}], "b": [{**row, "concurrency": 1}]},
        "ceiling": [{"batch_size": 8, "images_per_s": 5000.0}, {"preprocessing_per_s": 900.0}],
    }
    lines = serve_load.markdown(results).splitlines()
    assert lines[2:5] == [
        "| a | 1 | 100 | 1.0 | 2.0 | 3.0 | 0 |",
        "| a | 8 | 100 | 1.0 | 2.0 | 3.0 | 0 |",
        "| b | 1 | 100 | 1.0 | 2.0 | 3.0 | 0 |",
    ]
    assert lines[5].startswith("| forward alone, batch 8 | | 5000 images/s")
    assert lines[6].startswith("| preprocessing alone, per upload | | 900 images/s")
