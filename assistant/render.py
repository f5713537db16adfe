"""Plain-text rendering of an answer for a terminal: the answer, then its numbered sources.
Only layout lives here; the CLI decides when to print it.

May import: types.
"""

from __future__ import annotations

import shutil
import textwrap

from .types import TENTATIVE, Answer, Citation


def _width() -> int:
    return max(40, min(100, shutil.get_terminal_size((88, 24)).columns))


def render_answer(answer: Answer, sources: bool = True) -> str:
    width = _width()
    if answer.tentative:  # the introduction on its own line, the quote set in below it
        lines = [TENTATIVE, textwrap.fill(answer.quoted, width, initial_indent="  > ", subsequent_indent="    ")]
    else:
        lines = [textwrap.fill(answer.answer, width)]
    if answer.refused and answer.citations:
        lines.append("\nNearest passages (they do not answer the question):")
    if sources or answer.refused:
        lines.append(render_sources(answer))
    elif answer.citations:
        lines.append(textwrap.fill(
            "Sources: " + "; ".join(f"[{c.n}] {c.title}" for c in answer.citations) + "  (/sources for passages)",
            width, subsequent_indent="  "))
    return "\n".join(line for line in lines if line)


def render_sources(answer: Answer) -> str:
    return "\n".join(_source(c, _width()) for c in answer.citations)


def _source(citation: Citation, width: int) -> str:
    where = f"{citation.doc_id}, characters {citation.start}-{citation.end}"
    section = f" / {citation.section}" if citation.section else ""
    heading = textwrap.fill(f"[{citation.n}] {citation.title}{section}", width, subsequent_indent="    ")
    passage = textwrap.fill(" ".join(citation.text.split()), width, initial_indent="    ", subsequent_indent="    ")
    return f"\n{heading}\n    ({where})\n{passage}"
