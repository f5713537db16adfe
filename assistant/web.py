"""The web face: one FastAPI app serving the reader's Gradio chat page (`/`), the JSON API
(`/api/ask`, `/api/health`, `/api/widget`), article pages with the cited passage highlighted
(`/articles/{doc_id}`), the compact chat for the widget's iframe (`/embed`) and the embed script
(`/widget.js`).

Every limit is enforced here, server-side: question length, history size, body size, a per-client
rate limit, and the owner's allowed origins (frame-ancestors for `/embed`, 403 for browser calls to
the API from other origins). All article text is escaped before it reaches a page. Only this
module imports gradio; the app is built by `create_app` and launched only by `serve`.
"""


import html
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field, ValidationError, field_validator

from .chunking import FENCE
from .config import Settings
from .engine import Assistant
from .errors import AssistantError, UserInputError
from .types import Answer, Citation, Turn

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 256_000
MAX_TURN_CHARS = 20_000
STREAM_STEP_SECONDS = 0.015


class HistoryTurn(BaseModel):
    question: str = Field(max_length=MAX_TURN_CHARS)
    answer: str = Field(max_length=MAX_TURN_CHARS)


class AskRequest(BaseModel):
    question: str
    history: list[HistoryTurn] = Field(default_factory=list, max_length=50)

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is empty")
        return value


class RateLimiter:
    """A sliding one-minute window per client address."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int:
        """0 when the request may go ahead (and is counted), else seconds to wait."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits[client]
            while hits and hits[0] <= now - 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(1, int(60 - (now - hits[0])) + 1)
            hits.append(now)
            return 0


class Origins:
    """The owner's allow-list: which browser origins may frame /embed and call the API."""

    def __init__(self, allowed: tuple[str, ...]):
        self.allowed = {o.rstrip("/") for o in allowed}

    def permits(self, request: Request) -> bool:
        origin = request.headers.get("origin")
        if not origin:
            return True  # not a cross-origin browser request: scripts, curl, same-origin GET
        return origin == _own_origin(request) or origin in self.allowed

    def frame_ancestors(self) -> str:
        return " ".join(["'self'", *sorted(self.allowed)])

    def refusal(self, request: Request) -> str:
        return (f"The origin {request.headers.get('origin')} is not allowed to use this assistant: "
                "the site owner must add it to --allowed-origins.")


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def create_app(settings: Settings, assistant: Assistant | None = None) -> FastAPI:
    assistant = assistant or Assistant.open(settings)
    # One engine thread: one question at a time (the index may refresh under it), and torch keeps
    # one warm thread pool instead of starting one in each of the web server's worker threads.
    engine = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine")
    engine.submit(assistant.ask, "warm-up").result()  # load the model now, not on the first question
    limiter = RateLimiter(settings.rate_limit_per_minute)
    origins = Origins(settings.allowed_origins)
    app = FastAPI(title="Cited-answer assistant", version=_version(),
                  description="Answers questions about a set of articles; every sentence cites its passage.")

    def ask(question: str, history: list[Turn]) -> Answer:
        return engine.submit(assistant.ask, question, history).result()

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        if request.url.path.startswith("/api/"):
            if not origins.permits(request):
                return _cors(JSONResponse({"detail": origins.refusal(request)}, status_code=403), "*")
            if request.method == "OPTIONS":
                return _cors(Response(status_code=204), request.headers.get("origin", ""))
            length = request.headers.get("content-length", "0")
            if not length.isdigit() or int(length) > MAX_BODY_BYTES:
                return JSONResponse({"detail": f"The request body is over {MAX_BODY_BYTES:,} bytes."}, status_code=413)
        response = await call_next(request)
        if request.url.path.startswith("/api/") and request.headers.get("origin"):
            _cors(response, request.headers["origin"])
        return response

    @app.exception_handler(RequestValidationError)
    async def readable_422(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _readable(exc.errors()), "errors": _plain(exc.errors())}, status_code=422)

    @app.exception_handler(AssistantError)
    async def engine_error(request: Request, exc: AssistantError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.http_status)

    @app.post("/api/ask", summary="Answer a question, citing every sentence")
    def api_ask(body: AskRequest, request: Request) -> JSONResponse:
        wait = limiter.retry_after(_client(request))
        if wait:
            return JSONResponse({"detail": f"Too many questions: try again in {wait} s."}, status_code=429,
                                headers={"Retry-After": str(wait)})
        if len(body.history) > settings.max_history_turns * 5:
            raise UserInputError(f"The history has {len(body.history)} turns; send at most "
                                 f"{settings.max_history_turns * 5}.")
        answer = ask(body.question, [Turn(t.question, t.answer) for t in body.history])
        return JSONResponse(answer.to_dict())

    @app.get("/api/health", summary="Index and model status")
    def api_health() -> dict[str, Any]:
        return {**assistant.health(), "index": str(settings.index_dir)}

    @app.get("/api/widget", summary="What the embed script needs: whether this origin may use it")
    def api_widget() -> dict[str, Any]:
        return {"ok": True, "faq": [f.question for f in assistant.faq()[:4]]}

    @app.get("/articles/{doc_id:path}", response_class=HTMLResponse, summary="An article, cited passage highlighted")
    def article_page(doc_id: str, start: int | None = None, end: int | None = None, spans: str = "") -> HTMLResponse:
        article = assistant.article(doc_id)
        return HTMLResponse(render_article(article.title, article.text, start, end, _spans(spans)))

    @app.get("/embed", response_class=HTMLResponse, include_in_schema=False)
    def embed(title: str = "Ask the articles", color: str = "#0b5fff") -> HTMLResponse:
        page = (STATIC / "embed.html").read_text(encoding="utf-8")
        page = page.replace("{{TITLE}}", html.escape(title[:80])).replace("{{COLOR}}", _color(color))
        return HTMLResponse(page, headers={"Content-Security-Policy": f"frame-ancestors {origins.frame_ancestors()}",
                                           "X-Content-Type-Options": "nosniff"})

    @app.get("/widget.js", include_in_schema=False)
    def widget() -> Response:
        return Response((STATIC / "widget.js").read_text(encoding="utf-8"), media_type="application/javascript",
                        headers={"Cache-Control": "public, max-age=300"})

    return _mount_chat_page(app, assistant, ask, limiter)


