"""The assistant as the web face uses it (`Engine`): the app, the chat page and the owner's pages
share one, which keeps the questions on one thread and the index open (or says why it cannot be)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..config import Settings
from ..engine import Assistant, FaqEntry
from ..errors import AssistantError, BusyError
from ..types import Answer, Article, Turn

_REOPEN_SECONDS = 2.0  # how often an unusable index is tried again
RELATED = 3  # questions suggested after an answer


class Engine:
    """The assistant as the web face uses it: one question at a time on one engine thread (the
    index may refresh under it), at most `max_waiting` questions waiting, each answered within the
    time budget or refused with 429. While the index cannot be opened, every use raises why, and
    opening is tried again every few seconds, so a rebuilt index is picked up without a restart."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None):
        self.settings = settings
        self._assistant = assistant
        self._problem: AssistantError | None = None
        self._tried = 0.0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine")
        self._waiting = 0
        self._lock = threading.Lock()
        if assistant is None:
            self._thread.submit(self._open).result()
        if self._assistant is not None:
            self._thread.submit(self._assistant.ask, "warm-up").result()  # load the model now

    def _open(self) -> None:
        try:
            self._assistant, self._problem = Assistant.open(self.settings), None
        except AssistantError as exc:
            self._problem = exc
        self._tried = time.monotonic()

    @property
    def assistant(self) -> Assistant:
        if self._assistant is None and time.monotonic() - self._tried > _REOPEN_SECONDS:
            self._thread.submit(self._open).result()
        if self._assistant is None:
            assert self._problem is not None
            raise self._problem
        return self._assistant

    def ask(self, question: str, history: list[Turn], on_text: Callable[[str], None] | None = None) -> Answer:
        assistant = self.assistant
        with self._lock:
            if self._waiting >= self.settings.max_waiting:
                raise BusyError("The assistant is busy with other questions: try again in a few seconds.")
            self._waiting += 1
        try:
            future = self._thread.submit(assistant.ask, question, history, on_text)
            try:
                return future.result(timeout=self.settings.request_seconds)
            except TimeoutError:
                future.cancel()
                raise BusyError(f"The question was not answered within {self.settings.request_seconds} s, "
                                "the assistant is busy: try again in a few seconds.") from None
        finally:
            with self._lock:
                self._waiting -= 1

    def faq(self) -> list[FaqEntry]:
        try:
            return self.assistant.faq()
        except AssistantError:
            return []

    def generation(self) -> str:
        """The live index generation, or "" while there is no usable index."""
        try:
            return str(self.assistant.health()["generation"])
        except AssistantError:
            return ""

    def related(self, answer: Answer, asked: list[str]) -> list[str]:
        """The questions from the articles' FAQ that the chat page and the widget suggest after
        `answer`, none of `asked` (the conversation's questions, this one's included)."""
        return [e.question for e in self.assistant.related(answer, asked, RELATED)]

    def topics(self) -> list[str]:
        try:
            return self.assistant.topics()
        except AssistantError:
            return []

    def article(self, doc_id: str) -> Article:
        return self.assistant.article(doc_id)
