"""What a reader keeps in memory for one generation, derived at ingest and saved in the store, so
that opening an index loads it instead of rebuilding it (the first question costs like the next):

- the chunk and sentence tables: where each one is (article, offsets, kind, quotable), and which
  sentences each chunk holds; not their texts or vectors, which stay in their Chroma records;
- term postings (which chunks use each term, how often), from which BM25 and coverage are summed
  over the question's terms alone, never over every chunk;
- the speller's vocabulary (each word's count and usual spelling) and the cast (people.cast).

Serialised as one npz of arrays plus a JSON of strings (no pickle: another machine reads it).
This module derives and stores; retrieve.py ranks with it.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .people import Cast, cast
from .terms import terms
from .types import Article, Chunk

# bm25s's defaults ("lucene"), which the keyword signal was fitted with.
BM25_K1, BM25_B = 1.5, 0.75
RAW_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


@dataclass(frozen=True)
class SentenceRow:
    """One sentence of the generation: its record id in the store and its place."""

    id: str
    doc: int  # index into Lexicon.doc_ids
    start: int
    end: int
    quotable: bool


@dataclass
class Lexicon:
    doc_ids: list[str]
    doc_titles: list[str]
    chunk_ids: list[str]
    chunk_doc: np.ndarray  # int32, index into doc_ids
    chunk_section: list[str]
    chunk_faq: np.ndarray  # bool
    chunk_start: np.ndarray  # int32
    chunk_end: np.ndarray  # int32
    chunk_length: np.ndarray  # float32: terms in the chunk's title, section and text (BM25's document length)
    sentence_ids: list[str]
    sentence_doc: np.ndarray  # int32
    sentence_start: np.ndarray  # int32
    sentence_end: np.ndarray  # int32
    sentence_quotable: np.ndarray  # bool
    members: np.ndarray  # int64: each chunk's sentences, flattened (a chunk with none: the sentinel len(sentences))
    member_offsets: np.ndarray  # int64: where each chunk's run starts in `members`
    vocabulary: list[str]  # the chunks' terms
    term_offsets: np.ndarray  # int64: term i's postings are post_chunk[term_offsets[i]:term_offsets[i + 1]]
    post_chunk: np.ndarray  # int32
    post_tf: np.ndarray  # float32
    words: list[str]  # the speller's vocabulary: raw words, lower-cased
    word_counts: np.ndarray  # int64
    names: dict[str, str]  # a word the articles mostly capitalise -> its usual spelling
    cast: Cast

    def __post_init__(self) -> None:
        self.term_index = {t: i for i, t in enumerate(self.vocabulary)}
        self.chunk_position = {c: i for i, c in enumerate(self.chunk_ids)}
        self.sentence_position = {s: i for i, s in enumerate(self.sentence_ids)}
        n = max(len(self.chunk_ids), 1)
        df = np.diff(self.term_offsets).astype(np.float64)
        self.idf = dict(zip(self.vocabulary, np.log1p(n / np.maximum(df, 1)).tolist(), strict=True))
        self.unseen_idf = math.log(1 + n)
        self._bm25_idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        self._average_length = float(self.chunk_length.mean()) if len(self.chunk_length) else 1.0

    # -- reading -------------------------------------------------------------------------------

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The chunks that use `term` and how often."""
        i = self.term_index.get(term)
        if i is None:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        lo, hi = self.term_offsets[i], self.term_offsets[i + 1]
        return self.post_chunk[lo:hi], self.post_tf[lo:hi]

    def bm25(self, query_terms: Sequence[str]) -> np.ndarray:
        """BM25 (bm25s's "lucene" variant, repeats of a query term counted) of every chunk, summed
        over the postings of the question's terms."""
        scores = np.zeros(len(self.chunk_ids), dtype=np.float32)
        for term in query_terms:
            i = self.term_index.get(term)
            if i is None:
                continue
            chunks, tf = self.postings(term)
            norm = BM25_K1 * (1 - BM25_B + BM25_B * self.chunk_length[chunks] / self._average_length)
            scores[chunks] += self._bm25_idf[i] * tf / (norm + tf)
        return scores

    def coverage(self, weights: dict[str, float]) -> np.ndarray:
        """Per chunk, the weighted share of the question's terms it uses."""
        covered = np.zeros(len(self.chunk_ids), dtype=np.float32)
        for term, weight in weights.items():
            covered[self.postings(term)[0]] += weight
        return covered / (sum(weights.values()) or 1.0)

    def sentences_of(self, chunk: int) -> list[int]:
        end = self.member_offsets[chunk + 1] if chunk + 1 < len(self.member_offsets) else len(self.members)
        return [int(i) for i in self.members[self.member_offsets[chunk]:end] if i != len(self.sentence_ids)]

    def sentence(self, i: int) -> SentenceRow:
        return SentenceRow(self.sentence_ids[i], int(self.sentence_doc[i]), int(self.sentence_start[i]),
                           int(self.sentence_end[i]), bool(self.sentence_quotable[i]))

    # -- storing -------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        strings = {"doc_ids": self.doc_ids, "doc_titles": self.doc_titles, "chunk_ids": self.chunk_ids,
                   "chunk_section": self.chunk_section, "sentence_ids": self.sentence_ids,
                   "vocabulary": self.vocabulary, "words": self.words, "names": self.names,
                   "subject": self.cast.subject, "people": sorted(self.cast.people)}
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        buffer = io.BytesIO()
        np.savez_compressed(buffer, strings=np.frombuffer(json.dumps(strings).encode(), dtype=np.uint8), **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Lexicon:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            strings = json.loads(npz["strings"].tobytes().decode())
            arrays = {name: npz[name] for name in _ARRAYS}
        who = Cast(strings.pop("subject"), frozenset(strings.pop("people")))
        return cls(**strings, **arrays, cast=who)


_ARRAYS = ("chunk_doc", "chunk_faq", "chunk_start", "chunk_end", "chunk_length", "sentence_doc", "sentence_start",
           "sentence_end", "sentence_quotable", "members", "member_offsets", "term_offsets", "post_chunk",
           "post_tf", "word_counts")


def build_lexicon(articles: Sequence[Article], chunks: Sequence[Sequence[Chunk]],
                  sentences: Sequence[Sequence[tuple[str, int, int, bool]]]) -> Lexicon:
    """The lexicon of a generation: `chunks[i]` and `sentences[i]` (id, start, end, quotable) are
    those of `articles[i]`, each in reading order."""
    flat = [c for per_article in chunks for c in per_article]
    chunk_doc = [d for d, per_article in enumerate(chunks) for _ in per_article]
    rows = [(d, *s) for d, per_article in enumerate(sentences) for s in per_article]
    chunk_terms = [Counter(terms(f"{c.title} {c.section} {c.text}")) for c in flat]
    postings: dict[str, list[tuple[int, int]]] = {}
    for i, counts in enumerate(chunk_terms):
        for term, tf in counts.items():
            postings.setdefault(term, []).append((i, tf))
    vocabulary = sorted(postings)
    pairs = [p for t in vocabulary for p in postings[t]]
    words, names = spelling_vocabulary(f"{c.title} {c.section} {c.text}" for c in flat)
    return Lexicon(
        doc_ids=[a.doc_id for a in articles],
        doc_titles=[a.title for a in articles],
        chunk_ids=[c.id for c in flat],
        chunk_doc=np.array(chunk_doc, dtype=np.int32),
        chunk_section=[c.section for c in flat],
        chunk_faq=np.array([c.kind == "faq" for c in flat], dtype=bool),
        chunk_start=np.array([c.start for c in flat], dtype=np.int32),
        chunk_end=np.array([c.end for c in flat], dtype=np.int32),
        chunk_length=np.array([max(sum(t.values()), 1) for t in chunk_terms], dtype=np.float32),
        sentence_ids=[r[1] for r in rows],
        sentence_doc=np.array([r[0] for r in rows], dtype=np.int32),
        sentence_start=np.array([r[2] for r in rows], dtype=np.int32),
        sentence_end=np.array([r[3] for r in rows], dtype=np.int32),
        sentence_quotable=np.array([r[4] for r in rows], dtype=bool),
        **_members(flat, chunk_doc, rows),
        vocabulary=vocabulary,
        term_offsets=np.concatenate([[0], np.cumsum([len(postings[t]) for t in vocabulary])]).astype(np.int64),
        post_chunk=np.array([i for i, _ in pairs], dtype=np.int32),
        post_tf=np.array([tf for _, tf in pairs], dtype=np.float32),
        words=list(words),
        word_counts=np.array(list(words.values()), dtype=np.int64),
        names=names,
        cast=cast(a.text for a in articles),
    )


def spelling_vocabulary(texts: Iterable[str]) -> tuple[Counter[str], dict[str, str]]:
    """Every word of the texts (lower-cased) with its count, and the names among them: a word the
    texts mostly write capitalised, with its usual spelling ("lecun": "LeCun")."""
    words: Counter[str] = Counter()
    forms: Counter[str] = Counter()
    for text in texts:
        for word in RAW_WORD.findall(text):
            words[word.lower()] += 1
            forms[word] += 1
    return words, {w.lower(): w for w, n in forms.most_common() if w[0].isupper() and n * 2 > words[w.lower()]}


def _members(chunks: Sequence[Chunk], chunk_doc: Sequence[int], rows: Sequence[tuple[int, str, int, int, bool]]
             ) -> dict[str, np.ndarray]:
    """For each chunk, the positions of the sentences inside it (`np.maximum.reduceat` reads them)."""
    by_doc: dict[int, list[tuple[int, int, int]]] = {}
    for i, (doc, _, start, end, _) in enumerate(rows):
        by_doc.setdefault(doc, []).append((start, end, i))
    members: list[int] = []
    offsets: list[int] = []
    for chunk, doc in zip(chunks, chunk_doc, strict=True):
        offsets.append(len(members))
        inside = [i for start, end, i in by_doc.get(doc, ()) if start >= chunk.start and end <= chunk.end]
        members.extend(inside or [len(rows)])
    return {"members": np.asarray(members, dtype=np.int64), "member_offsets": np.asarray(offsets, dtype=np.int64)}
