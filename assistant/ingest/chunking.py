"""Cutting an article into retrievable units with exact offsets.

An article is read line by line: headings name sections; a FAQ question (a `Q:` line, which is
how extraction marks a question-and-answer unit it found by structure; a question heading; in a
FAQ, a short line that asks, or in plain text a numbered problem statement with its answer indented
below) with the answer after it becomes one `faq` chunk, whose question line is never quoted.
Other text is split into sentences and packed into `text` chunks of about `chunk_chars` that never
cross a section. A line that starts with a comma or a lowercase word continues the line before it
(a sentence the source broke across lines), as does an indented line under one as deep (a wrapped
plain-text paragraph); the lines under a "References" heading are content, one quotable item each;
each sentence of a long quotation is quotable on its own.
Every chunk and sentence satisfies `article.text[start:end] == text`.
This module knows nothing of embeddings or storage.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from ..config import Settings
from ..types import Article, Chunk
from .entries import (
    ENTRY_NUMBER,
    FAQ_HEADING,
    MAIL_HEADER,
    MD_HEADING,
    asks_in_text,
    entry_levels,
    entry_marks,
    entry_shapes,
    heading_level,
    heading_mark,
    heading_text,
    is_heading,
    numbered_entry,
    numbers_entries,
    question_text,
    shaped_entry,
)
from .sentences import ANSWER_PREFIX, FENCE, QUESTION_PREFIX, Line, joined_lines, line_sentences, split_sentences

# Bump when a change here would cut the same file differently: indexes built before are rebuilt.
# 25: a section whose id is a heading's slug naming a menu or a share ("how-to-hide-the-menu-bar") is text,
# not furniture; a list item's bare question before its answer, a FAQ's numbered term, are entries;
# 24: a deeper heading numbered like the entries ("(FAQ 1a)" under "(FAQ 1)") is an entry;
# 23: a page (Read the Docs) whose furniture-named wrapper holds its main part keeps its text; on a page
# of questions, one with its answer indented below it is an entry; "Q: ...? A: ..." in one paragraph is
# two lines; a "Q:" line wrapped mid-sentence goes on on the next line;
# 22: two or three questions in a row that ask share the answer after them;
# 21: a FAQ page (by its title) counts units a third of which ask, and problems stated as sentences
# where most units ask; a numbered cell marks its question (DocBook); a note's title is no heading;
# a list item's bold title and question are one question; a chapter of numbered titles has no entries;
# 20: a page that does not call itself a FAQ needs most of a heading level or text layout asking before
# its lines are entries, a FAQ page a third; a list item's question is an entry only in a list of questions;
# 19: a chapter's own number ("01.00 ...") opens a section, not an entry (entries.py);
# 18: in plain text a question's next line answers it (never a heading), a heading underlined is one line;
# 17: a question heading is an entry only on a FAQ page, in a FAQ section or where most headings ask;
# 16: a block that opens with its bold question is an entry, a contents line (all links) answers nothing (extract.py);
# 15: a terminal's overstrike ("X\bX") read as the letter (articles.py);
# 14: a plain-text FAQ's entries by their own layout (indent and number pattern), no other line there;
# 13: HTML read by lxml and our own main-content reader (no trafilatura), definitions with their term,
# FAQ entries at their page's entry level, bare terms and synopses not quotable;
# 12: a lowercase line after a finished sentence starts a sentence of its own (sentences.py);
# 11: FAQ units by structure in HTML, Markdown and plain text (extract.py too), a FAQ question's own line
# never quoted, a question with no answer after it is text; 10: a headline that states a fact is quotable,
# irregular past forms fold to their verb (text/terms.py)
CHUNKER_VERSION = 25

# Link lists to other pages, not part of the article: never retrieved, never quoted.
_NAVIGATION_HEADING = re.compile(
    r"^(related|recommended|more|further|also)\b.*\b(reading|articles?|stories|posts|news)$"
    r"|^(read more|see also|you may also like)$",
    re.IGNORECASE,
)
# Under these headings each line is an item (a dated source answers "when"), never a heading.
_REFERENCES_HEADING = re.compile(r"^(references|sources|citations|notes|bibliography|further reading)$", re.IGNORECASE)
# What an article cites, disclaims or credits, not what it says: retrieved, never quoted as an answer.
_APART_HEADING = re.compile(r"^(?:references|sources|citations|bibliography|further reading|disclaimer|copyright)\b",
                            re.IGNORECASE)
# A byline sits in an article's first characters; a date names its month, or is written 2026-11-02.
_HEAD = 400
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATE = re.compile(rf"\b{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}\b|\b\d{{1,2}}\s+{_MONTH}\s+\d{{4}}\b"
                   r"|\b\d{4}-\d{2}-\d{2}\b")
# "← BACK TO HOME PAGE": links back to the site, not part of the article.
_NAVIGATION_LINE = re.compile(r"^[←→«»↑⬅➜]")
_RULE = re.compile(r"^\s*([-*_=])\1{2,}\s*$")
# "### How do I ...?": a question heading starts a FAQ entry on a FAQ page or section, or among
# headings most of which ask (`entry_levels`).
_QUESTION_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+.+\?\s*$")
# A verb that makes a headline a statement: a common finite verb, or a past tense ("Quit", "Called", "Fined").
_HEADLINE_VERB = re.compile(
    r"\b(?:is|are|was|were|has|have|had|will|would|can|could|says|said|quits?|left|leaves|calls|makes|made|gets|got|"
    r"wins|won|beats|takes|took|puts|goes|went|becomes|became|shows|reveals|warns|wants|[a-z]{3,}ed)\b",
    re.IGNORECASE)


# At most this many questions in a row share the answer after them (more are a list of contents).
_SHARED_ANSWER_AT_MOST = 3


def content_id(doc_id: str, start: int, end: int, *texts: str) -> str:
    """Content-hash id of a chunk or sentence: the same text at the same place (in an article of
    the same title, under the same section) always gets the same id, and so its stored vector."""
    return hashlib.sha256("\0".join([doc_id, str(start), str(end), *texts]).encode()).hexdigest()[:32]


def _is_list(lines: list[Line]) -> bool:
    return all(line.stripped.startswith(("-", "*", "•")) for line in lines)


def chunk_article(article: Article, settings: Settings) -> list[Chunk]:
    """All chunks of an article in reading order: `text` chunks and one `faq` chunk per entry."""
    builder = _ChunkBuilder(article, settings)
    for line, role in line_roles(article):
        builder.feed(line, role)
    builder.flush()
    return builder.chunks


def line_roles(article: Article) -> Iterator[tuple[Line, str]]:
    """The article's lines, each with what it is to a reader: "code" (a fenced block), "navigation"
    (a link back to the site), "rule", "underline" (the `===` under a plain-text heading), "item"
    (a line under a references heading), "question" (a FAQ entry's), "title" (a repeat of the
    title), "heading", or "text". Chunking and the article page both read an article this way.

    A plain-text page whose questions share a layout (an indent and a number pattern, see
    `entry_shapes`) has its entries there and nowhere else. Otherwise, in a plain-text FAQ (its
    title or file name says so, or under a FAQ heading) a question is a short line that asks ("Why
    does ps complain?"), or a numbered one that states a problem ("4. compress() returns
    Z_BUF_ERROR.") with its answer indented below it."""
    # HTML and Markdown articles mark their headings: no other line is one.
    marked = not article.path.lower().endswith(".txt")
    faq_page = bool(FAQ_HEADING.search(article.title) or "faq" in article.doc_id.lower())
    whole_faq = not marked and faq_page
    in_faq, in_references = whole_faq, False
    faq_level = 0  # the level of the heading that opened a FAQ section (in plain text, any heading ends it)
    lines = list(joined_lines(article.text, 0, len(article.text)))
    entries, asking_levels = entry_levels(lines, faq_page) if marked else (0, set())
    shapes = set() if marked else entry_shapes(lines, faq_page)
    numbered = numbers_entries(lines)
    marks = entry_marks(lines, entries)
    in_entry, asked = False, -1  # asked: the last question's line (or its underline): its answer comes next
    for i, line in enumerate(lines):
        text = line.stripped
        following = lines[i + 1] if i + 1 < len(lines) else None
        if text.startswith(FENCE):
            yield line, "code"
            continue
        if _NAVIGATION_LINE.match(text):
            yield line, "navigation"
            continue
        if _RULE.match(text) and not marked and i and lines[i - 1].end == line.start - 1 \
                and not _RULE.match(lines[i - 1].stripped):
            asked = i if asked == i - 1 else asked
            yield line, "underline"
            continue
        if _RULE.match(text):
            in_faq, in_references = whole_faq, False
            yield line, "rule"
            continue
        if in_references and not MD_HEADING.match(text):
            yield line, "item"
            continue
        if in_entry and heading_level(text) > entries > 0 and not _QUESTION_HEADING.match(text) \
                and heading_mark(text) not in marks:
            yield line, "text"  # a heading inside an entry ("3.14.1 Using the concat demuxer") is its answer's
            continue
        if in_faq and not whole_faq and 0 < heading_level(text) <= faq_level:
            in_faq = False  # a FAQ section ends at a heading as high as its own
        underlined = not marked and following is not None and following.start == line.end + 1 \
            and bool(_RULE.match(following.stripped)) and "\n" not in text  # a heading is one line
        if QUESTION_PREFIX.match(text) \
                or (faq_page or in_faq or heading_level(text) in asking_levels) and _QUESTION_HEADING.match(text) \
                or (entries and heading_level(text) == entries) \
                or in_entry and heading_level(text) > entries > 0 and heading_mark(text) in marks \
                or underlined and text.endswith("?") \
                or (shaped_entry(line, following, shapes) if shapes else
                    (faq_page or in_faq) and numbered and numbered_entry(text, following)
                    or in_faq and not marked and asks_in_text(line, following)):
            yield line, "question"
            in_entry, asked = True, i
            continue
        # The first line is kept as text (it helps retrieval, though never quoted); its repeats are not.
        if line.start > 0 and heading_text(line.text) == article.title:
            yield line, "title"
            continue
        heading = MD_HEADING.match(text) if marked else (is_heading(text) or underlined) \
            and not MAIL_HEADER.match(text) and asked != i - 1  # in plain text, a question's next line answers it
        if heading and (line.start > 0 or MD_HEADING.match(text)):
            section = heading_text(text)
            if FAQ_HEADING.search(section):
                in_faq, faq_level = True, heading_level(text)
            elif not marked:
                in_faq = whole_faq
            in_entry = False
            in_references = bool(_REFERENCES_HEADING.match(section))
            yield line, "heading"
            continue
        yield line, "text"


class _ChunkBuilder:
    """Gathers the lines of each section (or FAQ answer) and cuts them into chunks."""

    def __init__(self, article: Article, settings: Settings):
        self.article = article
        self.settings = settings
        self.chunks: list[Chunk] = []
        self.section = ""
        self.body: list[Line] = []  # lines of the current section's text (or FAQ answer)
        self.questions: list[Line] = []  # the questions the coming answer answers
        self.marked = not article.path.lower().endswith(".txt")

    def feed(self, line: Line, role: str) -> None:
        if role in ("navigation", "title", "underline"):
            return
        if role == "rule":
            self.flush()
            self.section = ""
        elif role == "question":
            if self.body:
                self.flush()
            self.questions.append(line)
        elif role == "heading":
            self.flush()
            self.section = heading_text(line.stripped)
        else:
            if role == "text" and not self.marked and self.body and _is_list(self.body) and not _is_list([line]):
                # A list under its own heading ("Related Reading") ends where prose resumes.
                self.flush()
                self.section = ""
            self.body.append(line)

    def flush(self) -> None:
        """Emit the section or entry gathered so far. Two or three questions in a row that ask share
        the answer after them ("I set X, but ...? / I set X to 1, but ...?"); in a longer run (a list
        of contents) or after a group's title only the last is answered, and a question with no
        answer after it is text."""
        if self.questions and self.body:
            asking = all(question_text(q.text).endswith("?") for q in self.questions[:-1])
            shared = self.questions if asking and len(self.questions) <= _SHARED_ANSWER_AT_MOST \
                else self.questions[-1:]
            if len(shared) < len(self.questions):
                self._emit_text(self.questions[:-1])
            for question in shared:
                self._emit_faq(question, self.body)
        elif self.questions:
            self._emit_text(self.questions)
        elif self.body and not _NAVIGATION_HEADING.match(self.section):
            self._emit_text(self.body)
        self.questions, self.body = [], []

    def _emit_faq(self, question: Line, answer: list[Line]) -> None:
        start = question.start + (len(question.text) - len(question.text.lstrip()))
        end = answer[-1].end if answer else question.end
        self._add("faq", question_text(question.text), start, end)

    def _emit_text(self, lines: list[Line]) -> None:
        text = self.article.text
        sentences = [span for line in lines for span in line_sentences(text, line.start, line.end)]
        target, overlap = self.settings.chunk_chars, self.settings.chunk_overlap_sentences
        first = 0
        while first < len(sentences):
            last = first
            while last + 1 < len(sentences) and sentences[last + 1][1] - sentences[first][0] <= target:
                last += 1
            self._add("text", self.section, sentences[first][0], sentences[last][1])
            if last + 1 >= len(sentences):
                break
            first = max(last + 1 - overlap, first + 1)

    def _add(self, kind: str, section: str, start: int, end: int) -> None:
        text = self.article.text[start:end]
        self.chunks.append(Chunk(
            id=content_id(self.article.doc_id, start, end, self.article.title, section, text),
            doc_id=self.article.doc_id,
            title=self.article.title,
            section=section,
            kind=kind,
            start=start,
            end=end,
            text=text,
        ))


def embedding_text(chunk: Chunk) -> str:
    """What gets embedded: the passage with its article title and section as context."""
    context = chunk.title if chunk.kind == "faq" else f"{chunk.title}. {chunk.section}".strip(". ")
    return f"{context}\n{chunk.text}" if context else chunk.text


def chunk_sentences(chunk: Chunk, text: str) -> list[tuple[int, int, bool]]:
    """Sentences of a chunk as (start, end, quotable). Questions (a FAQ entry's own question among
    them) help retrieval find the passage but are never quoted as an answer, nor is the rest of a
    sentence that a code block interrupted, nor a line of a references list or a disclaimer."""
    spans = split_sentences(text, chunk.start, chunk.end)
    asked = chunk.start  # the end of a FAQ entry's question line: what it asks is never its answer
    if chunk.kind == "faq":
        spans = [(m.end() if (m := ANSWER_PREFIX.match(text, start, end)) else start, end) for start, end in spans]
        newline = text.find("\n", chunk.start, chunk.end)
        asked = chunk.end if newline < 0 else newline
    apart = bool(_APART_HEADING.match(chunk.section))
    return [(start, end, start >= asked and not apart and _quotable(text[start:end], chunk.title)
             and not (text[start].islower() and text[max(0, start - 8):start].rstrip().endswith(FENCE))
             and not _listing(text, start) and not _byline(text, start, end))
            for start, end in spans]


def _listing(text: str, start: int) -> bool:
    """A line of a table of contents: numbered as an entry ("2.1 Differences from sh"), and so is
    the line after it."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    if line_end < 0 or not ENTRY_NUMBER.match(text[line_start:line_end].strip()):
        return False
    next_end = text.find("\n", line_end + 1)
    return bool(ENTRY_NUMBER.match(text[line_end + 1:next_end if next_end >= 0 else len(text)].strip()))


def _byline(text: str, start: int, end: int) -> bool:
    """Who wrote the article and when, at its head: a short line there that opens with "By" or
    holds a date ("Posted on November 2, 2026 by admin")."""
    sentence = text[start:end]
    return start < _HEAD and len(sentence.split()) <= 12 and (
        sentence.startswith(("By ", "by ")) or bool(_DATE.search(sentence)))


def _quotable(sentence: str, title: str) -> bool:
    """A question asks rather than states, a lead-in ("..., as follows:") points at what follows, a
    headline that names a story ("Internal Contradictions at Meta") rather than tells it ("Yann LeCun
    Just Quit Meta and Called LLMs a 'Dead End'") is not an answer, a lede cut short in the title
    repeats the sentence after it, and code is shown, never quoted as prose."""
    headline = sentence.strip() == title and not _states(title) \
        or title.endswith("…") and sentence.startswith(title[:-1])
    return not sentence.rstrip("\"”’')").endswith(("?", ":")) and not headline \
        and not sentence.startswith((FENCE, "|")) and not MD_HEADING.match(sentence) and is_prose(sentence)


# Words of two letters or more, and the small words that English prose cannot do without.
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]+")
_FUNCTION_WORDS = frozenset(
    "a an the is are was were be been it its this that these those to of in on at by for from with as and or "
    "not no if then than can cannot will would should may must do does did has have had you your we they "
    "he she there which who what when how".split())


def is_prose(sentence: str) -> bool:
    """A sentence a reader can be quoted, not a bare term ("HISTFILE"), a synopsis ("ls [ arg ... ]")
    or a label: a full stop after a word or more, else four words with the small words of prose, or
    six."""
    words = _WORD.findall(sentence)
    if sentence.rstrip("\"”’')]").endswith((".", "!")):
        return len(words) >= 1  # "Unlikely." answers; a bare term or a synopsis ends with no full stop
    small = any(word.lower() in _FUNCTION_WORDS for word in words)
    return len(words) >= 6 or len(words) >= 4 and small


def _states(headline: str) -> bool:
    """A headline of at least five words with a verb in it tells its story as a sentence."""
    return len(headline.split()) >= 5 and bool(_HEADLINE_VERB.search(headline))
