from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.ingest.articles import UnreadableArticle, read_article, read_articles
from assistant.ingest.chunking import chunk_article, chunk_sentences
from assistant.ingest.sentences import split_sentences
from assistant.types import Article

SEEDS = sorted((Path(__file__).resolve().parent.parent / "seeds").iterdir())


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_every_chunk_and_sentence_is_an_exact_slice_of_its_source(path: Path) -> None:
    article = read_article(path)
    source = path.read_text(encoding="utf-8")
    assert article.text == source
    chunks = chunk_article(article, Settings())
    assert chunks
    for chunk in chunks:
        assert source[chunk.start:chunk.end] == chunk.text
        for start, end, _ in chunk_sentences(chunk, source):
            assert chunk.start <= start < end <= chunk.end
            assert source[start:end].strip() == source[start:end]


def test_chunks_cover_the_whole_article_text() -> None:
    article = read_article(SEEDS[2])
    chunks = chunk_article(article, Settings())
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    words = [m for m in article.text.split() if m]
    uncovered = [i for i, ch in enumerate(article.text) if not ch.isspace() and i not in covered]
    # Only headings are left out of text chunks (they travel as each chunk's section).
    stray = "".join(article.text[i] for i in uncovered)
    assert len(stray) < 400 and words


def test_seed_faq_is_detected_as_question_answer_units() -> None:
    article = read_article(SEEDS[1])
    faq = [c for c in chunk_article(article, Settings()) if c.kind == "faq"]
    assert [c.section for c in faq] == [
        'What exactly are "world models" and how do they differ from LLMs?',
        "Does LeCun's departure mean Meta will stop developing Llama models?",
        "Why is LeCun's opinion on LLMs considered significant?",
        "Has LeCun always been critical of LLMs?",
        "What happens to LeCun's research team at Meta?",
    ]
    assert faq[0].text.startswith("Q: What exactly")
    assert "environments change in response to actions" in faq[0].text
    assert "Unlikely." not in faq[0].text  # one entry never runs into the next
    # The question helps retrieval but is not quotable as an answer sentence.
    (q_start, q_end, q_quotable), (a_start, _, a_quotable) = chunk_sentences(faq[0], article.text)[:2]
    assert article.text[q_start:q_end].startswith("Q: What exactly") and not q_quotable
    assert article.text[a_start:].startswith("World models are") and a_quotable


def test_a_faq_answer_is_quoted_without_its_a_marker(tmp_path: Path) -> None:
    (tmp_path / "faq.txt").write_text("Pathkit notes\n\nQ: Is pathkit thread-safe?\n"
                                      "A: Yes, paths are immutable. Threads share them freely.\n", encoding="utf-8")
    article = read_article(tmp_path / "faq.txt")
    faq = next(c for c in chunk_article(article, Settings()) if c.kind == "faq")
    quoted = [article.text[start:end] for start, end, quotable in chunk_sentences(faq, article.text) if quotable]
    assert quoted == ["Yes, paths are immutable.", "Threads share them freely."]


def test_markdown_faq_with_question_headings(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text(
        "# Widget guide\n\nThe widget is small. It loads fast.\n\n## FAQ\n\n"
        "### How big is it?\n\nIt is 4 kB gzipped.\n\n### Does it track readers?\n\nNo. It sets no cookies.\n",
        encoding="utf-8",
    )
    article = read_article(path)
    assert article.title == "Widget guide"
    chunks = chunk_article(article, Settings())
    faq = [c for c in chunks if c.kind == "faq"]
    assert [c.section for c in faq] == ["How big is it?", "Does it track readers?"]
    assert faq[1].text.endswith("It sets no cookies.")
    assert [c.kind for c in chunks].count("text") == 1


def test_html_article_title_and_text_without_markup(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Hostile &amp; page</title><script>alert(1)</script></head><body>"
        "<h1>Heading</h1><p>First <b>bold</b> sentence. Second one.</p>"
        "<p>&lt;script&gt;alert(2)&lt;/script&gt; is shown as text.</p></body></html>",
        encoding="utf-8",
    )
    article = read_article(path)
    assert article.title == "Heading"  # the page's own <h1>, else its <title> without the site's name
    path.write_text("<title>Hostile &amp; page — Example Site</title><p>Only a paragraph here.</p>", encoding="utf-8")
    assert read_article(path).title == "Hostile & page"
    # A header <h1> that only names the site (as on every page of the Node.js docs) is not the title.
    path.write_text("<title>Assert | Node.js Docs</title><header><h1>Node.js docs</h1></header><main>"
                    "<p>The assert module provides a set of assertion functions for verifying invariants.</p>"
                    "<table><tr><th>Mode</th><th>Meaning</th></tr><tr><td>strict</td>"
                    "<td><p>Deep equality is strict.</p><p>Types must match.</p></td></tr></table></main>",
                    encoding="utf-8")
    page = read_article(path)
    assert page.title == "Assert" and "| strict | Deep equality is strict. Types must match. |" in page.text
    assert "alert(1)" not in article.text
    assert "First bold sentence. Second one." in article.text
    assert "<script>alert(2)</script> is shown as text." in article.text
    for chunk in chunk_article(article, Settings()):
        assert article.text[chunk.start:chunk.end] == chunk.text


def test_sentence_splitter_keeps_abbreviations_initials_and_list_numbers() -> None:
    text = "Dr. Smith met J. R. Doe in the U.S. yesterday. It rained! 2. Hope for a miracle.\nNew line here"
    sentences = [text[s:e] for s, e in split_sentences(text)]
    assert sentences == [
        "Dr. Smith met J. R. Doe in the U.S. yesterday.",
        "It rained!",
        "2. Hope for a miracle.",
        "New line here",
    ]


def test_a_lowercase_line_continues_an_unfinished_sentence_and_starts_a_new_one_after_a_finished_one() -> None:
    text = ("Lines the editor\nwrapped are joined.\nFeature parity with importlib_metadata 4.6.\n"
            "importlib.metadata entry points now select by group.\nIt reads text, images, etc.\nand sound.")
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Lines the editor\nwrapped are joined.",
        "Feature parity with importlib_metadata 4.6.",
        "importlib.metadata entry points now select by group.",
        "It reads text, images, etc.\nand sound.",
    ]


