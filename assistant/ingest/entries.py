"""Where a page's FAQ entries are: the heading level its questions share (HTML, Markdown), or the
layout (indent and number pattern) of a plain-text FAQ's questions; a FAQ's numbered lines; a
question's text as readers ask it. `chunking.line_roles` decides each line's role with these.
This module knows nothing of chunks, embeddings or storage.
"""

from __future__ import annotations

import re
from itertools import pairwise

from .sentences import ANSWER_PREFIX, QUESTION_PREFIX, Line

# A Markdown heading's marks ("## "): how extraction writes every HTML and Markdown heading.
MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
# A heading that asks: a question mark in it, or a question's first word after its number.
_ASKING = re.compile(
    r"\?|^(?:how|what|why|when|where|which|who|whom|whose|can|could|does|do|did|is|are|was|were|will|would|"
    r"should|shall|may|might|must|has|have|am)\b", re.IGNORECASE)
# "1.2 What is this?", "- 3.1: Where to get it", "## Q2.4) ...", "Subject: 01.02 ..." (a Usenet
# digest), "#2. ...": an entry's number in a FAQ, two or three levels deep (a chapter's own "1. General"
# is one level) or marked with "#".
ENTRY_NUMBER = re.compile(
    r"^(?:[-*•]\s+|#{1,6}\s+|Subject:\s+)?(?:Q\s*)?\d+\.\d+(?:\.\d+)?[.:)]?\s+\S|^#\d+[.:)]\s+\S")
# A heading or title that names a FAQ: "FAQ", "Frequently asked questions", "Questions", "Q&A".
FAQ_HEADING = re.compile(r"\b(faqs?|(?:frequently asked |common )?questions(?: and answers)?|q\s?&\s?a)\b",
                         re.IGNORECASE)
# Where a page's entries are (a heading level, a plain-text layout, a list or table of units): enough
# of its lines there ask, and MOSTLY of them do. A page that calls itself a FAQ states many of its
# problems instead of asking them ("On the cray, the CR/LF mapping gets screwed up.", "“make install”
# fails"): AMONG_FAQ asking is enough there.
MOSTLY, AMONG_FAQ = 0.5, 1 / 3
_ENTRIES_AT_LEAST = 3
_ITEM = re.compile(r"^\s*[-*•]\s+")
# A question's own number: "(3) ", "1.4\t", "2. ", "3.1: ", "Q3. ", "G1. ", "B.1.1 " (not "3 ways to ...").
_QUESTION_NUMBER = re.compile(
    r"^\s*(?:Subject:\s+|Question\s+)?(?:\(\d+\)|\d+(?:\.\d+)+[.:]?|\d+[.):]|#\d+[.:)]?|Q\d+[.:)]?|[A-Z]\d+(?:\.\d+)*[.:)]|[A-Z](?:\.\d+)+[.:)]?)\s+")
# A mail's header line (a Usenet digest's entries keep theirs): never a heading.
MAIL_HEADER = re.compile(r"^(?:From|To|Cc|Date|Subject|Reply-To|Message-ID|Newsgroups|Organization|Sender|"
                         r"X-[\w-]+):\s", re.IGNORECASE)
# "01.00 ", "3.0: ": the number a chapter gives itself in a FAQ numbered "chapter.entry".
_SECTION_NUMBER = re.compile(r"^(?:Subject:\s+)?\d+\.0+[.:)]?\s")
# "4. ", "1.4\t", "(3) ", "Q2. ": how a plain-text FAQ numbers its questions.
_NUMBERED_LINE = re.compile(r"^(?:\(\d+\)|\d+(?:\.\d+)*[.)]?|Q\d*[.:)])\s+\S")


def is_heading(line: str) -> bool:
    """A short title-like line: Markdown `#`, or a few words with no closing punctuation."""
    line = line.strip()
    if MD_HEADING.match(line):
        return True
    if QUESTION_PREFIX.match(line) or ANSWER_PREFIX.match(line) or line.startswith(("-", "*", "•", ",")):
        return False
    if not line[0].isupper() and not line[0].isdigit() and line[0] not in "←#":
        return False
    words = line.split()
    return len(line) <= 100 and len(words) <= 14 and line.rstrip("\"”’')]")[-1:] not in ".!,;?"


