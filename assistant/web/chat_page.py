"""The reader's chat page: a Gradio Blocks app mounted at `/` on the FastAPI app. Only this module
imports gradio. The conversation is our own HTML (pages.render_conversation), so that what a reader,
a screen reader and the clipboard get is text we wrote: a thinking indicator from the moment a
question is sent, the answer streamed (an LLM's text as it writes it, a quote word by word), then
the answer with its clickable sources: for an LLM, only the sentences that passed the grounding check."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI

from ..config import Settings
from ..errors import AssistantError
from ..types import Answer, Turn
from .engine import Engine
from .pages import STATIC, render_conversation
from .streaming import as_it_comes

STREAM_STEP_SECONDS = 0.03
STREAM_WORDS = 3
CONVERSATIONS_KEPT = 1000
# A conversation shows (and keeps in memory) its last this many answers.
ANSWERS_KEPT = 20
SUGGESTIONS = 4


def mount_chat_page(app: FastAPI, engine: Engine, settings: Settings,
                    limit: Callable[[str | None, dict[str, str]], None]) -> FastAPI:
    """Mount the page on `app`; `engine.ask` answers, `limit` raises when a client asks too often."""
    # Gradio keeps the last 10,000 events' timings for a monitoring page we do not serve (guard.py
    # closes it): 1,000 is plenty, and bounds the memory a busy page holds.
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")
    # gradio is imported here only: it costs seconds and only the web face needs it.
    import gradio as gr

    openers = [f.question for f in engine.faq()[:SUGGESTIONS]]
    topics = engine.topics()

    def suggestions(questions: list[str], heading: str) -> list[Any]:
        shown = questions[:SUGGESTIONS]
        return [gr.update(value=f'<p class="suggest-title" id="suggest-title">{heading}</p>', visible=bool(shown)),
                *(gr.update(value=q, visible=True) for q in shown),
                *(gr.update(visible=False) for _ in range(SUGGESTIONS - len(shown)))]

    unchanged = [gr.skip()] * (SUGGESTIONS + 1)

    def respond(question: str, kept: list[dict[str, Any]], request: gr.Request) -> Iterator[list[Any]]:
        answers = [Answer.from_dict(a) for a in kept or []]
        question = (question or "").strip()
        if not question:
            yield [gr.skip(), kept, "", *unchanged]
            return
        yield [render_conversation(answers, topics, pending=question), kept, "", *unchanged]
        written = ""  # what an LLM has written so far, shown as it comes; the checked answer replaces it
        try:
            limit(request.client.host if request and request.client else None,
                  dict(request.headers) if request else {})
            turns = [Turn(a.question, a.answer) for a in answers]
            for piece in as_it_comes(lambda on_text: engine.ask(question, turns, on_text)):
                if isinstance(piece, Answer):
                    answer = piece
                else:
                    written += piece
                    yield [render_conversation(answers, topics, pending=question, partial=written), kept, "",
                           *unchanged]
        except AssistantError as exc:
            yield [render_conversation(answers, topics, pending=question, error=str(exc)), kept, question, *unchanged]
            return
        words = answer.answer.split(" ")
        for i in range(STREAM_WORDS, len(words) if not written else 0, STREAM_WORDS):  # a quote appears progressively
            yield [render_conversation(answers, topics, pending=answer.question, partial=" ".join(words[:i])),
                   kept, "", *unchanged]
            time.sleep(STREAM_STEP_SECONDS)
        answers = [*answers, answer][-ANSWERS_KEPT:]
        related = engine.related(answer, [a.question for a in answers])
        yield [render_conversation(answers, topics), [a.to_dict() for a in answers], "",
               *suggestions(related, "Related questions")]

    # Gradio hands a gr.Request only to a parameter whose evaluated annotation is gr.Request, and it
    # cannot evaluate this module's string annotations (gradio is imported in this function): without
    # this line `request` is None, and every reader of the page shares one rate limit.
    respond.__annotations__["request"] = gr.Request

    def restart() -> list[Any]:
        return [render_conversation([], topics), [], "", *suggestions(openers, "Try asking")]

    with gr.Blocks(title="Ask the articles", analytics_enabled=False) as blocks:
        with gr.Row(elem_id="top", equal_height=True):
            gr.HTML('<h1>Ask the articles</h1><p class="lede">Every sentence of an answer cites the passage '
                    "it comes from.</p>", elem_id="intro", js_on_load=None)
            new = gr.Button("New conversation", size="sm", elem_id="new", variant="secondary", scale=0)
        conversation = gr.HTML(render_conversation([], topics), elem_id="conversation",
                               js_on_load="\n".join((STATIC / name).read_text(encoding="utf-8")
                                                     for name in ("copy.js", "chat.js")))
        kept = gr.State([])
        with gr.Column(elem_id="composer"):
            with gr.Row(elem_id="suggestions"):
                title = gr.HTML('<p class="suggest-title" id="suggest-title">Try asking</p>', js_on_load=None,
                                visible=bool(openers))
                buttons = [gr.Button(q, size="sm", elem_classes=["suggestion"], visible=True) for q in openers]
                buttons += [gr.Button("", size="sm", elem_classes=["suggestion"], visible=False)
                            for _ in range(SUGGESTIONS - len(openers))]
            with gr.Row(elem_id="ask-row"):
                box = gr.Textbox(label="Your question", show_label=False, placeholder="Ask about the articles…",
                                 scale=5, elem_id="question", max_length=settings.max_question_chars,
                                 autofocus=True, lines=1)
                send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
        outputs = [conversation, kept, box, title, *buttons]
        # The page's events are for the page only: hidden from Gradio's API listing here, and its
        # call routes are closed by guard.py (programs use /api/ask). The conversation shows its own
        # thinking indicator, so Gradio's progress overlay is off.
        options: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
        send.click(respond, [box, kept], outputs, **options)
        box.submit(respond, [box, kept], outputs, **options)
        for button in buttons:
            button.click(respond, [button, kept], outputs, **options)
        new.click(restart, None, outputs, **options)
    # Readers are served side by side (the engine still answers one question at a time, but each
    # answer streams for a fraction of a second); more than max_waiting queued are told to come back.
    blocks.queue(max_size=settings.max_waiting, default_concurrency_limit=settings.max_waiting)
    # Gradio keeps every conversation's state in memory: beyond this many, the least recently used
    # is forgotten (bench/bench_load.py's soak measures what they cost).
    blocks.state_session_capacity = CONVERSATIONS_KEPT
    css = (STATIC / "chat.css").read_text(encoding="utf-8")
    head = f"<style>{(STATIC / 'page.css').read_text(encoding='utf-8')}</style>"
    # System fonts (nothing to download) and a blue whose white button text passes AA in both themes.
    theme = gr.themes.Default(primary_hue="blue", font=["system-ui", "ui-sans-serif", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"]).set(
        button_primary_background_fill="*primary_700", button_primary_background_fill_hover="*primary_800",
        button_primary_background_fill_dark="*primary_700", button_primary_background_fill_hover_dark="*primary_800")
    return gr.mount_gradio_app(app, blocks, path="/", css=css, head=head, theme=theme, footer_links=[])
