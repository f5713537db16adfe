"""The HTML this app writes itself: an article with the cited passage highlighted, and an answer as
a chat message with its numbered sources. Every piece of article or answer text is escaped here;
nothing else builds markup from it."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..answering.curated import CuratedEntry
from ..ingest.chunking import line_roles
from ..ingest.sentences import FENCE, Line
from ..types import TENTATIVE, Answer, Article, Citation, article_link

if TYPE_CHECKING:
    from ..faq.curation import Published, ReviewGroup

STATIC = Path(__file__).parent / "static"


def render_missing(message: str) -> str:
    """The article page's frame around one sentence saying why there is no article to show."""
    return _page("No such article", f"<p>{html.escape(message)}</p>", _HOME)


def render_article(article: Article, start: int | None, end: int | None, spans: list[tuple[int, int]],
                   back: str = "") -> str:
    """The article as its reader sees it, every character escaped: headings, paragraphs, lists,
    quotations and code, read as chunking reads them; links back to the site and a closing legal
    notice left out (unless the passage is in them); the passage in a <mark>, its quoted sentences
    stronger, and a link back to `back` (the page that embeds the chat) when given."""
    text = article.text
    passage = (start, end) if start is not None and end is not None and 0 <= start < end <= len(text) else None
    quoted = [(s, e) for s, e in spans if passage and passage[0] <= s < e <= passage[1]]
    out: list[str] = []
    items: list[str] = []
    notice = False
    for line, role in line_roles(article):
        cited = passage is not None and line.start < passage[1] and passage[0] < line.end
        if role == "heading":
            notice = bool(_NOTICE.match(_content(line, role)[2]))
        if not cited and (notice or role in ("navigation", "title", "rule", "underline")
                          or (line.start == 0 and line.stripped == article.title)):
            continue
        a, b, _, tag = _content(line, role)
        piece = _marked(text, a, b, passage, quoted, line.start)
        if tag == "li":
            items.append(f"<li>{piece}</li>")
            continue
        if items:
            out.append(f"<ul>{''.join(items)}</ul>")
            items = []
        out.append(f'<pre class="code">{piece}</pre>' if tag == "pre" else f"<{tag}>{piece}</{tag.split()[0]}>")
    if items:
        out.append(f"<ul>{''.join(items)}</ul>")
    site = urlsplit(back).netloc
    nav = f'<a href="{html.escape(back)}">← Back to {html.escape(site)}</a>' if back else _HOME
    return _page(article.title, "\n".join(out), nav)


_HOME = '<a href="/">← Back to the assistant</a>'
# A section under such a heading is the site's legal small print, not the article.
_NOTICE = re.compile(r"^(disclaimer|copyright|©|all rights reserved|terms (of use|and conditions)|privacy policy"
                     r"|legal notice)\b", re.IGNORECASE)
_MARKER = re.compile(r"^\s*(?:#{1,6}\s+|[-*•]\s+|>\s+)")


def _content(line: Line, role: str) -> tuple[int, int, str, str]:
    """Where a line's content starts and ends (without its Markdown marker or code fences), the
    content, and the tag it is shown in."""
    a, b = line.start, line.end
    if role == "code":
        body = line.text.split("\n", 1)
        a = line.start + len(body[0]) + 1 if len(body) > 1 else line.end
        b = line.start + line.text.rfind("\n" + FENCE) if line.text.rstrip().endswith(FENCE) and a < line.end else b
        return a, max(a, b), line.text, "pre"
    marker = _MARKER.match(line.text)
    if marker:
        a += marker.end()
    a += len(text := line.text[a - line.start:]) - len(text.lstrip())
    content = line.text[a - line.start:]
    mark = marker.group(0).strip() if marker else ""
    if role == "heading":
        tag = f"h{min(len(mark) + 1, 6)}" if mark.startswith("#") else "h2"
    elif role == "question":
        tag = 'h3 class="question"'
    elif role == "item" or mark in ("-", "*", "•"):
        tag = "li"
    elif mark == ">":
        tag = "blockquote"
    else:
        tag = 'p class="row"' if content.startswith("|") else "p"
    return a, b, content, tag