def heading_text(line: str) -> str:
    return MD_HEADING.sub("", line.strip()).strip().rstrip(":")


def question_text(line: str) -> str:
    """A FAQ question as readers ask it: without "Q:", its number ("1.4", "(3)", "2.") or line breaks."""
    text = _ITEM.sub("", heading_text(line))
    return " ".join(_QUESTION_NUMBER.sub("", QUESTION_PREFIX.sub("", text)).split())


def numbered_entry(text: str, following: Line | None) -> bool:
    """A FAQ's numbered entry ("1.2 What is this?", "3.1: Where to get it"), short, with an answer
    after it: the next line is no numbered entry too, as in a table of contents."""
    return len(text) <= 200 and bool(ENTRY_NUMBER.match(text)) and following is not None \
        and not ENTRY_NUMBER.match(following.stripped) and not _opens_a_section(text)


def numbers_entries(lines: list[Line]) -> bool:
    """Whether a FAQ page's numbered lines are its entries: at least a third of them, and of its
    "Q:" lines, ask or state a problem as a sentence ("1.2 What is this?", "2.1. The sar command
    complains with this message:"). A chapter numbered like the FAQ around it, all titles ("6.1.
    Reporting Bugs", "6.2. Mailing Lists"), has sections, not entries."""
    numbered = [question_text(line.stripped) for line, following in pairwise(lines)
                if numbered_entry(line.stripped, following)]
    asked = sum(bool(QUESTION_PREFIX.match(line.stripped)) for line in lines)
    entries = sum(bool(_ASKING.search(text)) or text.rstrip("\"”’')]").endswith((".", ":", "!")) for text in numbered)
    return entries + asked >= AMONG_FAQ * (len(numbered) + asked)


def asks_in_text(line: Line, following: Line | None) -> bool:
    """In a plain-text FAQ: a short line that asks, or a numbered problem statement with its answer
    indented below."""
    text = line.stripped
    if text.startswith(">") or MAIL_HEADER.match(text):
        return False  # a quoted mail's line, or a mail's header, in an answer
    return text.endswith("?") and (is_heading(text[:-1] + "x") or len(text) <= 200) \
        or _states_a_problem(line, following)


def heading_level(text: str) -> int:
    """A Markdown heading's level (`###` is 3); 0 for a line that is no heading."""
    return len(text) - len(text.lstrip("#")) if MD_HEADING.match(text) else 0


def entry_levels(lines: list[Line], faq_page: bool) -> tuple[int, set[int]]:
    """Where a page's FAQ entries are among its headings. First, the level at which it lists them,
    whatever its generator numbers or words them ("### 1.3 I cannot read this file.", "## 3.1: Where
    to get it"): the level with the most headings that ask, when at least three do and they are most
    of that level's headings (a third, on a page that calls itself a FAQ); every heading there is an
    entry (0: no such level). Second, the levels
    where most headings ask, however few: a question heading there is an entry (a page of one
    question and its answer), while a manual's "What can be cached?" among its statements is not."""
    asking: dict[int, int] = {}
    total: dict[int, int] = {}
    for line in lines:
        if level := heading_level(line.stripped):
            total[level] = total.get(level, 0) + 1
            asking[level] = asking.get(level, 0) + bool(_ASKING.search(question_text(line.stripped)))
    mostly = {level for level, count in asking.items() if count >= MOSTLY * total[level]}
    best = max(asking, key=lambda level: asking[level], default=0)
    share = AMONG_FAQ if faq_page else MOSTLY
    if asking.get(best, 0) >= _ENTRIES_AT_LEAST and asking[best] >= share * total[best]:
        return best, mostly
    return 0, mostly


