"""FAQ entries found by their structure, in shapes the older rules did not know (tests/faq_shapes:
numbered bold paragraphs with quoted answers, "Q."/"A." paragraphs, a two-column table, list items
that open with their question, <details>, a definition list, bold Markdown paragraphs, a numbered
plain-text FAQ, a generator's numbered headings, DocBook's Q and A table, Markdown holding HTML),
problem statements among the questions; and what a reader gets who asks each one
word for word: its own entry's answer, never the question said back."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.evals.runner import answer_text
from assistant.ingest.articles import read_articles
from assistant.ingest.chunking import chunk_article, chunk_sentences

SHAPES = Path(__file__).resolve().parent / "faq_shapes"
# Every question of every page, as the page shows it without its number or "Q.".
QUESTIONS = {
    "numbered-bold": ["How do I create a quill database?",
                      "I deleted a lot of rows but the database file did not get any smaller.",
                      "Can several programs write to the same database at once?",
                      "Case-insensitive matching of accented letters does not work."],
    "qa-lines": ["Why does a job start a minute late?", "Where are the job logs kept?",
                 "A job that needs the network fails right after boot."],
    "two-columns": ["How long does the battery last?", "Can the camera record in the dark?",
                    "The memory card is not recognised."],
    "list-items": ["How do I split the window?", "Where is the settings file?",
                   "Syntax colours disappear in large files."],
    "details": ["How often does Orchard sync?", "Sync stops when the laptop sleeps.", "Which folders are skipped?"],
    "definitions": ["What is the default admin address?", "The status light blinks amber.",
                    "How do I reset the router?"],
    "bold-questions": ["Why does Kettle rebuild everything after an upgrade?", "How do I run a single task?",
                       "Builds hang on a network drive."],
    "numbered": ["Is Fernlib thread-safe?", "fern_open() returns FERN_EMEMORY.", "Where can I get a Windows build?"],
    # A generator's numbered headings: statements and titles among the questions are entries at the
    # level where the questions are; chapters, the contents list and a sub-heading inside an entry are not.
    "numbered-headings": ["Why doesn't Tallow support feature [xyz]?",
                          "I cannot read this file although the format is supported.",
                          "Where to get the latest version", "How do I join two files?"],
    # DocBook's Q and A table ("Q:" in a cell of its own) after a contents list of the same questions.
    "docbook-table": ["How do I create a proper patch for Reel?", "How do I translate Reel to a new language?"],
    # Markdown holding HTML: <details> and numbered paragraphs with an anchor in them.
    "markdown-html": ["What is the difference between Fizz and Fizz++?",
                      "When I compile Fizz, it fails with the following message",
                      "Does Fizz need a lot of memory to run?"],
}


@pytest.fixture(scope="module")
def articles():
    warnings: list[str] = []
    found = {a.doc_id: a for a in read_articles([SHAPES], warnings.append)}
    assert warnings == []
    return found


def test_every_shape_gives_one_unit_per_question_and_the_question_is_never_quotable(articles) -> None:
    assert set(articles) == set(QUESTIONS)
    for doc_id, article in articles.items():
        faq = [c for c in chunk_article(article, Settings()) if c.kind == "faq"]
        assert [c.section for c in faq] == QUESTIONS[doc_id], doc_id
        for chunk in faq:
            sentences = [(article.text[s:e], q) for s, e, q in chunk_sentences(chunk, article.text)]
            assert not any(q and chunk.section.rstrip("?.") in text for text, q in sentences), sentences
            assert any(q for _, q in sentences), f"{chunk.section}: nothing left to quote"


def test_a_bold_paragraph_in_a_story_and_a_sidebar_title_stay_prose(tmp_path: Path) -> None:
    (tmp_path / "story.html").write_text(
        "<html><head><title>Field notes</title></head><body><h1>Field notes</h1>"
        "<p><b>The river rose two metres overnight.</b></p><p>By morning the lower path was under water.</p>"
        "<table><tr><td><b>Related links</b></td></tr><tr><td>Tide tables</td></tr></table>"
        "<p>We walked the upper path instead and reached the hut by noon.</p></body></html>", encoding="utf-8")
    [story] = read_articles([tmp_path], lambda _: None)
    assert not [c for c in chunk_article(story, Settings()) if c.kind == "faq"]
    assert "Q:" not in story.text and "The river rose two metres overnight." in story.text


def test_each_question_asked_word_for_word_gets_its_own_entrys_answer_not_itself(tmp_path: Path) -> None:
    from assistant.engine import Assistant
    from assistant.ingest.pipeline import ingest

    settings = Settings.load(overrides={"index_dir": tmp_path / "index", "corpus": (SHAPES,)}, environ={})
    ingest(settings)
    assistant = Assistant.open(settings)
    for doc_id, questions in QUESTIONS.items():
        for question in questions:
            answer = assistant.ask(question)
            lead = answer.citations[0]
            assert not answer.refused and (lead.doc_id, lead.section) == (doc_id, question), answer.answer
            said = answer_text(answer).casefold()
            assert question.rstrip("?.").casefold() not in said, answer.answer


def test_a_sentence_that_only_says_the_question_back_is_never_the_answer(tmp_path: Path) -> None:
    from assistant.engine import Assistant
    from assistant.ingest.pipeline import ingest

    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "printer.md").write_text(
        "# Printer troubleshooting\n\nThe printer prints blank pages. This happens when the seal tape is still on "
        "the cartridge. Pull the orange seal tape off before you insert it.\n\nThe paper tray holds 250 sheets of "
        "plain paper.\n", encoding="utf-8")
    settings = Settings.load(overrides={"index_dir": tmp_path / "index", "corpus": (tmp_path / "pages",)},
                             environ={})
    ingest(settings)
    answer = Assistant.open(settings).ask("The printer prints blank pages.")
    assert not answer.refused and "The printer prints blank pages" not in answer.answer
    assert "seal tape" in answer_text(answer)
