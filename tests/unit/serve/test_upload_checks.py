"""The upload checks as ASGI middleware, driven directly: what passes reaches the app byte for byte, what does not
is answered before the app sees it, a body sent without its length included."""

import asyncio
import json
from typing import Any

from litfashion.serve.upload_checks import UploadChecks
from tests.helpers.serve_server import multipart


class Recorder:
    """The app behind the checks: keeps the body it was handed and answers 200."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def post(app: UploadChecks, chunks: list[bytes], headers: dict[str, str], path: str = "/predict") -> tuple[int, Any]:
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(key.lower().encode(), value.encode()) for key, value in headers.items()],
    }
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body) if body != b"ok" else body


def test_a_good_upload_reaches_the_app_unchanged_and_in_chunks() -> None:
    inner = Recorder()
    app = UploadChecks(inner, path="/predict", field="file", max_bytes=1000)
    body, content_type = multipart("file", "a.png", b"\x89PNG" + bytes(range(200)))
    assert post(app, [body[:50], body[50:]], {"Content-Type": content_type}) == (200, b"ok")
    assert inner.bodies == [body]


def test_a_body_without_its_length_is_cut_off_at_the_limit() -> None:
    inner = Recorder()
    app = UploadChecks(inner, path="/predict", field="file", max_bytes=1000)
    body, content_type = multipart("file", "big.png", b"\0" * 3000)
    status, answer = post(app, [body[i : i + 500] for i in range(0, len(body), 500)], {"Content-Type": content_type})
    assert (status, answer) == (413, {"detail": "the upload is over the limit of 1000 bytes (max_upload_bytes)"})
    assert inner.bodies == []


def test_other_paths_are_not_checked() -> None:
    inner = Recorder()
    app = UploadChecks(inner, path="/predict", field="file", max_bytes=10)
    assert post(app, [b"{}"], {"Content-Type": "application/json"}, path="/other") == (200, b"ok")