def test_unreadable_files_are_skipped_with_a_warning_that_names_them(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("A real article. With two sentences.", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02garbage")
    (tmp_path / "latin1.md").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (tmp_path / "empty.txt").write_text("   \n", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    warnings: list[str] = []
    articles = read_articles([tmp_path], warnings.append)
    assert [a.doc_id for a in articles] == ["good"]
    joined = "\n".join(warnings)
    assert "binary.txt" in joined and "latin1.md" in joined and "empty.txt" in joined
    assert "image.png" not in joined  # not an article type: ignored silently in folders
    with pytest.raises(UnreadableArticle):
        read_article(tmp_path / "image.png")


def test_a_stray_nul_byte_is_kept_as_text(tmp_path: Path) -> None:
    text = "A NUL \x00 hides in this sentence about kites." + " Kites fly over the hills." * 40
    (tmp_path / "nul.txt").write_text(text, encoding="utf-8")
    assert read_article(tmp_path / "nul.txt").text == text.strip()


def test_a_megabyte_on_one_line_makes_bounded_chunks_that_cover_it() -> None:
    from assistant.ingest.sentences import LONGEST_SENTENCE

    text = "Kites " + "and strings " * 90_000 + "x" * 5_000 + ".\n"  # 1 MB without a sentence break
    chunks = chunk_article(Article("long", "long.txt", "Long", text, "0"), Settings())
    assert len(text) > 1_000_000 and all(len(c.text) <= LONGEST_SENTENCE for c in chunks)
    assert all(text[c.start:c.end] == c.text for c in chunks)
    assert chunks[0].start == 0 and chunks[-1].end == len(text) - 1
    assert all(text[a.end:b.start].isspace() or a.end >= b.start for a, b in zip(chunks, chunks[1:], strict=False))


def test_a_short_quotation_stays_whole_and_a_long_one_is_quotable_sentence_by_sentence() -> None:
    text = 'He told students: “Don’t work on LLMs. LLMs are a dead end.” He argued more. She said "Go. Now." Done.'
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "He told students: “Don’t work on LLMs. LLMs are a dead end.”",
        "He argued more.",
        'She said "Go. Now."',
        "Done.",
    ]
    long = ("“A child has been awake about 16,000 hours by the age of four. The optic nerve carries about 2 "
            "megabytes per second. So a child has seen as much as the biggest models.” He stopped.")
    assert [long[s:e] for s, e in split_sentences(long)] == [
        "“A child has been awake about 16,000 hours by the age of four.",
        "The optic nerve carries about 2 megabytes per second.",
        "So a child has seen as much as the biggest models.”",
        "He stopped.",
    ]


def test_a_sentence_the_source_breaks_across_lines_is_one_sentence() -> None:
    text = "Some opinions, such as a post by @A_Emmanuel10\n, suggest that Meta is lost. Others\ndisagree.\nNew line."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Some opinions, such as a post by @A_Emmanuel10\n, suggest that Meta is lost.",
        "Others\ndisagree.",
        "New line.",
    ]


def test_no_seed_sentence_starts_mid_sentence() -> None:
    for path in SEEDS:
        article = read_article(path)
        for chunk in chunk_article(article, Settings()):
            for start, end, _ in chunk_sentences(chunk, article.text):
                first = article.text[start]
                assert not (first.islower() or first in ",;:)"), article.text[start:end]


def test_reference_lines_are_items_never_quoted_and_arrow_links_are_dropped() -> None:
    article = read_article(SEEDS[2])
    chunks = chunk_article(article, Settings())
    references = [c for c in chunks if c.section == "References"]
    assert len(references) == 1
    items = [(article.text[s:e], quotable) for s, e, quotable in chunk_sentences(references[0], article.text)]
    assert items[:2] == [("Yann LeCun’s post on X, June 21, 2024", False),
                         ("Post on X by @A_Emmanuel10, April 14, 2025", False)]
    assert not any("BACK TO HOME PAGE" in c.text or "BACK TO HOME PAGE" in c.section for c in chunks)


def test_a_related_reading_link_list_is_not_content() -> None:
    article = read_article(SEEDS[1])
    chunks = chunk_article(article, Settings())
    assert not any("Llama 5" in c.text for c in chunks)
    assert any(c.text.startswith("LeCun's departure marks") for c in chunks)


def test_a_headline_that_states_a_fact_is_quoted_like_any_sentence_and_a_label_is_not(tmp_path: Path) -> None:
    article = read_article(SEEDS[1])
    first = chunk_article(article, Settings())[0]
    assert first.text.startswith(article.title)
    spans = chunk_sentences(first, article.text)
    assert article.text[spans[0][0]:spans[0][1]] == article.title and spans[0][2]  # "... Just Quit Meta and ..."
    assert article.text[spans[1][0]:spans[1][1]].startswith("The Turing Award winner") and spans[1][2]
    for headline, states in [("Internal Contradictions at Meta Platforms Today", False),
                             ("Yann LeCun: From Pioneer to Skeptic", False),
                             ("Python Frequently Asked Questions", False),
                             ("The EU Just Fined Meta $1.3 Billion", True), ("Meta Says Llama Will Stay Open", True)]:
        (tmp_path / "h.txt").write_text(f"{headline}\n\nBody text of the story goes here.\n", encoding="utf-8")
        story = read_article(tmp_path / "h.txt")
        lead = chunk_article(story, Settings())[0]
        start, end, quotable = chunk_sentences(lead, story.text)[0]
        assert (story.text[start:end], quotable) == (headline, states)


def test_sentences_survive_real_text_abbreviations_versions_urls_code_and_ellipses() -> None:
    text = ("Use a list, e.g. [1, 2]. It works, i.e. mostly. Python 3.11 is 1.25x faster. "
            "See https://docs.python.org/3/faq/index.html. Mail info@example.org. Call os.path.join() first. "
            "Wait... There is more. Version 2.0. was released. See Fig. 3 for details.")
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Use a list, e.g. [1, 2].", "It works, i.e. mostly.", "Python 3.11 is 1.25x faster.",
        "See https://docs.python.org/3/faq/index.html.", "Mail info@example.org.", "Call os.path.join() first.",
        "Wait...", "There is more.", "Version 2.0. was released.", "See Fig. 3 for details.",
    ]
    items = "- list.copy()\n> A quoted line. And another.\n-5 degrees is cold."
    assert [items[s:e] for s, e in split_sentences(items)] == [
        "list.copy()", "A quoted line.", "And another.", "-5 degrees is cold."]


