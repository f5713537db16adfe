"""What the answerer knows about each sentence it could quote: one row of features per quotable
sentence of the retrieved passages, and per-word coverage of the question's focus.

Coverage is token alignment, ColBERT-style, with the same MiniLM and no other model: each focus
word's vector (from the question's own tokens) is matched against the sentence's token vectors
(stored at ingest), and its best cosine says how well the sentence speaks to that word. A
paraphrase aligns ("child" with "kid"); a word the sentence never addresses ("born", "age") does
not. The weights that read these rows are fitted by `bench/fit_answer.py` and live in `answer.py`.
This module computes; it does not choose or refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..store.reader import IndexReader
from .answertype import fits
from .retrieve import Retrieval

SENTENCE_FEATURES = (
    "dense",  # cosine of the question's vector to the sentence's
    "overlap",  # IDF-weighted share of the question's terms the sentence repeats
    "focus",  # the same over the focus terms only (not the articles' subject)
    "bm25",  # sentence-level BM25 with the corpus' IDF, scaled to 0..1
    "align",  # IDF-weighted mean over focus words of their best token cosine in the sentence
    "align_min",  # the worst-covered focus word's best token cosine
    "type_fit",  # the question asks for an amount, time, place or name and the sentence has one
    "type_miss",  # it asks for one and the sentence has none
    "passage",  # the fused retrieval score of the sentence's passage
    "faq_question",  # for a FAQ answer: how well the entry's own question matches
    "faq_first",  # the first sentence of a FAQ answer (its direct reply)
    "faq_lead",  # the first sentence of a FAQ answer inherits how well the entry's question matches
    "short",  # a sentence under 40 characters ("Unlikely.", "It's about the same.")
    "novel",  # the rarest word the sentence adds to the question (its IDF over the corpus maximum)
    "headline",  # the article's title, quoted as a sentence: it sums up the story and repeats its words
)
_BM25_K1, _BM25_B, _BM25_AVGDL = 1.2, 0.75, 18.0
_SHORT = 40


@dataclass(frozen=True)
class Candidate:
    sentence: int  # index into the index's sentence list
    passage_rank: int  # the best-ranked retrieved passage that contains it
    start: int
    end: int
    text: str
    features: np.ndarray  # one value per SENTENCE_FEATURES name
    vector: np.ndarray
    coverage: np.ndarray  # per focus word (in Retrieval.focus order): its best token cosine here


class FeatureBuilder:
    """Builds candidate rows from the live generation's sentences."""

    def __init__(self, index: IndexReader):
        self.index = index

    def candidates(self, question: str, retrieval: Retrieval, kind: str) -> list[Candidate]:
        """Every quotable sentence of the retrieved passages, once, under its best-ranked passage."""
        focus_weights = np.array(list(retrieval.focus.values()), dtype=np.float32)
        seen: set[int] = set()
        found = []
        lexicon = self.index.lexicon
        everything = sorted({i for ids in retrieval.sentence_ids for i in ids})
        fetched = dict(zip(everything, self.index.sentences(everything), strict=True))  # one read from the store
        for rank, (passage, ids) in enumerate(zip(retrieval.passages, retrieval.sentence_ids, strict=True)):
            records = [fetched[i] for i in ids]
            sims = [float(r.vector @ retrieval.vector) for r in records]
            rows = [lexicon.sentence(i) for i in ids]
            faq = passage.chunk.kind == "faq"
            faq_question = max((s for row, s in zip(rows, sims, strict=True) if not row.quotable),
                               default=0.0) if faq else 0.0
            answered = 0  # answer sentences of this FAQ entry seen so far
            for i, row, record, sim in zip(ids, rows, records, sims, strict=True):
                if not row.quotable or i in seen:
                    continue
                seen.add(i)
                sentence = record.text
                sentence_terms = record.terms
                coverage = self._coverage(retrieval, record.tokens, sentence_terms)
                features = {
                    "dense": sim,
                    "overlap": _share(retrieval.term_weights, sentence_terms),
                    "focus": _share(retrieval.focus, sentence_terms),
                    "bm25": self._bm25(retrieval.term_weights, sentence_terms),
                    "align": float(coverage @ focus_weights / focus_weights.sum()) if len(coverage) else 1.0,
                    "align_min": float(coverage.min()) if len(coverage) else 1.0,
                    "type_fit": float(kind != "open" and fits(kind, sentence, question)),
                    "type_miss": float(kind != "open" and not fits(kind, sentence, question)),
                    "passage": passage.score,
                    "faq_question": faq_question,
                    "faq_first": float(faq and answered == 0),
                    "faq_lead": faq_question if faq and answered == 0 else 0.0,
                    "short": float(len(sentence) < _SHORT),
                    "novel": max((retrieval.idf(t) for t in sentence_terms if t not in retrieval.term_weights),
                                 default=0.0) / retrieval.unseen_idf,
                    "headline": float(sentence == passage.chunk.title),
                }
                answered += faq
                found.append(Candidate(i, rank, row.start, row.end, sentence,
                                       np.array([features[name] for name in SENTENCE_FEATURES], dtype=np.float32),
                                       record.vector, coverage))
        return found

    @staticmethod
    def _coverage(retrieval: Retrieval, tokens: np.ndarray, sentence_terms: list[str]) -> np.ndarray:
        """Per focus word: 1 when the sentence uses the word itself, else its best token cosine."""
        if not len(retrieval.focus_vectors) or not len(tokens):
            return np.zeros(len(retrieval.focus_vectors), dtype=np.float32)
        aligned = (retrieval.focus_vectors @ tokens.T).max(axis=1)
        present = np.array([t in sentence_terms for t in retrieval.focus], dtype=bool)
        return np.where(present, 1.0, aligned).astype(np.float32)

    @staticmethod
    def _bm25(weights: dict[str, float], sentence_terms: list[str]) -> float:
        if not weights:
            return 0.0
        length = len(sentence_terms)
        norm = _BM25_K1 * (1 - _BM25_B + _BM25_B * length / _BM25_AVGDL)
        score = sum(idf * (tf := sentence_terms.count(t)) * (_BM25_K1 + 1) / (tf + norm)
                    for t, idf in weights.items() if t in sentence_terms)
        return score / (sum(weights.values()) * (_BM25_K1 + 1))


def _share(weights: dict[str, float], sentence_terms: list[str]) -> float:
    """The IDF-weighted share of `weights`' terms found in the sentence (1 when there are none)."""
    total = sum(weights.values())
    if not total:
        return 1.0
    present = set(sentence_terms)
    return sum(w for t, w in weights.items() if t in present) / total
