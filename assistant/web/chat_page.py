"""The reader's chat page: a Gradio Blocks app mounted at `/` on the FastAPI app. Only this module
imports gradio. Answers stream in word by word, then turn into the rendered answer with sources."""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from ..config import Settings
from ..errors import AssistantError
from ..types import Answer, Turn
from .pages import STATIC, render_answer_html

if TYPE_CHECKING:
    from .app import Engine  # app.py mounts this page: at run time the import would go in a circle

STREAM_STEP_SECONDS = 0.015
CONVERSATIONS_KEPT = 1000


def mount_chat_page(app: FastAPI, engine: Engine, settings: Settings,
                    limit: Callable[[str | None, dict[str, str]], None]) -> FastAPI:
    """Mount the page on `app`; `engine.ask` answers, `limit` raises when a client asks too often."""
    # gradio is imported here only: it costs seconds and only the web face needs it.
    import gradio as gr

    faq = [f.question for f in engine.faq()[:5]]

    def respond(message: str, chat: list[dict[str, str]], turns: list[dict[str, str]],
                request: gr.Request) -> Iterator[tuple[list[dict[str, str]], list[dict[str, str]], str]]:
        chat = list(chat or [])
        turns = list(turns or [])
        try:
            limit(request.client.host if request and request.client else None,
                  dict(request.headers) if request else {})
            answer: Answer = engine.ask(message, [Turn(t["question"], t["answer"]) for t in turns])
        except AssistantError as exc:
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
                             max_length=settings.max_question_chars, autofocus=True)
            send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
        clear_button = gr.Button("Clear conversation", size="sm", elem_id="clear")
        # The page's events are for the page only: hidden from Gradio's API listing here, and its
        # call routes are closed by guard.py (programs use /api/ask).
        send.click(respond, [box, chatbot, turns], [chatbot, turns, box], api_visibility="private")
        box.submit(respond, [box, chatbot, turns], [chatbot, turns, box], api_visibility="private")
        for button, question in zip(buttons, faq, strict=True):
            button.click(respond, [gr.State(question), chatbot, turns], [chatbot, turns, box], api_visibility="private")
        clear_button.click(clear, None, [chatbot, turns, box], api_visibility="private")
        # The chat's own trash button forgets the context too.
        chatbot.clear(clear, None, [chatbot, turns, box], api_visibility="private")
    # Readers are served side by side (the engine still answers one question at a time, but each
    # answer streams for a fraction of a second); more than max_waiting queued are told to come back.
    blocks.queue(max_size=settings.max_waiting, default_concurrency_limit=settings.max_waiting)
    # Gradio keeps every conversation's state in memory (about 40 KB each, measured by
    # bench/bench_load.py): beyond this many, the least recently used is forgotten.
    blocks.state_session_capacity = CONVERSATIONS_KEPT
    css = (STATIC / "chat.css").read_text(encoding="utf-8")
    return gr.mount_gradio_app(app, blocks, path="/", css=css, footer_links=[])
