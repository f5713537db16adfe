"""An HTML tree (after boilerplate is gone) as the structured plain text the index stores:
`#`-headings, one line per paragraph with its inline markup joined in, `- ` list items, `| a | b |`
table rows, `> ` quotations and fenced code blocks (extract.py decides what the tree holds)."""

from __future__ import annotations

import re

from bs4 import Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_QA = re.compile(r"(?:Q|Question)\s*[:.)-]", re.IGNORECASE)


def structured(root: Tag) -> str:
    lines: list[str] = []
    _blocks(root, lines, depth=0)
    return "".join(f"{line}\n" for line in lines)


def _blocks(node: Tag, lines: list[str], depth: int) -> None:
    """Append `node`'s block elements as lines; loose inline text becomes a paragraph."""
    loose: list[Tag | NavigableString] = []

    def paragraph() -> None:
        if (text := _inline_all(loose)) and not _links_only(loose):
            lines.append(text)
        loose.clear()

    for child in node.children:
        if isinstance(child, NavigableString) or not isinstance(child, Tag) or not is_block(child):
            loose.append(child)  # type: ignore[arg-type]
            continue
        paragraph()
        name = child.name
        if name in HEADINGS:
            if text := inline(child):
                lines.append("#" * int(name[1]) + " " + text)
        elif name in ("ul", "ol"):
            for item in child.find_all("li", recursive=False):
                _item(item, lines, depth)
        elif name in ("pre", "code"):  # a <code> that is a block holds lines (`is_block`)
            if code := _code(child.get_text()):
                lines.extend(["```", *code, "```"])
        elif name == "table" and _layout(child):
            for cell in child.find_all(["td", "th"]):
                if cell.find_parent("table") is child:
                    _blocks(cell, lines, depth)
        elif name == "table":
            for row in child.find_all("tr"):
                cells = [_cell(cell) for cell in row.find_all(["td", "th"])]
                if any(cells):
                    lines.append("| " + " | ".join(cells) + " |")
        elif name == "dl":
            _definitions(child, lines, depth)
        elif name == "blockquote":
            quoted: list[str] = []
            _blocks(child, quoted, depth)
            lines.extend("> " + line for line in quoted if not line.startswith("```"))
        elif name == "p" and _links_only([c for c in child.children if isinstance(c, (Tag, NavigableString))]):
            continue  # "Next | Previous | Contents": a bar of links to other pages
        elif name == "p":
            raw = child.get_text("").strip()
            # "Q: ...\nA: ..." written as one paragraph keeps its question and answer lines.
            parts = re.split(r"\n(?=(?:A|Answer)\s*[:.)-])", raw) if _QA.match(raw) else [raw]
            lines.extend(text for part in parts if (text := " ".join(part.split())))
        else:
            _blocks(child, lines, depth)
    paragraph()


def _definitions(dl: Tag, lines: list[str], depth: int) -> None:
    """A definition list: each term opens its definition's first line ("HISTFILE: If unset, the
    history is not saved."), so that a quoted definition says what it defines."""
    term = ""
    for child in dl.children:
        if not isinstance(child, Tag):
            continue
        if child.name == "dt":
            if term:
                lines.append(term)
            term = inline(child)
            continue
        inner: list[str] = []
        _blocks(child, inner, depth)
        if term and inner and not inner[0].startswith(("```", "#", "|", ">")):
            inner[0] = f"{term}: {inner[0]}"
        elif term:
            lines.append(term)
        lines.extend(line for line in inner if line)
        term = ""
    if term:
        lines.append(term)


def _links_only(nodes: list[Tag | NavigableString]) -> bool:
    """Two or more links with nothing but separators between them ("Next | Previous | Up")."""
    links = [n for n in nodes if isinstance(n, Tag) and (n.name == "a" or n.find("a") is not None)]
    rest = "".join(str(n) for n in nodes if isinstance(n, NavigableString) and not isinstance(n, _UNSHOWN))
    rest += "".join(n.get_text() for n in nodes if isinstance(n, Tag) and n not in links)
    return len(links) >= 2 and not re.search(r"\w", rest) and all(inline(n) == _link_text(n) for n in links)


def _link_text(tag: Tag) -> str:
    link = tag if tag.name == "a" else tag.find("a")
    return inline(link) if link is not None else ""


def _layout(table: Tag) -> bool:
    """A table that lays a page out rather than holding data: a cell holds a heading or a table of
    its own, or it is one column of boxes. Its cells are read as the page's blocks."""
    rows = [row for row in table.find_all("tr") if row.find_parent("table") is table]
    cells = [cell for row in rows for cell in row.find_all(["td", "th"], recursive=False)]
    return any(cell.find(HEADINGS | {"table"}) for cell in cells) or (
        bool(rows) and len(cells) == len(rows) and any(cell.find(BLOCK) for cell in cells))


def _code(text: str) -> list[str]:
    """A code block's lines: blank edges and the extractor's indentation of its first line gone."""
    lines = [line.rstrip() for line in text.replace("```", "` ` `").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return [lines[0].lstrip(), *lines[1:]] if lines else []


def _item(item: Tag, lines: list[str], depth: int) -> None:
    """A list item: its own text on a `- ` line, nested lists indented below it; an item that
    holds a question and its answer keeps their lines."""
    nested = [child for child in item.children if isinstance(child, Tag) and child.name in ("ul", "ol")]
    for child in nested:
        child.extract()
    inner: list[str] = []
    _blocks(item, inner, depth + 1)
    prose = [line for line in inner if not line.startswith(("```", "#", "|"))]
    if prose and _QA.match(prose[0]):
        lines.extend(inner)  # an item holding a question and its answer ("Q: ...", "A: ...") is an entry
        prose, inner = [], []
    if prose:
        lines.append("  " * depth + "- " + " ".join(prose))
    lines.extend(line for line in inner if line.startswith(("```", "|")))
    for child in nested:
        for sub in child.find_all("li", recursive=False):
            _item(sub, lines, depth + 1)


BLOCK = {"p", "div", "section", "article", "main", "ul", "ol", "pre", "table", "blockquote", "dl", "dt", "dd",
          "figure", "header", "footer", "aside", "nav", "form", "hr", "body", "html", "doc", "li"} | HEADINGS


def is_block(tag: Tag) -> bool:
    return tag.name in BLOCK or (tag.name == "code" and "\n" in tag.get_text().strip("\n"))


def _cell(cell: Tag) -> str:
    """A table cell's text; paragraphs or items inside it stay apart ("first. Don't", not "first.Don't")."""
    for block in cell.find_all(["p", "li", "br", "div"]):
        block.insert_after(" ")
    return inline(cell)


def inline(tag: Tag) -> str:
    return " ".join(tag.get_text("").split()).replace("¶", "").strip()


# What a page holds but never shows: `<!-- comments -->`, `<!DOCTYPE>`, `<?xml ...?>`.
_UNSHOWN = (Comment, Declaration, Doctype, ProcessingInstruction)


def _inline_all(nodes: list[Tag | NavigableString]) -> str:
    shown = (n.get_text() if isinstance(n, Tag) else str(n) for n in nodes if not isinstance(n, _UNSHOWN))
    return " ".join("".join(shown).split())