# "(FAQ 1b) ", "3.14.1 ", "Q12: ": the number a heading gives itself, before its words.
_HEADING_NUMBER = re.compile(r"^\(?(?:[A-Za-z]{1,4}\s*)?\d+[a-z]?(?:\.\d+[a-z]?)*[.:)]?(?=\s)")


def heading_mark(text: str) -> str:
    """How a heading numbers itself, numbers as "N" ("(FAQ N)", "N.N.N"); "" when it has no number."""
    number = _HEADING_NUMBER.match(heading_text(text))
    return re.sub(r"\d+[a-z]?", "N", number.group(0)) if number else ""


def entry_marks(lines: list[Line], level: int) -> set[str]:
    """How the headings at a page's entry level number themselves: a deeper heading numbered the
    same way ("(FAQ 1b)" under "(FAQ 1)") is an entry too, while "3.14.1" under "3.14" is part of
    its answer."""
    return {mark for line in lines if level and heading_level(line.stripped) == level
            and (mark := heading_mark(line.stripped))}


def _shape(line: Line, following: Line | None) -> tuple[int, str] | None:
    """How a plain-text line that may head an entry is laid out: its indent and its number's pattern
    ("Question N.N.", "N)", "" for none). None for a line that cannot: long, quoted, a mail header,
    the last, or unnumbered with nothing indented deeper below it."""
    text = line.stripped
    if following is None or len(text) > 200 or text.startswith(">") \
            or MAIL_HEADER.match(text) and not text.startswith("Subject:"):
        return None
    layout = _layout(line)
    if not layout[1] and _indent(following.text) <= layout[0]:
        return None
    return layout


def _layout(line: Line) -> tuple[int, str]:
    number = _QUESTION_NUMBER.match(line.text)
    return _indent(line.text), re.sub(r"\d+", "N", number.group(0).strip()) if number else ""


def entry_shapes(lines: list[Line], faq_page: bool) -> set[tuple[int, str]]:
    """The layouts a plain-text page gives its FAQ questions, whatever they are ("    3. Why ...?",
    "Question 2.1.  Title", "  How do I ...?" above an answer indented deeper; "4.11" and "4.11.1"
    are two): each layout of which at least three lines end with a question mark, and most of its
    lines do (a third, on a page that calls itself a FAQ: a README's "Upgrading?" among its "NAME"
    and "OVERVIEW" makes no layout of entries)."""
    asking: dict[tuple[int, str], int] = {}
    total: dict[tuple[int, str], int] = {}
    for line, following in pairwise(lines):
        if (shape := _shape(line, following)) is not None:
            total[shape] = total.get(shape, 0) + 1
            asking[shape] = asking.get(shape, 0) + question_text(line.stripped).rstrip("\"”’')]").endswith("?")
    share = AMONG_FAQ if faq_page else MOSTLY
    return {shape for shape, count in asking.items() if count >= _ENTRIES_AT_LEAST and count >= share * total[shape]}


def shaped_entry(line: Line, following: Line | None, shapes: set[tuple[int, str]]) -> bool:
    """A line laid out as the page's questions are, with its answer after it (not the next line laid
    out the same, as in a table of contents)."""
    if following is None or (shape := _shape(line, following)) not in shapes or _opens_a_section(line.stripped):
        return False
    return _layout(following) != shape


def _opens_a_section(text: str) -> bool:
    """"01.00 ***** Introduction *****", "3.0 Building": a chapter's own number, not an entry's
    (unless it asks)."""
    return bool(_SECTION_NUMBER.match(text)) and not _ASKING.search(question_text(text))


def _states_a_problem(line: Line, following: Line | None) -> bool:
    """A numbered line of a plain-text FAQ that is a sentence, not a heading, with its answer
    indented deeper below it: "4. compress() returns Z_BUF_ERROR."."""
    text = line.stripped
    if following is None or len(text) > 200 or not _NUMBERED_LINE.match(text) or is_heading(text):
        return False
    return _indent(following.text) > _indent(line.text)


def _indent(text: str) -> int:
    return len(text.expandtabs(8)) - len(text.expandtabs(8).lstrip())
