"""What a ``POST /predict`` must be before LitServe queues it for a worker: a multipart form, within the size
limit, with a non-empty file in its ``file`` field. Anything else is answered here with a 4xx and a one-line
``{"detail": ...}``.

LitServe parses the form itself, but answers a body it cannot parse (no boundary, a truncated part) or any
other content type with a 500; and its ``max_payload_size`` check does not say what the limit is. So the body is
read and parsed once here, then handed on unchanged.
"""

from typing import Any

from starlette.datastructures import Headers, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HOW = "POST the image as multipart/form-data in the field '{field}' (curl -F {field}=@image.png)"


class UploadChecks:
    """ASGI middleware guarding ``path``; given to ``LitServer(middlewares=...)``."""

    def __init__(self, app: ASGIApp, *, path: str, field: str, max_bytes: int) -> None:
        self.app = app
        self.path = path
        self.field = field
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        how = HOW.format(field=self.field)
        content_type = headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data"):
            await _reject(415, f"{how}; got Content-Type {content_type or 'none'}", scope, receive, send)
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _reject(413, self._too_large(int(declared)), scope, receive, send)
            return
        body = await self._read_body(receive)
        if body is None:
            await _reject(413, self._too_large(), scope, receive, send)
            return
        replay = _replaying(body, receive)
        problem = await self._form_problem(scope, replay, how)
        if problem:
            await _reject(400, problem, scope, receive, send)
            return
        await self.app(scope, _replaying(body, receive), send)

    def _too_large(self, size: int | None = None) -> str:
        found = f" ({size} bytes)" if size is not None else ""
        return f"the upload{found} is over the limit of {self.max_bytes} bytes (max_upload_bytes)"

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or ``None`` as soon as it passes ``max_bytes`` (a body sent without its length)."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _form_problem(self, scope: Scope, receive: Receive, how: str) -> str | None:
        try:
            async with Request(scope, receive).form() as form:
                upload = form.get(self.field)
                if not isinstance(upload, UploadFile):
                    fields = ", ".join(f"'{key}'" for key in form) or "none"
                    return f"no file in the field '{self.field}' (the form's fields: {fields}); {how}"
                if not upload.size:
                    return f"{upload.filename or self.field}: the file is empty"
        except (MultiPartException, HTTPException) as err:
            detail: Any = getattr(err, "detail", None) or getattr(err, "message", err)
            return f"the multipart body cannot be read ({detail}); {how}"
        return None


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` once, then whatever the client sends next (its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _reject(status: int, detail: str, scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)
