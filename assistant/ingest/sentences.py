"""An article's text as lines and sentences, with exact offsets: a line that starts with a comma,
or with a lowercase word after a line whose sentence is unfinished, continues the line before it (a
sentence the source broke across lines), as does an indented line under one as deep; a fenced code
block is one line; sentences never cross a line, and each sentence of a long quotation stands on its
own (chunking.py packs them into chunks)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

LONGEST_SENTENCE = 2000
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "inc", "jr", "sr", "no",
    "fig", "u.s", "u.k", "approx", "dept", "est", "gen", "gov", "sen", "rep", "ltd", "co", "corp",
}
_BOUNDARY = re.compile(r"[.!?]+[\"”’')\]]*(?=\s+)")
_LINE_END = re.compile(r"[.!?][\"”’')\]]*\s*$")
_NEXT_STARTS_SENTENCE = re.compile(r"\s+[\"“‘'(\[]?[A-Z0-9À-Ý]")
# A line that starts like this continues the sentence of the line before it.
_CONTINUATION = re.compile(r"^[,;:)\]]|^[a-z]")
# A quotation shorter than this stays one sentence ("Don't work on LLMs. LLMs are a dead end.").
_SHORT_QUOTE = 120
QUESTION_PREFIX = re.compile(r"^(?:Q|Question)\s*[:.)-]\s*", re.IGNORECASE)
# "A: Yes, ..." in a FAQ entry: the marker is the page's layout, not part of the answer a reader is quoted.
ANSWER_PREFIX = re.compile(r"(?:A|Answer)\s*[:.]\s+", re.IGNORECASE)
# A question's or an answer's mark alone on its line ("Q:", "A.", "Question 3:").
_MARK_ONLY = re.compile(r"(?:Q|A|Question|Answer)\s*\d*\s*[:.)-]?", re.IGNORECASE)
# A line that starts a block of its own: a list item, a quotation, a table row, a heading.
_STARTS_BLOCK = re.compile(r"\s*(?:[-*•>|#]|\d+[.)]\s)")
# A fenced code block (stored text of HTML and Markdown articles): one unit, never split, never quoted.
FENCE = "```"
_ITEM_MARKER = re.compile(r"\s*(?:[-*•]|>)\s+")
# "HISTFILE: The file to save ...": a term (one word, or a few capitalised ones) and its definition (a
# `<dt>` and its `<dd>`, or a labelled line); a definition this short is one unit, since its later
# sentences mean nothing without the term.
_LABEL = re.compile(r"\s*(?!(?:Q|A|Question|Answer)\s*:)(?:[^\s:]{1,40}|[^\s:a-z][^\s:]*(?: [^\s:a-z][^\s:]*){1,2}):\s")
_SHORT_DEFINITION = 400
# Initials ("P.W.", "J. R. R."): a full stop after one letter ends no sentence.
_INITIALS = re.compile(r"(?:[a-z]\.)*[a-z]")


@dataclass(frozen=True)
class Line:
    start: int
    end: int
    text: str

    @property
    def stripped(self) -> str:
        return self.text.strip()


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans in `text[start:end]`, trimmed of surrounding whitespace; lines never join."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for line in joined_lines(text, start, end):
        spans.extend(line_sentences(text, line.start, line.end))
    return spans


def line_sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    if text.startswith(FENCE, start):
        yield from _bounded(text, start, end)  # a code block is one unit (unless it is over LONGEST_SENTENCE)
        return
    if marker := _ITEM_MARKER.match(text, start, end):
        start = marker.end()  # a list item's "- " or a quotation's "> " is not part of its sentence
    if _LABEL.match(text, start, end) and end - start <= _SHORT_DEFINITION:
        yield from _trimmed(text, start, end)  # "HISTFILE: ... If unset, ...": each sentence needs its term
        return
    piece_start = start
    for match in _BOUNDARY.finditer(text, start, end):
        stop = match.end()
        if (not _NEXT_STARTS_SENTENCE.match(text, stop, end) or _is_abbreviation(text, piece_start, match.start())
                or _inside_short_quote(text, piece_start, stop, end)):
            continue
        yield from _trimmed(text, piece_start, stop)
        piece_start = stop
    yield from _trimmed(text, piece_start, end)


def _inside_short_quote(text: str, start: int, stop: int, end: int) -> bool:
    """A short quotation left open at `stop` stays with the sentence that introduces it; the
    sentences of a long one are quotable one by one (the answer to a question may be any of them)."""
    piece = text[start:stop]
    if piece.count("“") > piece.count("”"):
        opened, closer = start + piece.rindex("“"), "”"
    elif piece.count('"') % 2 == 1:
        opened, closer = start + piece.rindex('"'), '"'
    else:
        return False
    closed = text.find(closer, stop, end)
    return (closed if closed != -1 else end) - opened < _SHORT_QUOTE


def _is_abbreviation(text: str, start: int, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word = re.search(r"([\w.]+)$", text[start:dot])
    if not word:
        return False
    token = word.group(1).lower()
    list_marker = token.isdigit() and len(token) <= 2 and not text[start:dot].strip()[:-len(token)].strip()
    return token in _ABBREVIATIONS or bool(_INITIALS.fullmatch(token)) or list_marker


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield from _bounded(text, start, end)


def _bounded(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The span, cut into pieces of at most LONGEST_SENTENCE characters (at a space where there is
    one): a page with a megabyte on one line must not make a megabyte chunk, citation or quote."""
    while end - start > LONGEST_SENTENCE:
        cut = start + LONGEST_SENTENCE
        space = text.rfind(" ", start + LONGEST_SENTENCE // 2, cut)
        cut = space if space != -1 else cut
        yield (start, cut)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        yield (start, end)


def joined_lines(text: str, start: int, end: int) -> Iterator[Line]:
    """The non-blank lines of `text[start:end]`, a continuation line joined to the one before it."""
    previous: Line | None = None
    pos = start
    while pos < end:
        newline = text.find("\n", pos, end)
        stop = end if newline == -1 else newline
        line = text[pos:stop]
        if line.strip() == FENCE:
            closing = text.find(f"\n{FENCE}", stop, end)
            stop = end if closing == -1 else min(end, closing + 1 + len(FENCE))
            if previous is not None:
                yield previous
            previous = None
            yield Line(pos, stop, text[pos:stop])
        elif line.strip():
            if previous is not None and previous.end == pos - 1 and _continues(previous.text, line):
                previous = Line(previous.start, stop, text[previous.start:stop])
            else:
                if previous is not None:
                    yield previous
                previous = Line(pos, stop, line)
        pos = stop + 1
    if previous is not None:
        yield previous


def _ended(line: str) -> bool:
    """Does the line end a sentence (a full stop that is no abbreviation's, "!", "?")?"""
    end = _LINE_END.search(line)
    return end is not None and not _is_abbreviation(line, 0, end.start())


def _continues(previous: str, line: str) -> bool:
    """`line` goes on with the line right above it: it starts with a comma, or with a lowercase word
    after a line whose last sentence is unfinished (not a question, whose answer it is; a paragraph
    may start with a lowercase name: "importlib.metadata entry points now ..."), or it is indented,
    and the indented line above is as deep or is a question still unfinished ("Q:  Why is it named
    X if its format is Y?" wrapped in a plain-text FAQ). A list item, a quotation, a table row, a
    heading or an answer's "A:" starts a line of its own."""
    if _MARK_ONLY.fullmatch(previous.strip()):
        return True  # "Q:" or "A:" on a line of its own marks the line after it
    asking = bool(QUESTION_PREFIX.match(previous.lstrip()))
    if _CONTINUATION.match(line.lstrip()) and not (line.lstrip()[0].isalpha() and _ended(previous)) \
            and not (asking and previous.rstrip().endswith("?")):
        return True  # ("Q: I have 10 users, but it loaded 15 hashes. What's" / "going on?")
    depth = len(line) - len(line.lstrip())
    if not depth or _STARTS_BLOCK.match(line) or ANSWER_PREFIX.match(line.lstrip()):
        return False
    if asking:
        return not previous.rstrip().endswith("?")
    return depth == len(previous) - len(previous.lstrip())