def _marked(text: str, a: int, b: int, passage: tuple[int, int] | None, quoted: list[tuple[int, int]],
            line_start: int) -> str:
    """text[a:b] escaped, the part inside the passage in <mark>s (quoted sentences stronger), with
    the anchor the page scrolls to where the passage begins (or where its line's content does)."""
    inner = [*(passage or ()), *(p for s, e in quoted for p in (s, e))]
    cuts = sorted({a, b, *(p for p in inner if a < p < b)})
    out = []
    for x, y in zip(cuts, cuts[1:], strict=False):
        piece = html.escape(text[x:y])
        if passage and passage[0] <= x and y <= passage[1]:
            strong = any(s <= x and y <= e for s, e in quoted)
            piece = f'<mark class="{"quote" if strong else "passage"}">{piece}</mark>'
        if passage and (x == passage[0] or (x == a and line_start <= passage[0] < a)):
            piece = f'<span id="{passage[0]}-{passage[1]}" class="anchor"></span>{piece}'
        out.append(piece)
    return "".join(out)


def render_faq(entries: Sequence[Published], base_url: str = "") -> str:
    """The published FAQ (`faq export --format html`, and the /faq page), the articles' own entries
    first, each answer's [n] a link to its passage in the article."""
    body = []
    for source, heading in (("article", "From the articles"), ("curated", "From readers' questions")):
        chosen = [e for e in entries if e.source == source]
        if chosen:
            body.append(f"<h2>{heading}</h2>")
        for entry in chosen:
            text = _cited(html.escape(entry.answer), {c.n: article_link(c, base_url) for c in entry.citations})
            body.append(f'<h3 class="question">{html.escape(entry.question)}</h3><p>{text}</p>')
    return _page("Frequently asked questions", "\n".join(body) or "<p>No questions yet.</p>", _HOME)


def admin_page(groups: Sequence[ReviewGroup] | None, curated: Sequence[CuratedEntry], message: str) -> str:
    """The owner's page: the sign-in form (`groups` None), or the rated questions to decide, each
    with its accept and reject forms, and the curated FAQ so far."""
    note = f'<p class="message" role="status">{html.escape(message)}</p>' if message else ""
    if groups is None:
        form = ('<form method="post" action="/admin/login"><label>Admin token <input name="token" type="password" '
                'autocomplete="current-password" required></label> <button type="submit">Sign in</button></form>')
        return _page("Curate the FAQ", note + form, _HOME)
    rows = []
    for g in groups:
        comments = "".join(f"<li>{html.escape(c)}</li>" for c in g.comments)
        wordings = "; ".join(html.escape(w) for w in g.wordings)
        rows.append(
            f'<section class="group"><h2>[{g.id}] {html.escape(g.question)}</h2>'
            f"<p>Asked {len(g.ids)}×: {g.up} helped, {g.down} did not. Wordings: {wordings}</p>"
            f"{'<ul>' + comments + '</ul>' if comments else ''}"
            f'<blockquote>{html.escape(str(g.answer.get("answer", "")))}</blockquote>'
            f'<form method="post" action="/admin/accept"><input type="hidden" name="id" value="{g.id}">'
            f'<label>Question <input name="question" value="{html.escape(g.question)}"></label> '
            f'<label>Answer <input name="answer" value="{html.escape(str(g.answer.get("answer", "")))}"></label> '
            '<button type="submit">Accept into the FAQ</button></form>'
            f'<form method="post" action="/admin/reject"><input type="hidden" name="id" value="{g.id}">'
            '<label><input type="checkbox" name="out_of_scope" value="true"> Out of scope</label> '
            '<label>Reply <input name="reply"></label> <button type="submit">Reject</button></form></section>')
    entries = "".join(f'<li>{html.escape(e.id)}: {html.escape(e.question)} <form method="post" action="/admin/remove" '
                      f'class="inline"><input type="hidden" name="entry" value="{html.escape(e.id)}">'
                      '<button type="submit">Remove</button></form></li>' for e in curated)
    body = (note + ("".join(rows) or "<p>No rated questions to review.</p>")
            + f"<h2>Curated FAQ</h2>{'<ul>' + entries + '</ul>' if entries else '<p>None yet.</p>'}")
    return _page("Curate the FAQ", body, _HOME)


