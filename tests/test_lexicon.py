"""The lexicon ingest saves for readers: BM25 from its postings, and a faithful round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.articles import read_articles
from assistant.chunking import chunk_article, chunk_sentences
from assistant.config import Settings
from assistant.lexicon import Lexicon, build_lexicon
from assistant.terms import terms
from assistant.types import Chunk

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def seed_lexicon() -> tuple[Lexicon, list[Chunk]]:
    settings = Settings.load(environ={})
    articles = read_articles((SEEDS,), lambda _: None)
    chunks = [chunk_article(a, settings) for a in articles]
    spans = [sorted({x for c in cs for x in chunk_sentences(c, a.text)})
             for a, cs in zip(articles, chunks, strict=True)]
    sentences = [[(f"{a.doc_id}:{s}", s, e, q) for s, e, q in per] for a, per in zip(articles, spans, strict=True)]
    return build_lexicon(articles, chunks, sentences), [c for cs in chunks for c in cs]


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