def _cors(response: Response, origin: str) -> Response:
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Vary"] = "Origin"
    return response


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _readable(errors: Any) -> str:
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) + "."


def _plain(errors: Any) -> list[dict[str, Any]]:
    return [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in errors]


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
    from . import __version__

    return __version__


def article_link(citation: Citation) -> str:
    spans = ",".join(f"{s}-{e}" for s, e in citation.spans)
    return (f"/articles/{quote(citation.doc_id, safe='/')}?start={citation.start}&end={citation.end}"
            f"{'&spans=' + spans if spans else ''}#{citation.start}-{citation.end}")


def render_article(title: str, text: str, start: int | None, end: int | None, spans: list[tuple[int, int]]) -> str:
    """The article with its structure (headings, paragraphs, list items, code) and every character
    escaped; the passage in a <mark>, the quoted sentences stronger."""
    valid = start is not None and end is not None and 0 <= start < end <= len(text)
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    cuts = sorted({0, len(text), *((start, end) if valid else ()), *newlines, *(i + 1 for i in newlines),
                   *(p for s, e in spans if valid and start <= s < e <= end for p in (s, e))})  # type: ignore[operator]
    lines: list[list[str]] = [[]]
    for a, b in zip(cuts, cuts[1:], strict=False):
        if text[a:b] == "\n":
            lines.append([])
            continue
        piece = html.escape(text[a:b])
        if valid and start <= a and b <= end:  # type: ignore[operator]
            strong = any(s <= a and b <= e for s, e in spans)
            piece = f'<mark class="{"quote" if strong else "passage"}">{piece}</mark>'
        if valid and a == start:
            piece = f'<span id="{start}-{end}" class="anchor"></span>{piece}'
        lines[-1].append(piece)
    page = (STATIC / "article.html").read_text(encoding="utf-8")
    return page.replace("{{TITLE}}", html.escape(title)).replace("{{BODY}}", _blocks(lines))


_LINE_KINDS = re.compile(r"^(?P<tags>(?:<[^>]+>)*)(?:(?P<h>#{1,6}) |(?P<li>- )|(?P<q>&gt; )|(?P<row>\| ))")


def _blocks(lines: list[list[str]]) -> str:
    """Lines of escaped pieces as HTML blocks: `#` headings, `- ` items, `> ` quotations, `| ` rows,
    fenced code; anything else a paragraph. A line's markers are dropped from its text (and kept in
    the highlighted passage's offsets, which refer to the stored text)."""
    out, code = [], False
    for pieces in lines:
        line = "".join(pieces)
        bare = re.sub(r"<[^>]+>", "", line)
        if bare.strip() == FENCE:
            out.append("</pre>" if code else '<pre class="code">')
            code = not code
            continue
        if code:
            out.append(line + "\n")
            continue
        if not bare.strip():
            continue
        match = _LINE_KINDS.match(line)
        content = match.group("tags") + line[match.end():] if match else line
        if match and match.group("h"):
            level = min(len(match.group("h")) + 1, 6)
            out.append(f"<h{level}>{content}</h{level}>")
        elif match and match.group("li"):
            out.append(f'<p class="item">• {content}</p>')
        elif match and match.group("q"):
            out.append(f"<blockquote>{content}</blockquote>")
        else:
            out.append(f'<p class="{"row" if match else "para"}">{line}</p>')
    if code:
        out.append("</pre>")
    return "\n".join(out)