def _cited(escaped: str, links: dict[int, str], attributes: str = "") -> str:
    """Escaped answer text with each [n] a link to its passage (`attributes` may use {n})."""

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in links:
            return match.group(0)
        return f'<a{attributes.format(n=n)} href="{html.escape(links[n])}">[{n}]</a>'

    return re.sub(r"\[(\d+)\]", link, escaped)


def _page(title: str, body: str, nav: str) -> str:
    page = (STATIC / "article.html").read_text(encoding="utf-8")
    return page.replace("{{TITLE}}", html.escape(title)).replace("{{NAV}}", nav).replace("{{BODY}}", body)


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

    text = _cited(html.escape(answer.quoted), {n: f"#{a}" for n, a in anchors.items()},
                  ' class="cite" aria-label="source {n}"')
    if answer.refused:
        covers = coverage(answer, topics)
        cover = f'<p class="covers">{html.escape(covers)}</p>' if covers else ""
        body = f'<div class="refusal" data-refused="true"><p class="text">{text}</p>{cover}'
        heading = "Nearest passages: they do not answer the question"
    elif answer.tentative:
        body = (f'<div class="answer tentative" data-confident="false"><p class="hedge">{html.escape(TENTATIVE)}</p>'
                f'<p class="text">{text}</p>')
        heading = "Closest passages: they may not answer the question"
    else:
        body = f'<div class="answer" data-confident="true"><p class="text">{text}</p>'
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
        if answer.refused:  # passages that do not answer: there only for a reader who asks for them
            sources = (f'<details class="nearest"><summary><span class="show">{NEAREST_SHOW}</span>'
                       f'<span class="hide">Hide the nearest passages</span></summary>{sources}</details>')
    copy = (f'<button class="copy" type="button" data-copy="{html.escape(plain_answer(answer))}">'
            "Copy answer</button>")
    data = html.escape(json.dumps(answer.to_dict()))
    return (f'<section class="turn" aria-label="Question {i + 1}" data-answer="{data}">'
            f'<p class="question">{html.escape(answer.question)}</p>'
            f'{body}{sources}<div class="tools">{copy}{_FEEDBACK}</div></div></section>')


# Under every answer: a rating, then an optional comment (static/chat.js sends them to /api/feedback).
_FEEDBACK = ('<span class="feedback"><span class="ask-rating">Did this help?</span>'
             '<button class="rate" type="button" data-rating="1" aria-pressed="false" aria-label="Yes, it helped">'
             '<span aria-hidden="true">👍</span> Yes</button>'
             '<button class="rate" type="button" data-rating="-1" aria-pressed="false" '
             'aria-label="No, it did not help">'
             '<span aria-hidden="true">👎</span> No</button></span>'
             '<form class="comment" hidden><label>Anything to add? (optional) '
             '<input name="comment" maxlength="2000" autocomplete="off"></label>'
             '<button type="submit">Send</button></form><span class="thanks" role="status"></span>')


# A refusal lists every article's title when there are at most this many (else the nearest ones).
_TOPICS_LISTED = 6
# What opens a refusal's nearest passages, folded away under it (on the page and in the widget).
NEAREST_SHOW = "Show the nearest passages"


def coverage(answer: Answer, topics: Sequence[str]) -> str:
    """The line under a refusal saying what the articles cover: every title when there are a few,
    else the nearest articles' titles; "" when there is nothing to list."""
    few = len(topics) <= _TOPICS_LISTED
    covered = topics if few else list(dict.fromkeys(c.title for c in answer.citations))
    if not covered:
        return ""
    listed = "; ".join(covered)
    stop = "" if listed.endswith(("…", ".", "?", "!")) else "."
    return f'{"These articles cover" if few else "The nearest articles"}: {listed}{stop}'


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
