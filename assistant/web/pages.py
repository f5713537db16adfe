"""The HTML this app writes itself: an article with the cited passage highlighted, and an answer as
a chat message with its numbered sources. Every piece of article or answer text is escaped here;
nothing else builds markup from it."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
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


def render_conversation(answers: Sequence[Answer], topics: Sequence[str], pending: str | None = None,
                        partial: str | None = None, error: str | None = None) -> str:
    """The chat page's conversation: each question with its answer first, the answer's `[n]` linked
    to a compact source list below it (one entry per article, each cited sentence highlighted and
    expandable to its passage). `pending` is a question still being answered: shown with a thinking
    indicator, or with the `partial` answer streamed so far, or with `error` (why it got no answer)."""
    turns = [_turn_html(i, answer, topics) for i, answer in enumerate(answers)]
    if pending is not None:
        if error is not None:
            reply = f'<div class="error" role="alert"><p>{html.escape(error)}</p></div>'
        elif partial is not None:
            reply = f'<div class="answer streaming"><p class="text">{html.escape(partial)}</p></div>'
        else:
            reply = ('<div class="thinking" role="status"><span class="dots" aria-hidden="true"><i></i><i></i><i></i>'
                     "</span> Looking through the articles…</div>")
        turns.append(f'<section class="turn" aria-label="Question {len(answers) + 1}">'
                     f'<p class="question">{html.escape(pending)}</p>{reply}</section>')
    if not turns:
        turns.append('<p class="empty">Ask a question about the articles, or pick one below. '
                     "Every sentence of an answer links to the passage it comes from.</p>")
    return f'<div class="conversation">{"".join(turns)}</div>'


def _turn_html(i: int, answer: Answer, topics: Sequence[str]) -> str:
    anchors = {c.n: f"s{i}-{c.n}" for c in answer.citations}

    def cite(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return (f'<a class="cite" href="#{anchors[n]}" aria-label="source {n}">[{n}]</a>' if n in anchors
                else match.group(0))

    text = re.sub(r"\[(\d+)\]", cite, html.escape(answer.answer))
    if answer.refused:
        few = len(topics) <= _TOPICS_LISTED
        covered = topics if few else list(dict.fromkeys(c.title for c in answer.citations))
        cover = (f'<p class="covers">{"These articles cover" if few else "The nearest articles"}: '
                 f'{html.escape("; ".join(covered))}.</p>' if covered else "")
        body = f'<div class="refusal" data-refused="true"><p class="text">{text}</p>{cover}'
        heading = "Nearest passages: they do not answer the question"
    else:
        body = f'<div class="answer"><p class="text">{text}</p>'
        heading = "Sources"
    sources = ""
    if answer.citations:
        articles: dict[str, list[Citation]] = {}
        for c in answer.citations:
            articles.setdefault(c.doc_id, []).append(c)
        items = "".join(f'<li><span class="title">{html.escape(cs[0].title)}</span><ul>'
                        + "".join(_source_html(c, anchors[c.n]) for c in cs) + "</ul></li>" for cs in articles.values())
        sources = (f'<div class="sources"><h2 class="sources-title" id="h{i}">{heading}</h2>'
                   f'<ul aria-labelledby="h{i}">{items}</ul></div>')
    copy = (f'<button class="copy" type="button" data-copy="{html.escape(plain_answer(answer))}">'
            "Copy answer</button>")
    return (f'<section class="turn" aria-label="Question {i + 1}">'
            f'<p class="question">{html.escape(answer.question)}</p>'
            f'{body}{sources}<div class="tools">{copy}</div></div></section>')


# A refusal lists every article's title when there are at most this many (else the nearest ones).
_TOPICS_LISTED = 6


def _source_html(citation: Citation, anchor: str) -> str:
    """One cited passage: its number, section and quoted sentences in the summary, the whole passage
    (quoted sentences highlighted) and a link to it in its article when expanded."""
    quote = " … ".join(citation.text[s - citation.start:e - citation.start] for s, e in sorted(citation.spans))
    passage = "".join(
        f"<mark>{html.escape(citation.text[a - citation.start:b - citation.start])}</mark>" if quoted
        else html.escape(citation.text[a - citation.start:b - citation.start])
        for a, b, quoted in _segments(citation)
    )
    section = f'<span class="section">{html.escape(citation.section)}</span> ' if citation.section else ""
    shown = f"<mark>{html.escape(quote)}</mark>" if quote else html.escape(_clipped(citation.text))
    return (f'<li id="{anchor}" tabindex="-1"><details><summary><span class="n">[{citation.n}]</span> {section}'
            f'<span class="quote">{shown}</span></summary><blockquote>{passage}</blockquote>'
            f'<a class="open" href="{html.escape(article_link(citation))}" target="_blank" rel="noopener">'
            f"Read it in the article</a></details></li>")


def _clipped(text: str, limit: int = 160) -> str:
    """The start of a passage, cut at a word boundary."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def plain_answer(answer: Answer) -> str:
    """An answer as clean text with its sources, for the clipboard."""
    lines = [answer.answer, ""]
    for c in answer.citations:
        quote = " … ".join(c.text[s - c.start:e - c.start] for s, e in sorted(c.spans)) or _clipped(c.text)
        section = f", {c.section}" if c.section else ""
        lines.append(f"[{c.n}] {c.title}{section}: “{quote}”")
    return "\n".join(lines).strip()


def _segments(citation: Citation) -> Iterator[tuple[int, int, bool]]:
    position = citation.start
    for s, e in sorted(citation.spans):
        if s > position:
            yield position, s, False
        yield s, e, True
        position = e
    if position < citation.end:
        yield position, citation.end, False
