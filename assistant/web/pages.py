"""The HTML this app writes itself: an article with the cited passage highlighted, and an answer as
a chat message with its numbered sources. Every piece of article or answer text is escaped here;
nothing else builds markup from it."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from ..chunking import FENCE
from ..types import Answer, Citation

STATIC = Path(__file__).parent / "static"


def article_link(citation: Citation) -> str:
    spans = ",".join(f"{s}-{e}" for s, e in citation.spans)
    return (f"/articles/{quote(citation.doc_id, safe='/')}?start={citation.start}&end={citation.end}"
            f"{'&spans=' + spans if spans else ''}#{citation.start}-{citation.end}")


def render_missing(message: str) -> str:
    """The article page's frame around one sentence saying why there is no article to show."""
    page = (STATIC / "article.html").read_text(encoding="utf-8")
    return page.replace("{{TITLE}}", "No such article").replace("{{BODY}}", f"<p>{html.escape(message)}</p>")


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
