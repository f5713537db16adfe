"""What stands between the public internet and the engine: the owner's allowed origins, security
headers on every response, the request body limit, per-client and per-origin rate limits, the
routes of Gradio that this app does not use, and validation errors reworded as our own sentences.

It decides and shapes responses; it does not answer questions or render pages."""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

from ..config import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Gradio routes the chat page never calls: file upload and serving, proxies, media streams, run
# history, profiling, the dev reloader, the monitoring dashboard, the MCP server, vibe editing, and
# its programmatic API (programs use /api/ask; each call there made a session Gradio never forgot).
# Each could serve or store something the owner did not mean to publish.
_UNUSED_GRADIO = re.compile(
    r"^/(?:gradio_api/)?(?:upload|upload_progress|file=|file/|proxy=|process_recording|stream/|run-history|runs"
    r"|profiling|dev/|custom_component|vibe|undo-vibe|mcp|monitoring)|^/gradio_api/(?:call|run|api)/"
)


class RateLimiter:
    """A sliding one-minute window per key (a client address, a widget's origin)."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int:
        """0 when the request may go ahead (and is counted), else seconds to wait."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(1, int(60 - (now - hits[0])) + 1)
            hits.append(now)
            return 0


class Origins:
    """The owner's allow-list: which browser origins may frame the pages and call the API."""

    def __init__(self, allowed: tuple[str, ...]):
        self.allowed = {o.rstrip("/") for o in allowed}

    def permits(self, request: Request) -> bool:
        origin = request.headers.get("origin")
        if not origin:
            return True  # not a cross-origin browser request: scripts, curl, same-origin GET
        return origin == own_origin(request) or origin in self.allowed

    def foreign(self, request: Request) -> str:
        """The request's origin when it is an allowed site other than ours (a widget), else ""."""
        origin = request.headers.get("origin", "")
        return origin if origin in self.allowed and origin != own_origin(request) else ""

    def own_page(self, url: str) -> bool:
        """Whether `url` is a web page on one of the allowed sites."""
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and f"{parts.scheme}://{parts.netloc}" in self.allowed

    def refusal(self, request: Request) -> str:
        return (f"The origin {request.headers.get('origin')} is not allowed to use this assistant: "
                "the site owner must add it to --allowed-origins.")

    def headers(self) -> dict[str, str]:
        """Security headers for every response: only the owner's sites may frame a page, no plugins,
        no <base> rewriting, no MIME sniffing, no full URLs leaked to other sites."""
        ancestors = " ".join(["'self'", *sorted(self.allowed)])
        headers = {"Content-Security-Policy": f"frame-ancestors {ancestors}; object-src 'none'; base-uri 'self'",
                   "X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin"}
        if not self.allowed:
            headers["X-Frame-Options"] = "SAMEORIGIN"  # for browsers without frame-ancestors
        return headers


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def unused_route(path: str) -> bool:
    return bool(_UNUSED_GRADIO.match(path))


def client_address(host: str | None, headers: Mapping[str, str], settings: Settings) -> str:
    """Who is asking, for rate limits: the peer address, or, when the peer is one of the owner's
    trusted proxies, the nearest address before it in X-Forwarded-For."""
    address = host or "unknown"
    if address not in settings.trusted_proxies:
        return address
    hops = [h.strip() for h in headers.get("x-forwarded-for", "").split(",") if h.strip()]
    return next((h for h in reversed(hops) if h not in settings.trusted_proxies), address)


class BodyLimit:
    """Refuses a request body over `limit` bytes with 413, whether or not it declares its length:
    the body is read (at most `limit` + 1 bytes of it) before the app sees it."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            await self._too_large(send)
            return
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await self._too_large(send)
                return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        from starlette.responses import JSONResponse

        await JSONResponse({"detail": f"The request body is over {self.limit:,} bytes: send a shorter one."},
                           status_code=413)({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


_MESSAGES = {  # the errors our request models and query parameters can give; others read "is not valid"
    "missing": "is missing",
    "string_type": "must be text",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "int_parsing": "must be a whole number",
}


def readable(errors: Any) -> str:
    """Validation errors as one sentence in our words, naming each field (`history.0.answer`)."""
    parts = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ())]
        if loc and loc[0] in ("query", "path"):
            where = f"the parameter {'.'.join(loc[1:])}"
        else:
            where = ".".join(p for p in loc if p != "body") or "the body"
        kind = error.get("type", "")
        if kind == "json_invalid":
            parts.append("the body is not valid JSON")
        elif kind == "value_error":
            parts.append(f"{where}: {error.get('ctx', {}).get('error', 'is not valid')}")
        else:
            parts.append(f"{where} {_MESSAGES.get(kind, 'is not valid')}")
    text = "; ".join(parts) or "the request is not valid"
    return f"{text[0].upper()}{text[1:]}."