def test_a_first_line_that_is_a_paragraph_gives_a_short_title_never_quoted(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text("In the rapidly evolving world of technology, artificial intelligence (AI) has become the "
                    "focal point of global attention.\n\nA second paragraph follows.\n", encoding="utf-8")
    article = read_article(path)
    assert article.title == "In the rapidly evolving world of technology, artificial intelligence…"
    sentences = [(article.text[s:e], q) for c in chunk_article(article, Settings())
                 for s, e, q in chunk_sentences(c, article.text)]
    assert sentences[0][1] is False and sentences[-1] == ("A second paragraph follows.", True)
    (tmp_path / "short.txt").write_text("Yann LeCun Just Quit Meta\n\nBody text.\n", encoding="utf-8")
    assert read_article(tmp_path / "short.txt").title == "Yann LeCun Just Quit Meta"
    # A lede followed by a heading of a few words: the heading names the article.
    lede = "In the rapidly evolving world of technology, artificial intelligence (AI) has become the focal point.\n"
    (tmp_path / "lede.txt").write_text(lede + "Yann LeCun: From Pioneer to Skeptic\nHe is influential.\n",
                                       encoding="utf-8")
    assert read_article(tmp_path / "lede.txt").title == "Yann LeCun: From Pioneer to Skeptic"
    (tmp_path / "section.txt").write_text(lede + "Background\nHe is influential.\n", encoding="utf-8")
    assert read_article(tmp_path / "section.txt").title.endswith("artificial intelligence…")


# A page as older generators write it (YODL, texi2html): unclosed <p>, a <pre> inside one, inline
# <code> in headings and prose, a definition list, initials.
GENERATED_PAGE = """<html><head><title>Shell FAQ</title></head><body>
<!-- generated by a tool: do not edit -->
<a href="ch2.html">Next</a> | <a href="index.html">Table of contents</a>
<h1>Chapter 3: How to get things to work</h1>
<p><h2>3.1: Why does <code>$var</code> not split into words?</h2>
<p>
  Multiple-word variables such as
<p><pre>
    var="foo bar"
</pre>
<p>
  are split into words when used in a <code>for foo in $var</code> loop.
  To get the old behaviour you need to set the option <code>SH_WORD_SPLIT</code> first.
<dl>
<dt><strong>HISTFILE</strong></dt><dd>The file to save the history in.
If unset, the history is not saved.</dd>
</dl>
<pre>ls [ arg ... ]</pre>
<p>Thanks to P.W. Stephenson for this entry.
</body></html>"""


def _html_article(tmp_path: Path, html: str) -> Article:
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    return read_article(path)


def _faq_sections(path: Path) -> list[str]:
    """The questions of the FAQ entries found in the file at `path`, in order."""
    return [c.section for c in chunk_article(read_article(path), Settings()) if c.kind == "faq"]


def _quotable(article: Article) -> list[str]:
    return [article.text[s:e] for c in chunk_article(article, Settings())
            for s, e, quotable in chunk_sentences(c, article.text) if quotable]


def test_inline_markup_in_unclosed_paragraphs_stays_inside_its_sentence(tmp_path: Path) -> None:
    article = _html_article(tmp_path, GENERATED_PAGE)
    assert "## 3.1: Why does $var not split into words?" in article.text
    assert "```\nvar=\"foo bar\"\n```" in article.text
    quoted = _quotable(article)
    assert "To get the old behaviour you need to set the option SH_WORD_SPLIT first." in quoted
    assert "Next | Table of contents" not in article.text and "do not edit" not in article.text


def test_a_definition_is_quoted_with_its_term_and_a_synopsis_or_initials_do_not_make_sentences(
        tmp_path: Path) -> None:
    quoted = _quotable(_html_article(tmp_path, GENERATED_PAGE))
    assert "HISTFILE: The file to save the history in. If unset, the history is not saved." in quoted
    assert not any(q.startswith("If unset") or "ls [ arg" in q for q in quoted)
    assert "Thanks to P.W. Stephenson for this entry." in quoted


@pytest.mark.parametrize(("sentence", "prose"), [
    ("ls [ arg ... ]", False), ("zmodload -a zsh/zprof zprof", False), ("HISTFILE", False),
    ("| MACHTYPE | x86_64 |", False), ("It works.", True), ("Unlikely.", True),
    ("Fast startup time for large projects", True),
])
def test_bare_terms_synopses_and_table_cells_are_not_quotable(tmp_path: Path, sentence: str, prose: bool) -> None:
    path = tmp_path / "notes.md"
    path.write_text(f"# Notes\n\nThe tool reads its settings at start.\n\n{sentence}\n", encoding="utf-8")
    assert (sentence in _quotable(read_article(path))) is prose


def test_an_underlined_question_in_plain_text_starts_an_entry(tmp_path: Path) -> None:
    path = tmp_path / "README.txt"
    path.write_text("This is the README for tickd.\n\nWhat is tickd?\n==============\n\n"
                    "tickd is a small daemon that keeps the clock in step.\n\nLicense\n=======\n\n"
                    "tickd is free software.\n", encoding="utf-8")
    chunks = chunk_article(read_article(path), Settings())
    assert [(c.kind, c.section) for c in chunks if c.kind == "faq"] == [("faq", "What is tickd?")]


def test_a_byline_and_a_table_of_contents_are_never_quoted(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Ten years of pathkit\n\nPosted on November 2, 2026 by admin\n\n"
                    "Pathkit started in 2016 as a weekend project in Lyon.\n\nContents\n\n"
                    "2.1 Differences between the old and the new parser\n2.2 Where the old parser still runs today\n\n"
                    "The new parser reads every file twice as fast.\n", encoding="utf-8")
    quoted = _quotable(read_article(path))
    assert "Pathkit started in 2016 as a weekend project in Lyon." in quoted
    assert "The new parser reads every file twice as fast." in quoted
    assert not any("Posted on" in q or q.startswith("2.") for q in quoted), quoted


def test_a_text_faq_s_own_layout_marks_its_entries_and_numbered_steps_in_answers_are_not_entries(
        tmp_path: Path) -> None:
    # Questions indented two spaces, some stating a problem instead of asking; answers three deeper;
    # a numbered list inside an answer; a table of contents laid out like the questions.
    path = tmp_path / "FAQ.txt"
    path.write_text(
        "Questions about ferryd\n\n"
        "  Why does ferryd refuse to start?\n  Where are the logs kept?\n\n"
        "  Why does ferryd refuse to start?\n\n     The port is taken by another daemon.\n\n"
        "  Sometimes the clock drifts after a resume.\n\n     Restart the daemon after a resume.\n\n"
        "  Where are the logs kept?\n\n     Under /var/log/ferryd, one file a day.\n\n"
        "     1. Stop the daemon.\n\n        It needs a clean stop.\n\n"
        "  Can it run without root?\n\n     Yes, with the port set above 1024.\n", encoding="utf-8")
    entries = _faq_sections(path)
    assert entries == ["Why does ferryd refuse to start?", "Sometimes the clock drifts after a resume.",
                       "Where are the logs kept?", "Can it run without root?"]


def test_a_manual_page_formatted_for_a_terminal_is_read_without_its_overstrike(tmp_path: Path) -> None:
    bold = "".join(f"{c}\b{c}" for c in "FREQUENTLY ASKED QUESTIONS")
    path = tmp_path / "tool-faq.txt"
    underlined = "".join(f"_\b{c}" for c in "disk")
    path.write_bytes(f"TOOL(1)\n\n{bold}\n       Why does it stop?\n           The {underlined} is full.\n".encode())
    article = read_article(path)
    assert "FREQUENTLY ASKED QUESTIONS" in article.text and "The disk is full." in article.text
    assert "\b" not in article.text


def test_a_block_that_opens_with_its_bold_question_is_an_entry_and_its_linked_contents_line_is_not(
        tmp_path: Path) -> None:
    toc = "".join(f'<div><a href="#q{n}"><b>{n}</b></a></div><div><a href="#q{n}"><b>{q}</b></a></div>'
                  for n, q in enumerate(("Why is pond slow?", "Can pond read CSV?", "Who wrote pond?"), 1))
    body = ('<div><b>Why is pond slow?</b><p>It checks every row twice.</p></div>'
            '<div><b>Can pond read CSV?</b><p>Yes, with the csv plugin.</p><p>It ships with pond.</p></div>'
            '<div><b>Who wrote pond?</b><p>A team in Ghent.</p></div>')
    article = _html_article(tmp_path, f"<html><body><h1>Pond FAQ</h1><h2>Contents</h2>{toc}"
                                      f"<h2>Answers</h2>{body}</body></html>")
    entries = [(c.section, c.text.splitlines()[1]) for c in chunk_article(article, Settings()) if c.kind == "faq"]
    assert entries == [("Why is pond slow?", "It checks every row twice."),
                       ("Can pond read CSV?", "Yes, with the csv plugin."), ("Who wrote pond?", "A team in Ghent.")]


def test_a_manual_s_question_heading_is_a_section_and_its_faq_section_lasts_to_the_next_heading_as_high(
        tmp_path: Path) -> None:
    manual = tmp_path / "manual.md"
    manual.write_text("# Pond manual\n\n## Installing\n\nRun the installer.\n\n## What can be cached?\n\n"
                      "Pages and images.\n\n## Tuning\n\nRaise the cache size.\n", encoding="utf-8")
    guide = tmp_path / "guide.md"
    guide.write_text(
        "# Pond guide\n\n## Installing\n\nRun the installer.\n\n## Frequently asked questions\n\n"
        "### Why is pond slow?\n\nIt checks every row twice.\n\n### Upgrading from 1.x\n\nExport your data first.\n\n"
        "### Can pond read CSV?\n\nYes, with a plugin.\n\n## Who maintains pond?\n\nA team in Ghent.\n",
        encoding="utf-8")
    entries = {path.name: _faq_sections(path) for path in (manual, guide)}
    assert entries == {"manual.md": [], "guide.md": ["Why is pond slow?", "Can pond read CSV?"]}


def test_a_plain_text_answer_is_never_a_heading_even_short_or_above_a_rule(tmp_path: Path) -> None:
    path = tmp_path / "FAQ.txt"
    path.write_text(
        "Ferry FAQ\n\n  Where do I get the sources?\n\n   Anonymous ftp to ftp.example.org/pub/ferry\n\n"
        "  Why does the prompt take minutes?\n\n   The resolver waits for a dead name server. Remove it\n"
        "   from /etc/resolv.conf and the prompt comes at once.\n"
        "     ______________________________________________\n\n"
        "  Can it run without root?\n\n   Yes, with the port set above 1024.\n", encoding="utf-8")
    entries = {c.section: c.text.splitlines()[-1].strip() for c in chunk_article(read_article(path), Settings())
               if c.kind == "faq"}
    assert entries == {"Where do I get the sources?": "Anonymous ftp to ftp.example.org/pub/ferry",
                       "Why does the prompt take minutes?": "from /etc/resolv.conf and the prompt comes at once.",
                       "Can it run without root?": "Yes, with the port set above 1024."}


def test_a_chapter_s_own_number_in_a_numbered_faq_opens_a_section_not_an_entry(tmp_path: Path) -> None:
    path = tmp_path / "FAQ.txt"
    path.write_text(
        "Ferry FAQ\n\n1.0 ***** Getting ferry *****\n\n  This part says where ferry comes from.\n\n"
        "1.1 Where do I get ferry?\n\n  From ftp.example.org.\n\n1.2 Is it free?\n\n  Yes, it is MIT licensed.\n\n"
        "2.0 Running\n\n  This part is about running it.\n\n2.1 Why is the prompt slow?\n\n  The resolver waits.\n",
        encoding="utf-8")
    entries = _faq_sections(path)
    assert entries == ["Where do I get ferry?", "Is it free?", "Why is the prompt slow?"]


def test_a_question_among_a_to_do_list_s_points_is_no_entry_and_a_list_of_questions_is_a_faq(
        tmp_path: Path) -> None:
    points = ("<ul><li><p>Drop the old parser.</p><p>It is slow.</p></li>"
              "<li><p>Support CSV export?</p><p>Maybe with a plugin.</p></li>"
              "<li><p>Rename the config file.</p><p>Old names stay as links.</p></li>"
              "<li><p>Log in UTC.</p><p>Local time confuses reports.</p></li></ul>")
    questions = ("<ul><li><p>Why is pond slow?</p><p>It checks every row twice.</p></li>"
                 "<li><p>Can pond read CSV?</p><p>Yes, with a plugin.</p></li>"
                 "<li><p>Upgrading from 1.x</p><p>Export your data first.</p></li></ul>")
    todo = _html_article(tmp_path, f"<html><body><h1>Pond to do list</h1><h2>Next</h2>{points}</body></html>")
    assert [c.section for c in chunk_article(todo, Settings()) if c.kind == "faq"] == []
    guide = tmp_path / "guide.html"
    guide.write_text(f"<html><body><h1>Pond guide</h1><h2>Help</h2>{questions}</body></html>", encoding="utf-8")
    assert _faq_sections(guide) == ["Why is pond slow?", "Can pond read CSV?"]


def test_a_readme_s_few_question_headings_among_its_titles_make_no_entries_while_a_faq_s_do(
        tmp_path: Path) -> None:
    titles = ("NAME", "Where do I get ferry?", "OVERVIEW", "How do I install ferry?", "Bugs", "Is it free?",
              "History", "Authors", "See also")
    text = "Ferry\n\n" + "".join(f"{title}\n    Ferry moves files between hosts, one batch a day.\n\n"
                                  for title in titles)
    readme, faq = tmp_path / "README.txt", tmp_path / "FAQ.txt"
    readme.write_text(text, encoding="utf-8")
    faq.write_text(text, encoding="utf-8")
    assert _faq_sections(readme) == []
    assert _faq_sections(faq) == list(titles)


def test_a_faq_page_whose_entries_mostly_state_their_problem_has_every_heading_there_an_entry(
        tmp_path: Path) -> None:
    headings = ("Why is pond slow?", "“make install” fails", "Can pond read CSV?", "The build stops at link time",
                "Who maintains pond?", "Translations are not shown", "German umlauts look wrong")
    body = "".join(f"<h4>{h}</h4><p>See the manual, chapter two, for the cause.</p>" for h in headings)
    faq = tmp_path / "FAQ.html"
    faq.write_text(f"<html><body><h1>Pond FAQ</h1>{body}</body></html>", encoding="utf-8")
    notes = tmp_path / "notes.html"
    notes.write_text(f"<html><body><h1>Pond notes</h1>{body}</body></html>", encoding="utf-8")
    assert _faq_sections(faq) == list(headings)
    assert _faq_sections(notes) == []  # a page that is no FAQ, whose headings mostly state: its sections


def test_a_docbook_question_set_numbered_in_its_own_cell_with_a_note_opening_an_answer(tmp_path: Path) -> None:
    def row(number: str, question: str, answer: str) -> str:
        return (f'<tr class="question"><td><p><strong>{number}</strong></p></td><td><p>{question}</p></td></tr>'
                f'<tr class="answer"><td></td><td>{answer}</td></tr>')
    note = '<div class="note"><h3 class="title">Note</h3><p>This answer is old.</p></div>'
    rows = (row("1.1.", "What is pond?", "<p>A data checker.</p>")
            + row("1.2.", "No CSV reader on Solaris?", f"{note}<p>Build it with --csv.</p>")
            + row("1.3.", "Threads hang on old kernels", "<p>Upgrade the kernel.</p>"))
    path = tmp_path / "faq.html"
    path.write_text(f"<html><head><title>Pond FAQ</title></head><body><h1>Pond FAQ</h1><table>{rows}</table>"
                    "</body></html>", encoding="utf-8")
    entries = {c.section: c.text.split("\n", 1)[1] for c in chunk_article(read_article(path), Settings())
               if c.kind == "faq"}
    assert entries == {"What is pond?": "A data checker.",
                       "No CSV reader on Solaris?": "Note\nThis answer is old.\nBuild it with --csv.",
                       "Threads hang on old kernels": "Upgrade the kernel."}


def test_a_faq_by_its_title_counts_its_stated_problems_and_titled_questions_and_a_chapter_of_titles_has_none(
        tmp_path: Path) -> None:
    terms = "".join(f"<dt><b>{t}</b></dt><dd>See the log for the cause of it.</dd>" for t in (
        "The server dies at start with a font error.", "Where do I get pond?", "My viewer fails to connect!",
        "The log shows an Xlib error.", "Can it run without root?"))
    items = "".join(f"<li> <b>{title}</b> {question}<p>Use the fixed build.</p></li>" for title, question in (
        ("Win32 Paths", "Why do backslashes not work?"), ("Missing DLL", "Pond complains about a DLL."),
        ("Command Order", "Must commands keep an order?")))
    faq = tmp_path / "faq.html"
    faq.write_text(f"<html><head><title>Pond FAQ</title></head><body><h1>Pond FAQ</h1><dl>{terms}</dl>"
                   f"<ol>{items}</ol></body></html>", encoding="utf-8")
    assert _faq_sections(faq) == [
        "The server dies at start with a font error.", "Where do I get pond?", "My viewer fails to connect!",
        "The log shows an Xlib error.", "Can it run without root?",
        "Win32 Paths Why do backslashes not work?", "Missing DLL", "Command Order Must commands keep an order?"]
    chapter = tmp_path / "faq-contact.html"
    chapter.write_text("<html><body><h1>6. Contacting us</h1><h2>6.1. Get Support</h2><p>Write to us.</p>"
                       "<h2>6.2. Reporting Bugs</h2><p>Use the tracker.</p><h2>6.3. Mailing Lists</h2>"
                       "<p>There are two.</p></body></html>", encoding="utf-8")
    assert _faq_sections(chapter) == []


def test_a_question_heading_a_level_below_a_faq_s_entries_is_an_entry_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "FAQ.md"
    path.write_text("# FAQ\n\n## Q. Why is pond slow?\n\nIt checks rows twice.\n\n### Using the fast mode\n\n"
                    "Pass --fast.\n\n## Q. Can pond read CSV?\n\nYes.\n\n## Q. Who wrote pond?\n\nA team.\n\n"
                    "### Q. Can I mock a noexcept function?\n\nNo.\n", encoding="utf-8")
    assert _faq_sections(path) == ["Why is pond slow?", "Can pond read CSV?", "Who wrote pond?",
                                   "Can I mock a noexcept function?"]


def test_two_questions_in_a_row_share_the_answer_after_them_and_a_list_of_contents_does_not(
        tmp_path: Path) -> None:
    path = tmp_path / "FAQ.txt"
    path.write_text(
        "Pond FAQ\n\nQ: I set fast mode, but pond is still slow. Why?\n"
        "Q: I set fast mode to 2, but nothing changed. Why?\nA: Fast mode needs a restart.\n\n"
        "Q: Why is pond slow?\nQ: Can pond read CSV?\nQ: Who wrote pond?\nQ: Is pond free?\n"
        "A: Yes, it is MIT licensed.\n", encoding="utf-8")
    entries = [(c.section, c.text.splitlines()[-1]) for c in chunk_article(read_article(path), Settings())
               if c.kind == "faq"]
    assert entries == [("I set fast mode, but pond is still slow. Why?", "A: Fast mode needs a restart."),
                       ("I set fast mode to 2, but nothing changed. Why?", "A: Fast mode needs a restart."),
                       ("Is pond free?", "A: Yes, it is MIT licensed.")]


def test_a_read_the_docs_page_keeps_its_text_and_its_indented_answers_make_entries_on_a_faq(
        tmp_path: Path) -> None:
    answered = "".join(f"<p>{q}</p><blockquote><div><p>{a}</p></div></blockquote>" for q, a in (
        ("How does the module command work?", "It evaluates shell code."),
        ("Can I disable the pager?", "Set LMOD_PAGER to none.")))
    page = ('<html><head><title>FAQ</title></head><body class="wy-body-for-nav">'
            '<nav class="wy-nav-side"><ul><li><a href="a.html">Install</a></li><li><a href="b.html">Use</a></li>'
            '<li><a href="c.html">FAQ</a></li></ul></nav><section class="wy-nav-content-wrap">'
            f'<div class="wy-nav-content"><div role="main"><h1>Frequently Asked Questions</h1>{answered}'
            '</div></div></section></body></html>')
    faq = tmp_path / "faq.html"
    faq.write_text(page, encoding="utf-8")
    assert _faq_sections(faq) == ["How does the module command work?", "Can I disable the pager?"]
    notes = tmp_path / "notes.html"
    notes.write_text(page.replace("FAQ", "Notes").replace("Frequently Asked Questions", "Design notes"),
                     encoding="utf-8")
    article = read_article(notes)
    assert "It evaluates shell code." in article.text and "Install" not in article.text
    assert _faq_sections(notes) == []


def test_a_question_and_its_answer_in_one_paragraph_and_a_question_wrapped_mid_sentence(tmp_path: Path) -> None:
    markdown = tmp_path / "faq.md"
    markdown.write_text("# FAQ\n\nQ1.1: How do I **find the op**\ncalled by an intrinsic? A: Search the\nheaders.\n\n"
                        "Q1.2: Are there **examples**? A: See the porting guide.\n", encoding="utf-8")
    entries = [(c.section, c.text.splitlines()[-1]) for c in chunk_article(read_article(markdown), Settings())
               if c.kind == "faq"]
    assert entries == [("How do I find the op called by an intrinsic?", "A: Search the headers."),
                       ("Are there examples?", "A: See the porting guide.")]
    text = tmp_path / "FAQ.txt"
    text.write_text("Ripper FAQ\n\nQ: I have 10 users, but it loaded 15 hashes.  What's\ngoing on?\n"
                    "A: Some hash types split each password in two.\n", encoding="utf-8")
    assert _faq_sections(text) == ["I have 10 users, but it loaded 15 hashes. What's going on?"]


def test_a_deeper_heading_numbered_like_the_entries_is_an_entry_and_a_numbered_subsection_is_its_answer_s(
        tmp_path: Path) -> None:
    path = tmp_path / "FAQ.md"
    path.write_text(
        "# Wall FAQs\n\n### (FAQ 1) How do I forward a port?\n\nAdd a DNAT rule.\n\n"
        "#### (FAQ 1a) I followed those steps but it does not work\n\nCheck the zone.\n\n"
        "### (FAQ 2) Why is it slow?\n\nLogging.\n\n### (FAQ 3) Can it run on ARM?\n\nYes.\n\n"
        "### 4.1 How do I join files?\n\nUse concat.\n\n#### 4.1.1 Using the concat demuxer\n\nList them.\n",
        encoding="utf-8")
    assert _faq_sections(path) == ["(FAQ 1) How do I forward a port?",
                                   "(FAQ 1a) I followed those steps but it does not work",
                                   "(FAQ 2) Why is it slow?", "(FAQ 3) Can it run on ARM?", "How do I join files?"]


def test_a_section_whose_slug_names_a_menu_is_text_and_a_bare_or_numbered_question_in_a_list_is_an_entry(
        tmp_path: Path) -> None:
    items = "".join(f"<li>{q}\n<p>{a}</p></li>" for q, a in (
        ("Why is pond written in C?", "Speed."), ("Why is it called pond?", "After a lake.")))
    terms = "".join(f"<dt><b>{t}</b></dt><dd>Check the path's owner.</dd>" for t in (
        "1.1. Owner not trustworthy", "1.2. Untrusted path for the log file", "1.3. It does not log anything"))
    path = tmp_path / "faq.html"
    path.write_text(
        "<html><head><title>Pond FAQ</title></head><body><h1>Pond FAQ</h1>"
        '<section id="how-to-hide-the-menu-bar-in-pond"><h2>How to hide the menu bar in pond?</h2>'
        f"<p>Press F10.</p></section><ol>{items}</ol><dl>{terms}</dl></body></html>", encoding="utf-8")
    assert _faq_sections(path) == ["How to hide the menu bar in pond?", "Why is pond written in C?",
                                   "Why is it called pond?", "Owner not trustworthy",
                                   "Untrusted path for the log file", "It does not log anything"]
