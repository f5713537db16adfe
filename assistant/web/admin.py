"""The owner's page, `/admin`: `assistant faq review`, `accept` and `reject` in a browser. It exists
only when `admin_token` is set; the token, typed once, becomes an HttpOnly, SameSite=Strict cookie.
No other origin may use it, the owner's widget sites included (403), and no page may frame it."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..config import Settings
from ..errors import AssistantError
from ..faq.curation import accept, reject, review
from ..faq.feedback import FeedbackStore
from .engine import Engine
from .guard import own_origin
from .pages import admin_page

COOKIE = "assistant_admin"
# Only this site, and no frame: the widget's sites are allowed to frame the chat, never this page.
HEADERS = {"Content-Security-Policy": "frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
           "X-Frame-Options": "DENY", "Cache-Control": "no-store"}


def mount_admin(app: FastAPI, engine: Engine, settings: Settings, feedback: FeedbackStore) -> None:
    if not settings.admin_token:
        return  # no token, no page: /admin is a 404 like any unknown address
    key = hmac.new(settings.admin_token.encode(), b"assistant admin", hashlib.sha256).hexdigest()

    def signed_in(request: Request) -> bool:
        return hmac.compare_digest(request.cookies.get(COOKIE, ""), key)

    def foreign(request: Request) -> bool:
        origin = request.headers.get("origin")
        return origin is not None and origin != own_origin(request)

    def decide(request: Request, action: Any) -> Response:
        if foreign(request) or not signed_in(request):
            return _html(admin_page(None, [], "Sign in with the admin token first."), 403)
        try:
            message = action()
        except AssistantError as exc:
            return _listing(engine, feedback, str(exc), 422)
        return _listing(engine, feedback, message)

    @app.get("/admin", include_in_schema=False)
    def admin(request: Request) -> Response:
        if not signed_in(request):
            return _html(admin_page(None, [], ""))
        return _listing(engine, feedback, "")

    @app.post("/admin/login", include_in_schema=False)
    def login(request: Request, token: str = Form("")) -> Response:
        if foreign(request) or not hmac.compare_digest(token.encode(), settings.admin_token.encode()):
            return _html(admin_page(None, [], "That is not the admin token."), 403)
        response = RedirectResponse("/admin", 303, headers=HEADERS)
        response.set_cookie(COOKIE, key, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                            path="/admin")
        return response

    @app.post("/admin/accept", include_in_schema=False)
    def accept_form(request: Request, id: int = Form(...), question: str = Form(""),  # noqa: A002
                    answer: str = Form("")) -> Response:
        def run() -> str:
            entry = accept(feedback, engine.assistant, id, question.strip(), answer.strip())
            return f"Accepted as {entry.id}: {entry.question}"
        return decide(request, run)

    @app.post("/admin/remove", include_in_schema=False)
    def remove_form(request: Request, entry: str = Form(...)) -> Response:
        return decide(request, lambda: _removal(engine, entry))

    @app.post("/admin/reject", include_in_schema=False)
    def reject_form(request: Request, id: int = Form(...), out_of_scope: bool = Form(False),  # noqa: A002
                    reply: str = Form("")) -> Response:
        def run() -> str:
            entry = reject(feedback, engine.assistant, id, out_of_scope, reply.strip())
            return f"Marked out of scope: {entry.question}" if entry else f"Rejected rating {id}."
        return decide(request, run)


def _removal(engine: Engine, entry_id: str) -> str:
    entry = engine.assistant.curated.remove(entry_id)
    return f"Removed {entry.id}: {entry.question}"


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status, headers=HEADERS)


def _listing(engine: Engine, feedback: FeedbackStore, message: str, status: int = 200) -> HTMLResponse:
    try:
        groups = review(feedback.items(), engine.assistant.index.embedder.embed)
        curated = engine.assistant.curated.entries()
    except AssistantError as exc:
        return _html(admin_page([], [], str(exc)), 503)
    return _html(admin_page(groups, curated, message), status)