def render_answer_html(answer: Answer) -> str:
    """The chat page's message for an answer: built from the structured answer, all text escaped."""
    links = {c.n: article_link(c) for c in answer.citations}

    def cite(match: re.Match[str]) -> str:
        n = int(match.group(1))
        href = links.get(n)
        return f'<a class="cite" href="{html.escape(href)}" target="_blank">[{n}]</a>' if href else match.group(0)

    text = re.sub(r"\[(\d+)\]", cite, html.escape(answer.answer))
    kind = "refusal" if answer.refused else "answer"
    heading = "Nearest passages (they do not answer the question)" if answer.refused else "Sources"
    items = "".join(_source_html(c) for c in answer.citations)
    sources = f'<div class="sources"><div class="sources-title">{heading}</div><ol>{items}</ol></div>' if items else ""
    return f'<div class="{kind}"><p>{text}</p>{sources}</div>'


def _source_html(citation: Citation) -> str:
    passage = "".join(
        f"<mark>{html.escape(citation.text[a - citation.start:b - citation.start])}</mark>" if quoted
        else html.escape(citation.text[a - citation.start:b - citation.start])
        for a, b, quoted in _segments(citation)
    )
    section = f' <span class="section">· {html.escape(citation.section)}</span>' if citation.section else ""
    return (f'<li value="{citation.n}"><a href="{html.escape(article_link(citation))}" target="_blank">'
            f"{html.escape(citation.title)}</a>{section}<blockquote>{passage}</blockquote></li>")


def _segments(citation: Citation) -> Iterator[tuple[int, int, bool]]:
    position = citation.start
    for s, e in sorted(citation.spans):
        if s > position:
            yield position, s, False
        yield s, e, True
        position = e
    if position < citation.end:
        yield position, citation.end, False


def _mount_chat_page(app: FastAPI, assistant: Assistant, ask: Any, limiter: RateLimiter) -> FastAPI:
    # gradio is imported here only: it costs seconds and only the web face needs it.
    import gradio as gr

    faq = [f.question for f in assistant.faq()[:5]]

    def respond(message: str, chat: list[dict[str, str]], turns: list[dict[str, str]],
                request: gr.Request) -> Iterator[tuple[list[dict[str, str]], list[dict[str, str]], str]]:
        chat = list(chat or [])
        turns = list(turns or [])
        if limiter.retry_after(request.client.host if request and request.client else "unknown"):
            raise gr.Error("Too many questions: wait a minute and try again.")
        try:
            answer = ask(message, [Turn(t["question"], t["answer"]) for t in turns])
        except (AssistantError, ValidationError) as exc:
            raise gr.Error(str(exc)) from None
        chat.append({"role": "user", "content": html.escape(answer.question)})
        chat.append({"role": "assistant", "content": ""})
        words = answer.answer.split(" ")
        for i in range(1, len(words)):  # the answer appears progressively; the final message is the API's
            chat[-1] = {"role": "assistant", "content": html.escape(" ".join(words[:i]))}
            yield chat, turns, ""
            time.sleep(STREAM_STEP_SECONDS)
        chat[-1] = {"role": "assistant", "content": render_answer_html(answer)}
        turns.append({"question": answer.question, "answer": answer.answer})
        yield chat, turns, ""

    def clear() -> tuple[list[Any], list[Any], str]:
        return [], [], ""

    with gr.Blocks(title="Ask the articles", analytics_enabled=False) as blocks:
        gr.Markdown("## Ask the articles\nEvery sentence of an answer cites the passage it comes from.",
                    elem_id="intro")
        chatbot = gr.Chatbot(elem_id="chat", height=520, sanitize_html=True, render_markdown=True,
                             label="Conversation", placeholder="Ask a question, or pick one below.")
        turns = gr.State([])
        with gr.Row(elem_id="suggestions"):
            buttons = [gr.Button(q, size="sm", elem_classes=["suggestion"]) for q in faq]
        with gr.Row():
            box = gr.Textbox(placeholder="Ask about the articles…", show_label=False, scale=5, elem_id="question",
                             max_length=assistant.settings.max_question_chars, autofocus=True)
            send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
        clear_button = gr.Button("Clear conversation", size="sm", elem_id="clear")
        send.click(respond, [box, chatbot, turns], [chatbot, turns, box])
        box.submit(respond, [box, chatbot, turns], [chatbot, turns, box])
        for button, question in zip(buttons, faq, strict=True):
            button.click(respond, [gr.State(question), chatbot, turns], [chatbot, turns, box])
        clear_button.click(clear, None, [chatbot, turns, box])
        chatbot.clear(clear, None, [chatbot, turns, box])  # the chat's own trash button forgets the context too
    css = (STATIC / "chat.css").read_text(encoding="utf-8")
    return gr.mount_gradio_app(app, blocks, path="/", css=css, footer_links=[])


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    import uvicorn

    app = create_app(settings)
    print(f"Serving the assistant on http://{host}:{port}/ (API docs at /docs). Ctrl-C stops.", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
