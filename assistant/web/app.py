"""The FastAPI app: the JSON API (`/api/ask`, `/api/ask/stream`, `/api/feedback`, `/api/health`, `/api/widget`), article
pages with the cited passage highlighted (`/articles/{doc_id}`), the FAQ page (`/faq`), the compact
chat for the widget's iframe (`/embed`), the embed script (`/widget.js`) and the reader's chat page
(`/`, chat_page.py).

Every limit is enforced here, server-side, through guard.py: body size, question length, history
size, a time budget and a bounded wait for the engine, rate limits per client and per widget origin,
and the owner's allowed origins. An index that cannot be opened does not stop the server: it answers
503 with the reason until the index is usable again. The app is built by `create_app` and launched
only by `serve`.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..config import Settings
from ..engine import Assistant, validate_question
from ..errors import AssistantError, BusyError, NotFoundError, UserInputError
from ..faq.curation import published
from ..faq.feedback import FeedbackStore
from ..types import Answer, Turn
from .admin import mount_admin
from .chat_page import mount_chat_page
from .engine import Engine
from .guard import BodyLimit, Origins, RateLimiter, client_address, readable, unused_route
from .pages import STATIC, coverage, plain_answer, render_article, render_faq, render_missing
from .streaming import as_it_comes


class HistoryTurn(BaseModel):
    question: str
    answer: str


class AskRequest(BaseModel):
    # A blank or too long question is refused by the engine's validate_question, in the CLI's words.
    question: str = Field(description="The reader's question.")
    history: list[HistoryTurn] = Field(default_factory=list, description="The conversation so far, oldest first.")


class CitationModel(BaseModel):
    n: int = Field(description="The marker `[n]` in the answer.")
    doc_id: str
    title: str
    section: str
    text: str = Field(description="The passage: exactly the article's text from `start` to `end`.")
    start: int
    end: int
    score: float
    spans: list[tuple[int, int]] = Field(description="Offsets of the answer's quoted sentences in the article.")
    answers: bool = Field(description="False for the nearest passages listed with a refusal.")


class GroundingModel(BaseModel):
    answerer: Literal["llm", "extractive"] = Field(description="Who wrote the answer: the LLM, or the extractive "
                                                   "answerer when nothing the LLM wrote passed the grounding check.")
    generated: int = Field(ge=0, description="Sentences the LLM wrote.")
    kept: int = Field(ge=0, description="Of those, the sentences the passage they cite supports (in the answer).")
    dropped: list[str] = Field(description="The sentences dropped: no passage they cite supports them.")


class AnswerModel(BaseModel):
    question: str
    answer: str = Field(description="Every sentence ends with the `[n]` of the passage it comes from.")
    refused: bool = Field(description="True when the articles do not answer the question.")
    citations: list[CitationModel]
    timings_ms: dict[str, float]
    search_query: str = Field(description="The question as searched, after a follow-up was read in context.")
    curated: bool = Field(False, description="True when the answer (or refusal) is the site owner's curated FAQ entry.")
    confident: bool = Field(False, description="True when the answer is shown as an answer; false on refusals and on "
                            "tentative answers, whose text starts 'The closest the articles come, which may not "
                            "answer your question:'.")
    confidence: float | None = Field(None, ge=0, le=1, description="The calibrated probability that the answer text "
                                     "holds what was asked (on a refusal: that the nearest quote would have).")
    grounding: GroundingModel | None = Field(None, description="Present when the site owner's LLM was asked.")


# A reader's comment on an answer, in characters at most.
MAX_COMMENT_CHARS = 2000


class FeedbackRequest(BaseModel):
    question: str = Field(description="The question the reader asked.")
    answer: AnswerModel = Field(description="The answer JSON as received from POST /api/ask.")
    history: list[HistoryTurn] = Field(default_factory=list, description="The conversation before the question.")
    rating: int = Field(description="1: the answer helped; -1: it did not.")
    comment: str = Field("", description=f"What the reader adds, up to {MAX_COMMENT_CHARS:,} characters.")

    @field_validator("rating")
    @classmethod
    def _rating(cls, value: int) -> int:
        if value not in (1, -1):
            raise ValueError("it must be 1 (the answer helped) or -1 (it did not)")
        return value

    @field_validator("comment")
    @classmethod
    def _comment(cls, value: str) -> str:
        if len(value) > MAX_COMMENT_CHARS:
            raise ValueError(f"it is {len(value):,} characters long; the limit is {MAX_COMMENT_CHARS:,}")
        return value.strip()


class FeedbackSaved(BaseModel):
    id: int = Field(description="The stored item's id (for `assistant faq accept ID`).")


class ErrorModel(BaseModel):
    detail: str = Field(description="One sentence: what went wrong and what to do.")


class HealthModel(BaseModel):
    ok: bool
    articles: int
    chunks: int
    model: str
    dimension: int
    generation: str
    index: str


class ExtrasRequest(BaseModel):
    answer: AnswerModel = Field(description="The answer JSON as received from POST /api/ask or /api/ask/stream.")
    history: list[HistoryTurn] = Field(default_factory=list, description="The conversation before the question.")


class ExtrasModel(BaseModel):
    text: str = Field(description="The answer as clean text, then its sources: what \"Copy answer\" copies.")
    related: list[str] = Field(description="Questions from the articles' FAQ to suggest next, none asked yet.")
    covers: str = Field(description="On a refusal, the line saying what the articles cover; empty otherwise.")


class WidgetModel(BaseModel):
    ok: bool
    faq: list[str] = Field(description="Questions to suggest before the first one.")


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for these error statuses: JSON with a `detail` sentence, whatever the route serves."""
    body = {"application/json": {"schema": ErrorModel.model_json_schema()}}
    return {status: {"description": "What went wrong and what to do.", "content": body} for status in statuses}


