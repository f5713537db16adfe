"""Reading articles from disk: which files count, their text, their title.

`Article.text` is what every offset in the index refers to: for .txt the decoded file with
newlines normalised to "\\n" and a terminal's overstrike ("X\\bX" for bold) read as the letter;
for .html and .md the structured main text of `extract` (headings, paragraphs, list items, code
blocks). An article's id is its path in the ingested folder. This
module does not chunk or embed.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from fnmatch import fnmatch
from pathlib import Path

from ..errors import UserInputError
from ..types import Article
from . import extract
from .entries import is_heading
from .progress import Progress

MARKDOWN_SUFFIXES = {".md", ".markdown"}
TEXT_SUFFIXES = {".txt"} | MARKDOWN_SUFFIXES
HTML_SUFFIXES = {".html", ".htm"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
MAX_FILE_BYTES = 5_000_000
_TITLE_CHARS = 200
_SHORT_TITLE = 70
# A heading of fewer words ("Background") names a section, not the article.
_TITLE_WORDS = 3
_QUOTES = "\"”’')"


class UnreadableArticle(Exception):
    """A file that is skipped with a warning (binary, not UTF-8, empty, too large)."""


def discover(paths: Iterable[Path], warn: Callable[[str], None] = lambda _: None,
             include: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[tuple[str, Path]]:
    """The article files under `paths` (files or folders) with their ids, sorted by id; a missing
    path is an error. An id is the file's path relative to its folder without the suffix
    ("faq/windows"), or with it where two files would share one ("faq/windows.md"). Hidden files
    and folders and a folder reached again through a symbolic link are skipped with a warning;
    `include`/`exclude` are globs on that relative path ("faq/*", "*.md")."""
    found: dict[Path, str] = {}
    for path in paths:
        if not path.exists():
            raise UserInputError(f"{path} does not exist: give a file or folder of articles.")
        if path.is_file():
            found.setdefault(path, path.name)
            continue
        seen: dict[str, Path] = {}
        for folder, dirs, files in os.walk(path, followlinks=True):
            here = Path(folder)
            real = os.path.realpath(folder)
            if real in seen:
                warn(f"skipped {here}: a symbolic link back to {seen[real]}, already read")
                dirs.clear()
                continue
            seen[real] = here
            for name in sorted(dirs):
                if name.startswith("."):
                    warn(f"skipped {here / name}: a hidden folder")
                    dirs.remove(name)
            for name in sorted(files):
                child = here / name
                if name.startswith("."):
                    warn(f"skipped {child}: a hidden file")
                elif child.suffix.lower() in SUFFIXES:
                    relative = child.relative_to(path).as_posix()
                    if (not include or any(fnmatch(relative, g) for g in include)) \
                            and not any(fnmatch(relative, g) for g in exclude):
                        found.setdefault(child, relative)
    stems = Counter(_without_suffix(relative) for relative in found.values())
    return sorted(((_without_suffix(r) if stems[_without_suffix(r)] == 1 else r), p) for p, r in found.items())


def _without_suffix(relative: str) -> str:
    return relative.rsplit(".", 1)[0] if "." in relative.rsplit("/", 1)[-1] else relative


Known = Callable[[str, str], Article | None]  # (doc_id, sha256 of the file) -> the article as read before


def read_articles(paths: Iterable[Path], warn: Callable[[str], None], include: Sequence[str] = (),
                  exclude: Sequence[str] = (), known: Known = lambda doc_id, sha256: None,
                  progress: Progress | None = None) -> list[Article]:
    """Read every article under `paths`; skipped files are reported through `warn`. A file
    `known` gives an article for (same id, same bytes) is not extracted again."""
    articles: dict[str, Article] = {}
    files = list(discover(paths, warn, include, exclude))
    progress = progress or Progress(enabled=False)
    progress.begin("Reading pages", len(files), "pages")
    for doc_id, path in files:
        progress.advance()
        try:
            article = read_article(path, doc_id, known)
        except UnreadableArticle as exc:
            warn(f"skipped {path}: {exc}")
            continue
        if article.doc_id in articles:
            warn(f"skipped {path}: another article has the id {article.doc_id} ({articles[article.doc_id].path})")
            continue
        articles[article.doc_id] = article
    progress.end()
    return list(articles.values())


def read_article(path: Path, doc_id: str = "", known: Known = lambda doc_id, sha256: None) -> Article:
    """One file as an article; `doc_id` defaults to the file name without its suffix."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UnreadableArticle(f"not a .txt, .md or .html file ({path.suffix or 'no extension'})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableArticle(f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableArticle(f"larger than {MAX_FILE_BYTES // 1_000_000} MB")
    sha256 = hashlib.sha256(data).hexdigest()
    if (before := known(doc_id or path.stem, sha256)) is not None:
        return replace(before, path=str(path.resolve()))
    raw = _OVERSTRIKE.sub("", _decoded(data, html=suffix in HTML_SUFFIXES))
    if len(_CONTROL.findall(raw)) * 100 > len(raw):  # a stray NUL is kept; binary data is full of them
        raise UnreadableArticle("binary data, not text")
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if suffix in HTML_SUFFIXES:
        page = extract.html_text(raw)
        title, text = page.title, page.text
        if not text.strip():
            raise UnreadableArticle("no main text (only navigation, scripts or markup)")
    elif suffix in MARKDOWN_SUFFIXES:
        page = extract.markdown_text(raw)
        title, text = page.title, page.text
    else:
        title, text = "", raw
    if not text.strip():
        raise UnreadableArticle("no text")
    title = title or _first_line(text)
    return Article(
        doc_id=doc_id or path.stem,
        path=str(path.resolve()),
        title=title[:_TITLE_CHARS],
        text=text,
        sha256=sha256,
    )


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# A manual page formatted for a terminal prints bold as "X\bX" and underline as "_\bX": the reader sees X.
_OVERSTRIKE = re.compile(r"[^\n]\x08")


def _decoded(data: bytes, html: bool) -> str:
    """UTF-8 (or UTF-16 with its byte-order mark), else the charset an HTML page declares (windows-1252
    when it declares none)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise UnreadableArticle("not valid UTF-16 text") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = re.search(rb"""<meta[^>]+charset=["']?([\w-]+)""", data[:4096], re.IGNORECASE) if html else None
    # An HTML page that declares nothing is windows-1252, as the HTML standard reads legacy pages.
    for encoding in ([declared.group(1).decode("ascii")] if declared else ["windows-1252"] if html else []):
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            pass
    raise UnreadableArticle("not UTF-8 text, and it declares no other encoding that fits: save it as UTF-8")


def _first_line(text: str) -> str:
    """The first line when it is title-sized. A first line that is a paragraph (it ends like a
    sentence and runs long) is a lede, not a title: the heading right after it, if it has a few
    words ("Yann LeCun: From Pioneer to Skeptic"), names the article; else the lede's first words,
    cut at a word: a short title, not a sentence."""
    lines = [line.strip().lstrip("#").strip() for line in text.splitlines() if line.strip()][:2]
    line = lines[0] if lines else ""
    if len(line) > _SHORT_TITLE and line.rstrip(_QUOTES)[-1:] in ".!?":
        after = lines[1] if len(lines) > 1 else ""
        if after and is_heading(after) and len(after.split()) >= _TITLE_WORDS:
            return after.rstrip(":")[:_TITLE_CHARS]
        line = line[:_SHORT_TITLE].rsplit(" ", 1)[0].rstrip(",;:—–- ") + "…"
    return line[:_TITLE_CHARS]
