"""Question-and-answer units an HTML page sets apart by its structure, whatever its markup (see
`mark_questions`): each becomes a "Q: " line the chunker reads as a FAQ question. `extract` calls
it on every HTML page and rendered Markdown file before reading its text.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable

from bs4 import BeautifulSoup, PageElement, Tag

from .blocks import BLOCK, HEADINGS, inline, is_block
from .entries import AMONG_FAQ, ENTRY_NUMBER, MOSTLY


def mark_questions(soup: BeautifulSoup, faq_page: bool) -> None:
    """Question-and-answer units recognised by their structure, whatever the markup: a `<dt>` and
    its `<dd>`, a `<summary>` and its `<details>`, a two-column row whose first cell asks, or a block
    set apart (all bold or emphasised, numbered "(3)" or "1.2.", or "Q."; or, on a page of questions,
    a paragraph that asks, with its answer indented below it in a quotation), short, and followed by a
    block that answers it (not one that is all links, as a table of contents' next line is): a
    paragraph, a quotation, a list, a table row of its own, the rest of its list item or block, or
    the second cell of its row. Its text becomes a "Q: " line, which the chunker reads
    as a FAQ question whether it asks ("How do I ...?") or states a problem ("The file did not get
    smaller."). A statement counts only among units most of which ask (a third, on a page whose title
    names a FAQ) in the same list, table or parent block, or, stated as a sentence, on a page most of
    whose units ask, or, on a FAQ page, a term numbered as its entries are ("1.2. ..."); so a bold
    paragraph in a story, or a sidebar's bold title, stays what it is."""
    units: list[tuple[Tag | None, str, Callable[[], None]]] = []  # (container, question, marking)
    questions_page = faq_page or _asking_share(soup.find_all(["li", "dt"]), AMONG_FAQ)
    numbered: set[str] = set()  # terms numbered as a FAQ numbers its entries ("1.2. Untrusted path")
    for block in soup.find_all(["p", "div"]):
        asked = _asks(block) if not block.find(BLOCK) else ""
        answer = _next_block(block)
        if questions_page and not asked and block.name == "p" and answer is not None \
                and answer.name == "blockquote" and _is_question(inline(block)) \
                and len(inline(block)) <= _LONGEST_QUESTION:
            asked = inline(block)  # on a page of questions, one with its answer indented below it (Sphinx)
        if asked and answer is not None and inline(answer) and not _asks(answer) and not _linked(answer):
            units.append((block.parent, asked, functools.partial(_as_question, block, asked)))
    for item in soup.find_all(["li", "div"]):
        opener = next((c for c in item.children if isinstance(c, Tag) or str(c).strip()), None)
        if item.name == "li" and _is_question(_lead_text(item)):
            # "Why is it in C?<p>...", "<b>Win32 Pathnames</b> Why don't backslashes work?<p>...": the question
            lead, asked = _item_lead(item), _lead_text(item)
        elif not isinstance(opener, Tag) or opener.name not in _EMPHASIS | {"p"} \
                or item.name == "div" and (opener.name == "p" or _next_block(opener) is None):
            continue
        else:
            lead = [opener]
            asked = _asks(opener) or (inline(opener) if opener.name == "p" and _is_question(inline(opener)) else "")
        if asked and inline(item) != asked and _among_questions(item, questions_page):
            units.append((item.parent, asked, functools.partial(_item_as_unit, item, lead, asked)))
    for term in soup.find_all("dt"):
        answer = term.find_next_sibling("dd")
        asked = _NUMBERED.sub("", inline(term) + " ").strip()
        if answer is not None and asked and len(asked) <= _LONGEST_QUESTION and _among_questions(term, questions_page):
            units.append((term.parent, asked, functools.partial(_pair_as_unit, term, answer, asked)))
            if ENTRY_NUMBER.match(inline(term)):
                numbered.add(asked)
    for details in soup.find_all("details"):
        summary = details.find("summary")
        asked = _NUMBERED.sub("", inline(summary) + " ").strip() if summary is not None else ""
        if summary is not None and asked and len(asked) <= _LONGEST_QUESTION:
            units.append((details.parent, asked, functools.partial(_pair_as_unit, summary, details, asked)))
    for row in soup.find_all("tr"):
        units.extend(_row_unit(row))
    asks = Counter(id(container) for container, asked, _ in units if _is_question(asked))
    total = Counter(id(container) for container, _, _ in units)
    on_page = sum(asks.values()) >= MOSTLY * len(units)
    among = AMONG_FAQ if faq_page else MOSTLY
    for container, asked, mark in units:
        if _is_question(asked) or asks[id(container)] >= among * total[id(container)] \
                or on_page and _is_statement(asked) or faq_page and asked in numbered:
            mark()


def _is_statement(asked: str) -> bool:
    """A problem stated as a finished sentence ("The Java client doesn't work in my browser."), not a
    label ("NOTE", "show all answers", "Fully encrypted raw block device")."""
    return len(asked.split()) >= 4 and asked.rstrip().endswith((".", "!", "…", '"', "”", "'", ")"))


def _asking_share(items: list[Tag], share: float) -> bool:
    """There are list items or terms, and at least `share` of them open with a question."""
    return bool(items) and sum(_is_question(_opening(item)) for item in items) >= share * len(items)


def _opening(item: Tag) -> str:
    """What a list item or term opens with: its text before its first block, else its first block."""
    if item.name == "dt":
        return inline(item)
    return _lead_text(item) or inline(next((c for c in item.children if isinstance(c, Tag)), item))


def _item_lead(item: Tag) -> list[PageElement]:
    """A list item's inline content before its first block."""
    lead = []
    for child in item.children:
        if isinstance(child, Tag) and is_block(child):
            break
        lead.append(child)
    return lead


def _lead_text(item: Tag) -> str:
    """The text of a list item before its first block, when a block follows it."""
    lead = _item_lead(item)
    if len(lead) == len(list(item.children)):
        return ""
    text = " ".join(" ".join(inline(n) if isinstance(n, Tag) else str(n) for n in lead).split())
    return text if len(text) <= _LONGEST_QUESTION else ""


def _among_questions(item: Tag, questions_page: bool) -> bool:
    """A list item that opens with its question, or a term that asks, is an entry on a page of
    questions (a FAQ by its title, or a third of its items and terms open with one) or in a list of
    such items (half of them); elsewhere, in a list of points ("Special class argument to place figures?" among a to-do
    list's items, "60: What is a formatted input function?" among a hundred defect reports), it is
    one more point."""
    if questions_page or item.parent is None:
        return True
    return _asking_share(item.parent.find_all(item.name, recursive=False), MOSTLY)


def _linked(tag: Tag) -> bool:
    """All of the tag's text is links: a table of contents' next line, not an answer."""
    return sum(len(inline(link)) for link in tag.find_all("a")) >= len(inline(tag))


def _is_question(asked: str) -> bool:
    """Words that ask ("Why is it slow?"), not a term that ends in "?" ("@?", "S3::Get ?name?")."""
    asked = re.sub(r"(?:^|(?<=\s))\?[^?]*\?", "", asked).strip()  # "?name?": an optional argument
    return asked.endswith("?") and len(re.findall(r"[A-Za-z]{2,}", asked)) >= 2


_EMPHASIS = {"b", "strong", "em", "i"}
# How a FAQ numbers or marks its questions: "(12) ", "1.2. ", "3) ", "Q. ", "Question 4: " (not "2023 was").
_NUMBERED = re.compile(r"^\s*(?:\(\d+\)|\d+(?:\.\d+)+\.?|\d+[.)]|(?:Q|Question)\s*\d*\s*[:.)-])\s+", re.IGNORECASE)
# A cell that only marks the question in the cell beside it ("Q:").
_QA_MARK = re.compile(r"(?:Q|Question)\s*\d*\s*[:.)-]", re.IGNORECASE)
_ANSWER_MARK = re.compile(r"(?:A|Answer)\s*\d*\s*[:.)-]", re.IGNORECASE)
# A question longer than this is a paragraph, not a question set apart.
_LONGEST_QUESTION = 300


def _asks(tag: Tag) -> str:
    """The question `tag` sets apart, without its number or mark; "" when it sets none apart."""
    text = inline(tag)
    if not text or len(text) > _LONGEST_QUESTION:
        return ""
    bare = _NUMBERED.sub("", text + " ").strip()
    if not bare or not (_NUMBERED.match(text + " ") or _emphasised(tag)):
        return ""
    return bare


def _emphasised(tag: Tag) -> bool:
    """All of the tag's text (but a number before it) is bold or emphasised."""
    if tag.name in _EMPHASIS:
        return True
    plain = []
    for string in tag.find_all(string=True):
        parent = string.parent
        while parent is not None and parent is not tag and parent.name not in _EMPHASIS:
            parent = parent.parent
        if parent is tag:
            plain.append(str(string))
    return not _NUMBERED.sub("", " ".join(plain).strip() + " ").strip()


def _row_unit(row: Tag) -> list[tuple[Tag | None, str, Callable[[], None]]]:
    """A table row that asks: its first cell asks (set apart, numbered, or beside its answer's
    cell), or a "Q:" cell or the question's number alone ("1.1.") marks the cell after it as the
    question (DocBook's Q and A tables)."""
    cells = list(row.find_all(["td", "th"], recursive=False))
    if any(_ANSWER_MARK.fullmatch(inline(c)) for c in cells):
        return []  # the "A:" row of a Q and A table answers the row before it
    # "Q:" or the question's own number ("1.1.", DocBook's Q and A sets) in a cell of its own
    marked = any(_QA_MARK.fullmatch(inline(c)) or _NUMBERED.fullmatch(inline(c) + " ") for c in cells)
    cells = [c for c in cells if not _NUMBERED.fullmatch(inline(c) + " ") and not c.find(HEADINGS)]
    lead = _lead(cells[0]) if cells else None
    asked = _asks(lead) if lead is not None else ""
    following = row.find_next_sibling("tr")
    table = row.find_parent("table")
    if not asked and lead is not None and (len(cells) == 2 and lead.name == "td" or marked) \
            and len(inline(lead)) <= _LONGEST_QUESTION:
        asked = _NUMBERED.sub("", inline(lead) + " ").strip()  # a table of questions and their answers
    if lead is None or not asked:
        return []
    if len(cells) == 2:
        return [(table, asked, functools.partial(_row_as_unit, row, asked, lead, cells[1]))]
    if len(cells) == 1 and following is not None and inline(following):
        return [(table, asked, functools.partial(_row_as_unit, row, asked, lead, None))]
    return []


def _lead(cell: Tag) -> Tag | None:
    """What a table cell asks with: the cell, or, when it also shows code or a message below, its
    first bold or emphasised part ("<b>make dies, printing this:</b><pre>...</pre>")."""
    blocks = cell.find_all(BLOCK)
    if not blocks or len(blocks) == 1 and blocks[0].name == "p":
        return cell  # its text, or one paragraph of it
    first = next((c for c in cell.children if isinstance(c, Tag) and inline(c)
                  or not isinstance(c, Tag) and str(c).strip()), None)
    if isinstance(first, Tag) and first.name in _EMPHASIS and all(c.name in ("pre", "code") for c in blocks):
        return first
    return None


def _next_block(tag: Tag) -> Tag | None:
    following = tag.find_next_sibling()
    return following if isinstance(following, Tag) and is_block(following) else None


def _as_question(block: Tag, asked: str) -> None:
    block.name = "p"
    block.clear()
    block.append(f"Q: {asked}")


def _pair_as_unit(question: Tag, answer: Tag, asked: str) -> None:
    """A `<dt>` and its `<dd>`, a `<summary>` and its `<details>`: the question a paragraph, the
    answer a block (a paragraph when it is bare text, which the extractor would drop in a `<div>`)."""
    _as_question(question, asked)
    answer.name = "div" if answer.find(BLOCK - {"li"}) else "p"


def _item_as_unit(item: Tag, lead: list[PageElement], asked: str) -> None:
    """A list item that opens with its question: the question a paragraph, the rest its answer."""
    question = BeautifulSoup("", "html.parser").new_tag("p")
    question.append(f"Q: {asked}")
    lead[0].replace_with(question)
    for node in lead[1:]:
        node.extract()
    item.name = "div"
    if item.parent is not None and item.parent.name in ("ul", "ol"):
        item.parent.name = "div"


def _row_as_unit(row: Tag, asked: str, lead: Tag, answer: Tag | None) -> None:
    """A table row that asks: the question a paragraph (what its cell shows below the question, such
    as an error message, after it), its answer (the next cell, or the next row) the blocks after
    it; the table becomes those blocks."""
    table = row.find_parent("table")
    question = BeautifulSoup("", "html.parser").new_tag("p")
    question.append(f"Q: {asked}")
    row.insert_before(question)
    if lead.name in _EMPHASIS and lead.parent is not None:
        shown = lead.parent
        lead.decompose()
        shown.name = "div"
        row.insert_before(shown)
    if answer is not None:
        answer.name = "div"
        row.insert_before(answer)
    row.decompose()
    if table is not None:
        for leftover in table.find_all("tr"):
            leftover.name = "div"
            for cell in leftover.find_all(["td", "th"], recursive=False):
                cell.name = "div"
        for wrapper in table.find_all(["tbody", "thead", "tfoot"]):
            wrapper.name = "div"
        table.name = "div"
