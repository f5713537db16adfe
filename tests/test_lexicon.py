"""The lexicon ingest saves for readers: BM25 from its postings, and a faithful round trip."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.ingest.articles import read_articles
from assistant.ingest.chunking import chunk_article, chunk_sentences
from assistant.store.lexicon import Lexicon, Row, build_lexicon
from assistant.text.terms import terms
from assistant.types import Article, Chunk

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def cut(articles: list[Article]) -> dict[str, tuple[list[Chunk], list[Row]]]:
    settings = Settings.load(environ={})
    fresh = {}
    for a in articles:
        chunks = chunk_article(a, settings)
        spans = sorted({x for c in chunks for x in chunk_sentences(c, a.text)})
        fresh[a.doc_id] = (chunks, [(f"{a.doc_id}:{s}", s, e, q) for s, e, q in spans])
    return fresh


def seed_lexicon() -> tuple[Lexicon, list[Chunk]]:
    articles = read_articles((SEEDS,), lambda _: None)
    fresh = cut(articles)
    return build_lexicon(articles, fresh), [c for a in articles for c in fresh[a.doc_id][0]]


def test_bm25_from_postings_equals_bm25s() -> None:
    import bm25s

    lexicon, chunks = seed_lexicon()
    reference = bm25s.BM25()  # the keyword signal's weights were fitted on bm25s's scores
    reference.index([terms(f"{c.title} {c.section} {c.text}") or ["_"] for c in chunks], show_progress=False)
    for question in ("Where is AMI Labs based?", "world models world models", "LeCun Meta FAIR Turing Award"):
        query = [t for t in terms(question) if t in lexicon.idf]
        assert np.allclose(lexicon.bm25(query), reference.get_scores(query), atol=1e-5)
    assert not lexicon.bm25(["zzzunknown"]).any()


def test_a_saved_lexicon_loads_back_the_same() -> None:
    lexicon, _ = seed_lexicon()
    loaded = Lexicon.from_bytes(lexicon.to_bytes())
    for name, value in vars(lexicon).items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(getattr(loaded, name), value), name
        elif not name.startswith("_"):
            assert getattr(loaded, name) == value, name
    assert loaded.cast.subject == "LeCun"
    chunk = lexicon.chunk_position[lexicon.chunk_ids[5]]
    inside = lexicon.sentences_of(chunk)
    assert inside and all(lexicon.chunk_start[chunk] <= lexicon.sentence_start[i] < lexicon.chunk_end[chunk]
                          for i in inside)


def test_a_lexicon_updated_for_changed_articles_equals_one_built_from_scratch() -> None:
    first = read_articles((SEEDS,), lambda _: None)
    lexicon = build_lexicon(first, cut(first))
    changed = replace(first[1], text=first[1].text.replace("Paris", "Lyon and Paris"), sha256="changed")
    added = Article("extra", "extra.txt", "Extra", "Extra.\n\nGliders need no engines. Owls hunt at night.\n", "x")
    second = [first[0], changed, added]  # first[2] removed, first[1] changed, extra added
    updated = build_lexicon(second, cut([changed, added]), lexicon,
                            dropped=[c for a in first[1:] for c in cut([a])[a.doc_id][0]])
    rebuilt = build_lexicon(second, cut(second))
    for name, value in vars(rebuilt).items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(getattr(updated, name), value), name
        elif not name.startswith("_"):
            assert getattr(updated, name) == value, name


def test_a_sentence_repeated_at_the_edges_of_pages_is_boilerplate_never_quoted(tmp_path: Path) -> None:
    notice = "This newsletter is sent to readers who asked for it and can be cancelled at any time."
    for n, topic in enumerate(["The lantern runs on two batteries.", "The tent sleeps four people.",
                               "The stove burns white gas.", "The map covers the northern ridge."]):
        middle = "Keep the receipt for the warranty." if n < 3 else "The guide walks with the group."
        filler = "".join(f"Paragraph {i} of page {n} tells more.\n\n" for i in range(5))
        (tmp_path / f"page{n}.md").write_text(f"# Page {n}\n\n{topic} It was tested in the field.\n\n{filler}"
                                              f"{middle}\n\n{filler}{notice}\n", encoding="utf-8")
    articles = read_articles((tmp_path,), lambda _: None)
    lexicon = build_lexicon(articles, cut(articles))
    texts = {a.doc_id: a.text for a in articles}
    quotable = {texts[lexicon.doc_ids[row.doc]][row.start:row.end]: row.quotable
                for row in map(lexicon.sentence, range(len(lexicon.sentence_ids)))}
    assert quotable[notice] is False  # closes four pages
    assert quotable["The lantern runs on two batteries."] is True
    assert quotable["Keep the receipt for the warranty."] is True  # on three pages, but in their middle
    assert Lexicon.from_bytes(lexicon.to_bytes()).sentence_repeated.tolist() == lexicon.sentence_repeated.tolist()
