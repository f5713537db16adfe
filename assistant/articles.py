"""Reading articles from disk: which files count, their text, their title.

`Article.text` is "the source as read": for .txt and .md the decoded file with newlines
normalised to "\\n"; for .html the visible text, one block element per line. Every offset in
the index refers to it. This module does not chunk or embed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import UserInputError
from .types import Article

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
MAX_FILE_BYTES = 5_000_000
_TITLE_CHARS = 200


class UnreadableArticle(Exception):
    """A file that is skipped with a warning (binary, not UTF-8, empty, too large)."""


def discover(paths: Iterable[Path]) -> list[Path]:
    """The article files under `paths` (files or folders), sorted; a missing path is an error."""
    found: set[Path] = set()
    for path in paths:
        if not path.exists():
            raise UserInputError(f"{path} does not exist: give a file or folder of articles.")
        if path.is_file():
            found.add(path)
            continue
        for child in path.rglob("*"):
            hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
            if child.is_file() and child.suffix.lower() in SUFFIXES and not hidden:
                found.add(child)
    return sorted(found)


def read_articles(paths: Iterable[Path], warn: Callable[[str], None]) -> list[Article]:
    """Read every article under `paths`; skipped files are reported through `warn`."""
    articles: dict[str, Article] = {}
    for path in discover(paths):
        try:
            article = read_article(path)
        except UnreadableArticle as exc:
            warn(f"skipped {path}: {exc}")
            continue
        if article.doc_id in articles:
            warn(f"skipped {path}: another article is named {article.doc_id} ({articles[article.doc_id].path})")
            continue
        articles[article.doc_id] = article
    return list(articles.values())


def read_article(path: Path) -> Article:
    if path.suffix.lower() not in SUFFIXES:
        raise UnreadableArticle(f"not a .txt, .md or .html file ({path.suffix or 'no extension'})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableArticle(f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableArticle(f"larger than {MAX_FILE_BYTES // 1_000_000} MB")
    if b"\x00" in data:
        raise UnreadableArticle("binary data, not text")
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableArticle("not UTF-8 text") from None
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if path.suffix.lower() in HTML_SUFFIXES:
        title, text = _html_text(raw)
    else:
        text = raw
        title = _markdown_title(text) if path.suffix.lower() != ".txt" else ""
    if not text.strip():
        raise UnreadableArticle("no text")
    title = title or _first_line(text)
    return Article(
        doc_id=path.stem,
        path=str(path.resolve()),
        title=title[:_TITLE_CHARS],
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _first_line(text: str) -> str:
    """The first line when it is title-sized, else its first sentence, cut at a word."""
    line = next((line.strip().lstrip("#").strip() for line in text.splitlines() if line.strip()), "")
    if len(line) > _TITLE_CHARS:
        line = re.split(r"(?<=[.!?])\s", line, maxsplit=1)[0]
    if len(line) > _TITLE_CHARS:
        line = line[:_TITLE_CHARS].rsplit(" ", 1)[0] + "…"
    return line


def _markdown_title(text: str) -> str:
    match = re.search(r"^#\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE)
    return match.group(1).strip() if match else ""


_BLOCK_TAGS = {
    "p", "div", "section", "article", "header", "footer", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "tr", "dt", "dd", "figcaption", "br", "hr", "main", "aside", "table",
}
_DROP_TAGS = ["script", "style", "noscript", "template", "svg", "iframe", "object", "head", "nav"]


def _html_text(raw: str) -> tuple[str, str]:
    # bs4 is only needed for HTML sources.
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    if not title and (h1 := soup.find("h1")):
        title = h1.get_text(" ", strip=True)
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    lines = [" ".join(line.split()) for line in soup.get_text().splitlines()]
    text = "\n".join(line for line in lines if line)
    return title, text + "\n" if text else ""