def create_app(settings: Settings, assistant: Assistant | None = None) -> FastAPI:
    engine = Engine(settings, assistant)
    clients = RateLimiter(settings.rate_limit_per_minute)
    sites = RateLimiter(settings.rate_limit_per_origin_per_minute)
    origins = Origins(settings.allowed_origins)
    security_headers = origins.headers()
    feedback = FeedbackStore(settings)
    app = FastAPI(title="Cited-answer assistant", version=_version(), docs_url=None, redoc_url=None,
                  description="Answers questions about a set of articles; every sentence cites its passage.")
    _mount_docs(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        if unused_route(request.url.path):
            response: Response = JSONResponse({"detail": "There is nothing here."}, status_code=404)
        elif not origins.permits(request) and (request.url.path.startswith("/api/")
                                               or request.method not in ("GET", "HEAD")):
            response = JSONResponse({"detail": origins.refusal(request)}, status_code=403)
        elif request.method == "OPTIONS" and request.url.path.startswith("/api/"):
            response = _cors(Response(status_code=204), request.headers.get("origin", ""))
        else:
            response = await call_next(request)
            if request.url.path.startswith("/api/") and request.headers.get("origin"):
                _cors(response, request.headers["origin"])
        for name, value in security_headers.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(RequestValidationError)
    async def readable_422(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": readable(exc.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """The framework's own refusals, in our words (its only 400 is a body it cannot decode)."""
        if exc.status_code == 400:
            return JSONResponse({"detail": "The body is not valid JSON: send a JSON object in UTF-8."}, status_code=422)
        if exc.status_code == 404 and request.url.path.startswith("/articles/"):
            return HTMLResponse(render_missing("There is no article at this address."), 404)
        detail = {404: "There is nothing here.", 405: f"This address does not accept {request.method} requests."}
        return JSONResponse({"detail": detail.get(exc.status_code, f"The request was refused ({exc.status_code}).")},
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(AssistantError)
    async def engine_error(request: Request, exc: AssistantError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, BusyError) else None
        return JSONResponse({"detail": str(exc)}, status_code=exc.http_status, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": f"The assistant failed unexpectedly ({type(exc).__name__}): try again, and "
                                       "report it to the site owner if it persists."}, status_code=500)

    @app.post("/api/ask", summary="Answer a question, citing every sentence",
              responses={200: {"model": AnswerModel}, **_errors(403, 413, 422, 429, 503)})
    def api_ask(body: AskRequest, request: Request) -> JSONResponse:
        _limit(clients, client_address(request.client.host if request.client else None, request.headers, settings))
        if site := origins.foreign(request):
            _limit(sites, site)
        _check_history(body.history, settings)
        question = validate_question(body.question, settings.max_question_chars)
        answer = engine.ask(question, [Turn(t.question, t.answer) for t in body.history])
        return JSONResponse(answer.to_dict())

    @app.post("/api/ask/stream", summary="Answer a question: an LLM's text as it is written, then the answer",
              response_class=StreamingResponse, responses=_errors(403, 413, 422, 429, 503),
              description="Newline-delimited JSON: `{\"text\": ...}` for each piece the site owner's LLM writes "
              "(none without an LLM; not yet checked: the answer replaces it), then `{\"answer\": ...}` with the "
              "answer of POST /api/ask, or `{\"error\": ...}` with what went wrong.")
    def api_ask_stream(body: AskRequest, request: Request) -> StreamingResponse:
        _limit(clients, client_address(request.client.host if request.client else None, request.headers, settings))
        if site := origins.foreign(request):
            _limit(sites, site)
        _check_history(body.history, settings)
        question = validate_question(body.question, settings.max_question_chars)
        turns = [Turn(t.question, t.answer) for t in body.history]

        def lines() -> Iterator[str]:
            try:
                for piece in as_it_comes(lambda on_text: engine.ask(question, turns, on_text)):
                    got = {"answer": piece.to_dict()} if isinstance(piece, Answer) else {"text": piece}
                    yield json.dumps(got, ensure_ascii=False) + "\n"
            except AssistantError as exc:
                yield json.dumps({"error": str(exc)}) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @app.post("/api/feedback", summary="Rate an answer (1 or -1), with an optional comment", status_code=201,
              response_model=FeedbackSaved, responses=_errors(403, 413, 422, 429, 503))
    def api_feedback(body: FeedbackRequest, request: Request) -> dict[str, int]:
        _limit(clients, client_address(request.client.host if request.client else None, request.headers, settings))
        if site := origins.foreign(request):
            _limit(sites, site)
        _check_history(body.history, settings)
        validate_question(body.question, settings.max_question_chars)
        item = feedback.add(body.question.strip(), body.answer.model_dump(), [t.model_dump() for t in body.history],
                            body.rating, body.comment, engine.generation())
        return {"id": item}

    @app.post("/api/extras", summary="What the chat page shows with an answer: its text to copy, related "
              "questions, what the articles cover", response_model=ExtrasModel, responses=_errors(403, 413, 422, 503))
    def api_extras(body: ExtrasRequest) -> dict[str, Any]:
        # No rate limit: nothing is searched, only the FAQ's questions and the titles held in memory are read.
        _check_history(body.history, settings)
        answer = Answer.from_dict(body.answer.model_dump())
        asked = [*(t.question for t in body.history), answer.question]
        return {"text": plain_answer(answer), "related": engine.related(answer, asked),
                "covers": coverage(answer, engine.topics()) if answer.refused else ""}

    @app.get("/api/health", summary="Index and model status", response_model=HealthModel,
             responses=_errors(503))
    def api_health() -> dict[str, Any]:
        return {**engine.assistant.health(), "index": str(settings.index_dir)}

    @app.get("/api/widget", summary="What the embed script needs: questions to suggest", response_model=WidgetModel,
             responses=_errors(403))
    def api_widget() -> dict[str, Any]:
        return {"ok": True, "faq": [f.question for f in engine.faq()[:4]]}

    @app.get("/articles/{doc_id:path}", response_class=HTMLResponse, summary="An article, cited passage highlighted",
             responses={404: {"description": "A page saying there is no such article.",
                              "content": {"text/html": {}}}, **_errors(422, 503)})
    def article_page(doc_id: str, start: int | None = None, end: int | None = None, spans: str = "",
                     back: str = "") -> HTMLResponse:
        try:
            article = engine.article(doc_id)
        except NotFoundError as exc:  # a reader followed a stale link: a page, not JSON
            return HTMLResponse(render_missing(f"{exc} It may have been removed since the link was made."), 404)
        # A link back to the page that embeds the chat, only to one of the owner's sites.
        return HTMLResponse(render_article(article, start, end, _spans(spans), back if origins.own_page(back) else ""))

    @app.get("/faq", response_class=HTMLResponse, summary="The FAQ: the articles' own entries, then the curated ones",
             responses=_errors(503))
    def faq_page() -> HTMLResponse:
        return HTMLResponse(render_faq(published(engine.assistant)))

    @app.get("/embed", response_class=HTMLResponse, include_in_schema=False)
    def embed(title: str = "Ask the articles", color: str = "#0b5fff") -> HTMLResponse:
        page = (STATIC / "embed.html").read_text(encoding="utf-8")
        page = page.replace("{{COPY_JS}}", (STATIC / "copy.js").read_text(encoding="utf-8"))  # before the owner's text
        return HTMLResponse(page.replace("{{TITLE}}", html.escape(title[:80])).replace("{{COLOR}}", _color(color)))

    @app.get("/widget.js", include_in_schema=False)
    def widget() -> Response:
        return Response((STATIC / "widget.js").read_text(encoding="utf-8"), media_type="application/javascript",
                        headers={"Cache-Control": "public, max-age=300"})

    def limit_chat(host: str | None, headers: dict[str, str]) -> None:
        _limit(clients, client_address(host, headers, settings))

    mount_admin(app, engine, settings, feedback)
    return mount_chat_page(app, engine, settings, limit_chat)


def _mount_docs(app: FastAPI) -> None:
    """The API's Swagger page at /docs with its assets from the installed swagger-ui-bundle-v2, not
    a CDN: it works offline and fetches nothing from another site."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title}: API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")


def _limit(limiter: RateLimiter, key: str) -> None:
    if wait := limiter.retry_after(key):
        raise BusyError(f"Too many questions: try again in {wait} s.", retry_after=wait)


def _check_history(history: list[HistoryTurn], settings: Settings) -> None:
    turns_limit = settings.max_history_turns * 5
    if len(history) > turns_limit:
        raise UserInputError(f"The history has {len(history)} turns; send at most {turns_limit}.")
    characters = sum(len(t.question) + len(t.answer) for t in history)
    if characters > settings.max_history_chars:
        raise UserInputError(f"The history is {characters:,} characters long; the limit is "
                             f"{settings.max_history_chars:,}: send only the last turns.")


def _cors(response: Response, origin: str) -> Response:
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Vary"] = "Origin"
    return response


def _spans(raw: str) -> list[tuple[int, int]]:
    spans = []
    for part in raw.split(","):
        match = re.fullmatch(r"(\d+)-(\d+)", part.strip())
        if match:
            spans.append((int(match.group(1)), int(match.group(2))))
    return spans


def _color(value: str) -> str:
    return value if re.fullmatch(r"#[0-9a-fA-F]{3,8}", value) else "#0b5fff"


def _version() -> str:
    from .. import __version__

    return __version__


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    import uvicorn

    app = create_app(settings)
    print(f"Serving the assistant on http://{host}:{port}/ (API docs at /docs). Ctrl-C stops.", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")

