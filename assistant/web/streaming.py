"""An answer as it comes: the pieces an LLM writes, then the answer itself. Shared by the chat
page and `POST /api/ask/stream`; the engine answers on its own thread, the pieces cross over a
queue."""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from ..types import Answer

# How often the waiting side looks for a piece (seconds): well under what a reader notices.
_POLL_SECONDS = 0.05


def as_it_comes(ask: Callable[[Callable[[str], None]], Answer]) -> Iterator[str | Answer]:
    """Run `ask(on_text)`, yielding each piece of text it hands to `on_text`, then its answer. An
    error `ask` raises is raised here, after the pieces that came before it."""
    pieces: queue.SimpleQueue[str] = queue.SimpleQueue()
    with ThreadPoolExecutor(1, thread_name_prefix="answer-stream") as pool:
        future = pool.submit(ask, pieces.put)
        while not (future.done() and pieces.empty()):
            try:
                yield pieces.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
        yield future.result()
