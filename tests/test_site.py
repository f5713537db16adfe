"""A site owner's own folder: real-shaped HTML and Markdown pages in tests/site (a Sphinx-like page,
its FAQ, a WordPress-like post with sidebars, comments and a declared Windows charset, a Markdown
guide with front matter), read into clean structured text with path ids and FAQ units."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from webserver import running_server

from assistant.config import Settings
from assistant.ingest.articles import read_articles
from assistant.ingest.chunking import chunk_article, chunk_sentences

SITE = Path(__file__).resolve().parent / "site"


@pytest.fixture(scope="module")
def articles():
    warnings: list[str] = []
    found = {a.doc_id: a for a in read_articles([SITE], warnings.append)}
    assert warnings == []
    return found


def test_ids_are_paths_so_repeated_file_names_all_count(articles) -> None:
    assert set(articles) == {"blog/index", "docs/index", "docs/faq/index", "docs/guide/index"}
    assert articles["docs/index"].title == "Paths and files"  # the page's <h1>, not "... — Example 1.0 ..."
    assert articles["docs/guide/index"].title == "The pathkit guide"  # front matter
    assert articles["blog/index"].title == "Ten years of pathkit"


def test_boilerplate_goes_and_inline_markup_joins_its_sentence(articles) -> None:
    docs, blog = articles["docs/index"].text, articles["blog/index"].text
    for junk in ("Navigation", "This Page", "Quick search", "Table of Contents", "Copyright", "¶"):
        assert junk not in docs
    for junk in ("Recent Posts", "Archives", "Proudly powered", "Great post", "Contact"):
        assert junk not in blog
    assert "Use os.path.join() to join parts, e.g. a folder and a file name, and read them with one call." in docs
    assert "The café where it began" in blog  # decoded with the charset the page declares
    assert "| rb | read bytes |" in docs  # a table row per line
    guide = articles["docs/guide/index"].text
    assert "title:" not in guide and "Lines the editor wrapped are joined into one sentence when the file" in guide


def test_code_is_one_unit_never_quoted_and_sentences_survive_real_text(articles) -> None:
    article = articles["docs/index"]
    sentences = [(article.text[s:e], quotable) for c in chunk_article(article, Settings())
                 for s, e, quotable in chunk_sentences(c, article.text)]
    code = [s for s, _ in sentences if "notes.txt" in s]
    assert code == ['```\nwith open("notes.txt") as f:\n    text = f.read()\n```']
    assert dict(sentences)[code[0]] is False
    assert ("Version 3.11 reads files 1.5 times faster than version 3.10 did.", True) in sentences
    assert ("Use os.path.join() to join parts, e.g. a folder and a file name, and read them with one call.",
            True) in sentences


def test_every_faq_shape_becomes_a_question_and_answer_unit(articles) -> None:
    faq = {c.section: c for a in articles.values() for c in chunk_article(a, Settings()) if c.kind == "faq"}
    assert set(faq) == {
        "Does pathkit work on Windows?", "How do I find the user's home folder?",  # <h3> question headings
        "What was the first release called?",  # <dt>/<dd>
        "Will pathkit ever drop Python 2?",  # <details><summary>
        "Who maintains pathkit?",  # schema.org FAQPage JSON-LD
        "Can I use pathkit with asyncio?",  # Markdown ### Question?
        "Is pathkit thread-safe?",  # Q:/A: lines
    }
    assert faq["What was the first release called?"].text.endswith("The first release was called Pebble.")
    assert faq["How do I find the user's home folder?"].text.endswith("'/home/ada'\n```")
    for article in articles.values():
        for chunk in chunk_article(article, Settings()):
            assert article.text[chunk.start:chunk.end] == chunk.text


def test_bad_files_are_skipped_one_warning_each_and_owners_pick_with_globs(tmp_path: Path) -> None:
    (tmp_path / "a" / "deep").mkdir(parents=True)
    (tmp_path / "a" / "deep" / "page.md").write_text("# Page\n\nA real page.\n", encoding="utf-8")
    os.symlink(tmp_path / "a", tmp_path / "a" / "deep" / "loop")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "notes.md").write_text("secret", encoding="utf-8")
    (tmp_path / ".draft.md").write_text("draft", encoding="utf-8")
    (tmp_path / "empty.html").write_text("<html><nav><a href='/'>Home</a></nav><script>x()</script></html>",
                                         encoding="utf-8")
    (tmp_path / "wide.txt").write_bytes("A page saved as UTF-16.".encode("utf-16"))
    (tmp_path / "odd.txt").write_bytes(b"caf\xe9 \xff\xfe in no declared encoding")
    (tmp_path / "legacy.html").write_bytes(b"<title>Legacy</title><p>A caf\xe9 page that declares no charset.</p>")
    warnings: list[str] = []
    found = {a.doc_id: a for a in read_articles([tmp_path], warnings.append)}
    assert set(found) == {"a/deep/page", "wide", "legacy"} and found["wide"].text == "A page saved as UTF-16."
    assert "A café page" in found["legacy"].text  # an HTML page that declares nothing is windows-1252
    assert len(warnings) == 5, warnings
    joined = "\n".join(warnings)
    for why in ("symbolic link", "hidden folder", "hidden file", "no main text", "not UTF-8"):
        assert why in joined
    assert [a.doc_id for a in read_articles([tmp_path], lambda _: None, include=["a/*"])] == ["a/deep/page"]
    assert [a.doc_id for a in read_articles([tmp_path], lambda _: None, exclude=["a/*", "*.html"])] == ["wide"]
    assert "legacy" not in {a.doc_id for a in read_articles([tmp_path], lambda _: None, exclude=["legacy*"])}


def test_a_site_is_ingested_asked_and_its_pages_served_under_their_path(tmp_path: Path) -> None:
    from assistant.engine import Assistant
    from assistant.ingest.pipeline import ingest

    settings = Settings.load(overrides={"index_dir": tmp_path / "index", "corpus": (SITE,)}, environ={})
    report = ingest(settings)
    assert report.files == 4 and not report.skipped
    assistant = Assistant.open(settings)
    assert len({entry.doc_id for entry in assistant.faq()[:3]}) == 3  # suggestions span the FAQ pages
    answer = assistant.ask("How do I find the user's home folder?")
    lead = answer.citations[0]
    assert not answer.refused and lead.doc_id == "docs/faq/index"
    assert lead.section == "How do I find the user's home folder?" and "pathkit.home()" in answer.answer
    assert "```" not in answer.answer
    with running_server(tmp_path / "index") as url:
        page = httpx.get(f"{url}/articles/docs/faq/index", params={"start": lead.start, "end": lead.end}, timeout=30)
        assert page.status_code == 200 and "Pathkit FAQ" in page.text and "<mark" in page.text
        assert httpx.get(f"{url}/articles/docs/faq/missing", timeout=30).status_code == 404
        assert httpx.get(f"{url}/articles/..%2F..%2Fetc%2Fpasswd", timeout=30).status_code == 404


def test_a_page_too_short_for_the_extractor_keeps_its_text_without_the_furniture(tmp_path: Path) -> None:
    page = tmp_path / "short.html"
    page.write_text("<html><head><title>Refunds | Shop</title></head><body><header><a href='/'>Shop</a></header>"
                    "<main><h2>Can I get a refund?</h2><p>Yes, within 30 days.</p></main>"
                    "<footer>© Shop</footer></body></html>", encoding="utf-8")
    [article] = read_articles([tmp_path], lambda message: None)
    assert article.title == "Refunds" and "Shop" not in article.text
    faq = [c for c in chunk_article(article, Settings()) if c.kind == "faq"]
    assert [c.section for c in faq] == ["Can I get a refund?"] and faq[0].text.endswith("Yes, within 30 days.")
