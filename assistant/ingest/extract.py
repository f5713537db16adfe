"""Main text from HTML pages and Markdown files, as the structured plain text that is stored.

A page becomes lines a reader (and the chunker) can follow: `#`-headings, one line per paragraph
(inline markup such as `<code>`, `<a>`, `<em>` joined into its sentence, hard line breaks gone),
`- ` list items, `| a | b |` table rows, `> ` quotations, and fenced code blocks kept whole. Every
offset in the index refers to this text.

HTML: the page is parsed as a browser parses it (lxml), and its main part (`<main>`, the one
`<article>`, else the body) is read without the furniture around it (navigation, sidebars, headers
and footers, comment threads, link-only lists such as menus and tables of contents); before that,
question-and-answer units found by their structure (a block set apart and the block that answers it,
in whatever markup: see `units.mark_questions`) become "Q: " lines, and a schema.org FAQPage in JSON-LD
adds the entries the page does not show. A layout table (cells holding paragraphs or lists) is read
as the blocks in its cells. Markdown is rendered by markdown-it (CommonMark) and read the same way
(its bold-paragraph questions too); its front matter gives the title.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from typing import Any

from bs4 import BeautifulSoup, Tag, XMLParsedAsHTMLWarning

from .blocks import HEADINGS, inline, structured
from .entries import FAQ_HEADING
from .units import mark_questions

# A site's name after its page title: "Programming FAQ — Python 3.11.2 documentation".
_SITE_SUFFIX = re.compile(r"\s+[—|–·:-]\s+[^—|–·:]+$")
_SEPARATOR = re.compile(r"\s+[—|–·:-]\s+")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n(?:---|\.\.\.)\n", re.DOTALL)


@dataclass(frozen=True)
class Extracted:
    title: str
    text: str


def html_text(raw: str) -> Extracted:
    """The main text of an HTML page, and its title (the page's `<h1>`, else its `<title>` without
    the site's name)."""
    # lxml builds the tree a browser builds: an unclosed <p> ends where a <pre>, a heading or a list
    # begins, so the inline markup after it stays inside its own sentence.
    with warnings.catch_warnings():  # an XHTML page is read as HTML, as browsers read it
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(raw, "lxml")
    title = _page_title(soup)
    faq = _json_ld_faq(soup)
    _prepare(soup)
    text = _answer_on_its_line(structured(_main_content(soup)))
    missing = [(q, a) for q, a in faq if q not in text]
    if missing:
        text += "## Frequently asked questions\n" + "".join(f"### {q}\n{a}\n" for q, a in missing)
    return Extracted(title, text)


# Page furniture named by its role, class or id: what no page's author wrote as its text.
_FURNITURE_ROLES = ("banner", "complementary", "contentinfo", "navigation", "search")
_FURNITURE_NAMES = re.compile(
    r"^(?:.*[-_])?(?:sidebar|sphinxsidebar|related|breadcrumbs?|nav|navbar|navigation|menu|footer|header|"
    r"comments?|comment-list|widget(?:-area)?|share|social|cookies?|skip-link|masthead|colophon)(?:[-_].*)?$",
    re.IGNORECASE)


def _main_content(soup: BeautifulSoup) -> Tag:
    """The part of the page its author wrote: `<main>` (or the one `<article>`), else the body,
    without the furniture around it: headers and footers outside the article, sidebars, comment
    threads, share bars, and lists made only of links (menus, tables of contents, related reading)."""
    roles = ", ".join(f"[role={role}]" for role in _FURNITURE_ROLES)
    for tag in soup.select(f"aside, form, [hidden], [aria-hidden=true], {roles}"):
        tag.decompose()
    for tag in soup.find_all(_furniture):
        if not _holds_content(tag):
            tag.decompose()
    articles = soup.find_all("article")
    root = soup.find("main") or soup.select_one("[role=main]") \
        or (articles[0] if len(articles) == 1 else None) or soup.body or soup
    for tag in root.find_all(["header", "footer"]):
        if not tag.find("h1"):
            tag.decompose()
    for links in root.find_all(["ul", "ol", "dl"]):
        if links.parent is not None and _only_links(links):
            links.decompose()
    return root


# Section numbers and the marks around links in a table of contents ("1.1.", "Q:", "|").
_NUMBERS = re.compile(r"(?:\b[A-Z]?\d+(?:\.\d+)*\.?|\bQ:|[\s|•·:])")


def _furniture(tag: Tag) -> bool:
    if tag.name in ("html", "body", "main", "article") or tag.attrs is None:
        return False
    names = [*tag.get_attribute_list("class"), str(tag.get("id") or "")]
    # "how-to-hide-the-menu-bar": a heading's slug (Sphinx's section ids), not a name for furniture
    return any(_FURNITURE_NAMES.match(name) for name in names if name and len(re.split(r"[-_]", name)) <= 4)


def _holds_content(tag: Tag) -> bool:
    """A tag named like furniture that holds the page's main part or an article (Read the Docs'
    "wy-nav-content-wrap" around `role=main`)."""
    return tag.find(["main", "article"]) is not None or tag.select_one("[role=main]") is not None


def _only_links(tag: Tag) -> bool:
    """A list of three or more items, each of which is a link and nothing else (its number aside:
    "1.1. Introduction to this FAQ" in a table of contents)."""
    items = tag.find_all(["li", "dt"])
    if len(items) < 3:
        return False
    linked = sum(len(inline(a)) for a in tag.find_all("a"))
    unlinked = len(_NUMBERS.sub("", inline(tag))) - linked
    return all(item.find("a") is not None for item in items) and unlinked <= 0.1 * max(linked, 1)


def markdown_text(raw: str) -> Extracted:
    """A Markdown file's text with its markup read (headings, lists, code fences, tables, the HTML
    in it), and its title: front matter `title:`, else the first `#` heading."""
    from markdown_it import MarkdownIt

    title = ""
    if front := _FRONT_MATTER.match(raw):
        title = next((line.split(":", 1)[1].strip().strip("\"'") for line in front.group(1).splitlines()
                      if line.lower().startswith("title:")), "")
        raw = raw[front.end():]
    # The HTML a Markdown file holds ("<details><summary>...", "1.1.<a name=...>") is read as HTML.
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(raw)
    soup = BeautifulSoup(rendered, "lxml")
    _prepare(soup)
    if not title and (h1 := soup.find("h1")):
        title = inline(h1)
    return Extracted(title, _answer_on_its_line(structured(soup)))


# "Q1.1: How do I find the op? A: Search for ...": a question and its answer in one paragraph.
_ASKED_AND_ANSWERED = re.compile(r"^((?:Q|Question)\s*[\d.]*\s*[:.)]\s.{1,300}?\?)\s+((?:A|Answer)\s*[\d.]*\s*[:.)]\s)",
                                 re.MULTILINE | re.IGNORECASE)


def _answer_on_its_line(text: str) -> str:
    """A question and its answer written in one paragraph, each on its own line."""
    return _ASKED_AND_ANSWERED.sub(r"\1\n\2", text)


def _page_title(soup: BeautifulSoup) -> str:
    """The page's `<h1>`, unless it only names the site ("Node.js documentation" in every page's
    header, while `<title>` says "Assert | Node.js documentation"); else `<title>` without the site."""
    tag = soup.find("title")
    title = " ".join(tag.get_text(" ").split()) if tag else ""
    parts = [p.casefold() for p in _SEPARATOR.split(title)]
    h1 = soup.find("h1")
    heading = inline(h1) if h1 else ""
    if heading and not (len(parts) > 1 and heading.casefold() in parts[1:]):
        return heading
    return _SITE_SUFFIX.sub("", title) or title


def _prepare(soup: BeautifulSoup) -> None:
    """Remove permalink marks ("¶"), navigation and scripts, read a note's title as its first line, and
    make question-and-answer shapes into question lines."""
    for mark in soup.select("a.headerlink, a.anchor, a.anchorjs-link, nav, [role=navigation], [role=search], "
                            "script, style, noscript, template"):
        mark.decompose()
    for box in soup.select(".note, .warning, .tip, .important, .caution, .admonition"):
        title = box.find(HEADINGS)
        if title is not None and title.find_previous_sibling() is None:
            title.name = "p"  # a note's own title ("Note" in a DocBook answer): no section of the page
    mark_questions(soup, bool(FAQ_HEADING.search(_page_title(soup))))


def _json_ld_faq(soup: BeautifulSoup) -> list[tuple[str, str]]:
    """Question and answer pairs of a schema.org FAQPage in the page's JSON-LD."""
    pairs = []
    for script in soup.find_all("script", attrs={"type": "application/ld+json"}):
        try:
            data = json.loads(script.string or "")
        except ValueError:
            continue
        for item in _faq_items(data):
            question = " ".join(str(item.get("name", "")).split())
            answer = item.get("acceptedAnswer") or {}
            text = answer.get("text", "") if isinstance(answer, dict) else ""
            text = " ".join(BeautifulSoup(str(text), "html.parser").get_text(" ").split())
            if question and text:
                pairs.append((question, text))
    return pairs


def _faq_items(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, list):
        return [item for entry in data for item in _faq_items(entry)]
    if not isinstance(data, dict):
        return []
    if "@graph" in data:
        return _faq_items(data["@graph"])
    kinds = data.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    entities = data.get("mainEntity")
    if "FAQPage" in kinds and isinstance(entities, list):
        return [e for e in entities if isinstance(e, dict)]
    return []
