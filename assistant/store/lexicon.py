"""What a reader keeps in memory for one generation, derived at ingest and saved in the store, so
that opening an index loads it instead of rebuilding it (the first question costs like the next):

- the chunk and sentence tables: where each one is (article, offsets, kind, quotable), and which
  sentences each chunk holds; not their texts or vectors, which stay in their Chroma records;
- term postings (which chunks use each term, how often), from which BM25 and coverage are summed
  over the question's terms alone, never over every chunk;
- the speller's vocabulary (each word's count and usual spelling), the cast (people.cast) and the
  words the site sets against each other (contrasts.contrasts, which the grounding check reads).

Serialised as one npz of arrays plus a JSON of strings (no pickle: another machine reads it).
This module derives and stores; answering/retrieve.py ranks with it.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..text.contrasts import VERSION as CONTRASTS_VERSION
from ..text.contrasts import contrasts, opposed
from ..text.people import Cast, cast
from ..text.terms import terms
from ..types import Article, Chunk

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
    sentence_quotable: np.ndarray  # bool: as the chunker judged the sentence alone
    members: np.ndarray  # int64: each chunk's sentences, flattened (a chunk with none: the sentinel len(sentences))
    member_offsets: np.ndarray  # int64: where each chunk's run starts in `members`
    vocabulary: list[str]  # the chunks' terms
    term_offsets: np.ndarray  # int64: term i's postings are post_chunk[term_offsets[i]:term_offsets[i + 1]]
    post_chunk: np.ndarray  # int32
    post_tf: np.ndarray  # float32
    words: list[str]  # the speller's vocabulary: raw words, lower-cased
    word_counts: np.ndarray  # int64
    forms: list[str]  # the same words as written ("LeCun", "lecun")
    form_counts: np.ndarray  # int64
    cast: Cast
    # "directori file": two stems the articles set against each other; None in a lexicon saved
    # before it had them, or by another version of contrasts.py (the next ingest builds it again)
    contrasts: list[str] | None
    # bool: the site's boilerplate (`repeated`), read from all its pages at each ingest; never quoted
    sentence_repeated: np.ndarray | None = None

    def __post_init__(self) -> None:
        repeated = self.sentence_repeated if self.sentence_repeated is not None else False
        self.quotable = self.sentence_quotable & ~np.asarray(repeated, dtype=bool)
        self.contrast = opposed(tuple(pair.split()) for pair in self.contrasts or ())
        self.term_index = {t: i for i, t in enumerate(self.vocabulary)}
        self.word_count = dict(zip(self.words, self.word_counts.tolist(), strict=True))
        self.form_count = dict(zip(self.forms, self.form_counts.tolist(), strict=True))
        self.names = names(self.word_count, self.form_count)
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
                           int(self.sentence_end[i]), bool(self.quotable[i]))

    # -- storing -------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        strings = {"doc_ids": self.doc_ids, "doc_titles": self.doc_titles, "chunk_ids": self.chunk_ids,
                   "chunk_section": self.chunk_section, "sentence_ids": self.sentence_ids,
                   "vocabulary": self.vocabulary, "words": self.words, "forms": self.forms,
                   "subject": self.cast.subject, "people": sorted(self.cast.people), "topic": self.cast.topic,
                   "contrasts": self.contrasts,
                   "contrasts_version": CONTRASTS_VERSION}
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        if self.sentence_repeated is not None:
            arrays["sentence_repeated"] = self.sentence_repeated
        buffer = io.BytesIO()
        np.savez_compressed(buffer, strings=np.frombuffer(json.dumps(strings).encode(), dtype=np.uint8), **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Lexicon:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            strings = json.loads(npz["strings"].tobytes().decode())
            if strings.pop("contrasts_version", 0) != CONTRASTS_VERSION:
                strings["contrasts"] = None
            arrays = {name: npz[name] for name in _ARRAYS}
            repeated = npz["sentence_repeated"] if "sentence_repeated" in npz.files else None
        who = Cast(strings.pop("subject"), frozenset(strings.pop("people")), strings.pop("topic", ""))
        return cls(**strings, **arrays, cast=who, sentence_repeated=repeated)


_ARRAYS = ("chunk_doc", "chunk_faq", "chunk_start", "chunk_end", "chunk_length", "sentence_doc", "sentence_start",
           "sentence_end", "sentence_quotable", "members", "member_offsets", "term_offsets", "post_chunk",
           "post_tf", "word_counts", "form_counts")


def build_lexicon(articles: Sequence[Article], fresh: Mapping[str, tuple[Sequence[Chunk], Sequence[Row]]],
                  previous: Lexicon | None = None, dropped: Iterable[Chunk] = ()) -> Lexicon:
    """The lexicon of a generation of `articles` (in order). `fresh` holds the chunks and sentences
    (id, start, end, quotable) of each new or changed article, in reading order; every other
    article is taken from `previous` as it was, without reading its text again, and `dropped` are
    the previous chunks of changed and removed articles, whose words leave the speller's counts.
    The result is the same as building from scratch."""
    kept = _Kept(previous) if previous else None
    parts = []
    for article in articles:
        if article.doc_id in fresh:
            parts.append(_fresh_part(*fresh[article.doc_id]))
        elif kept is not None:
            parts.append(kept.part(article.doc_id))
        else:
            raise ValueError(f"{article.doc_id} is neither fresh nor in a previous lexicon")
    chunk_base = np.cumsum([0] + [len(p.chunk_ids) for p in parts])
    sentence_base = np.cumsum([0] + [len(p.sentence_ids) for p in parts])
    sentinel = int(sentence_base[-1])
    members = [np.where(p.members < 0, sentinel, p.members + sentence_base[d]) for d, p in enumerate(parts)]
    runs = [np.diff(np.append(p.member_offsets, len(p.members))) for p in parts]
    # Postings: (term, chunk, tf) of every chunk, grouped by term, chunks in order within each. A
    # part's terms index its own term list (kept parts share the previous vocabulary): the new
    # vocabulary is the terms some posting uses.
    lists = {id(p.terms): p.terms for p in parts}
    used = {key: np.unique(np.concatenate([p.post_term for p in parts if id(p.terms) == key])) for key in lists}
    vocabulary = sorted({lists[key][i] for key, ids in used.items() for i in ids.tolist()})
    index = {t: i for i, t in enumerate(vocabulary)}
    remap = {}
    for key, ids in used.items():
        remap[key] = np.full(len(lists[key]), -1, dtype=np.int64)
        remap[key][ids] = [index[lists[key][i]] for i in ids.tolist()]
    post_term = _joined([remap[id(p.terms)][p.post_term] for p in parts], np.int64)
    post_chunk = _joined([p.post_chunk + chunk_base[d] for d, p in enumerate(parts)], np.int64)
    post_tf = _joined([p.post_tf for p in parts], np.float32)
    order = np.lexsort((post_chunk, post_term))
    words = Counter(previous.word_count) if previous else Counter()
    forms = Counter(previous.form_count) if previous else Counter()
    _tally((chunk_words(c) for c in dropped), words, forms, -1)
    _tally((chunk_words(c) for chunks, _ in fresh.values() for c in chunks), words, forms, 1)
    words, forms = +words, +forms  # drop words no longer used
    sentence_doc = np.repeat(np.arange(len(parts), dtype=np.int32), [len(p.sentence_ids) for p in parts])
    sentence_start = _joined([p.sentence_start for p in parts], np.int32)
    sentence_end = _joined([p.sentence_end for p in parts], np.int32)
    return Lexicon(
        doc_ids=[a.doc_id for a in articles],
        doc_titles=[a.title for a in articles],
        chunk_ids=[c for p in parts for c in p.chunk_ids],
        chunk_doc=np.repeat(np.arange(len(parts), dtype=np.int32), [len(p.chunk_ids) for p in parts]),
        chunk_section=[c for p in parts for c in p.chunk_section],
        chunk_faq=_joined([p.chunk_faq for p in parts], bool),
        chunk_start=_joined([p.chunk_start for p in parts], np.int32),
        chunk_end=_joined([p.chunk_end for p in parts], np.int32),
        chunk_length=_joined([p.chunk_length for p in parts], np.float32),
        sentence_ids=[i for p in parts for i in p.sentence_ids],
        sentence_doc=sentence_doc,
        sentence_start=sentence_start,
        sentence_end=sentence_end,
        sentence_quotable=_joined([p.sentence_quotable for p in parts], bool),
        members=_joined(members, np.int64),
        member_offsets=np.concatenate([[0], np.cumsum(np.concatenate(runs or [np.zeros(0, np.int64)]))])[:-1]
        .astype(np.int64),
        vocabulary=vocabulary,
        term_offsets=np.searchsorted(post_term[order], np.arange(len(vocabulary) + 1)).astype(np.int64),
        post_chunk=post_chunk[order].astype(np.int32),
        post_tf=post_tf[order].astype(np.float32),
        words=sorted(words),
        word_counts=np.array([words[w] for w in sorted(words)], dtype=np.int64),
        forms=sorted(forms),
        form_counts=np.array([forms[w] for w in sorted(forms)], dtype=np.int64),
        cast=cast((a.text for a in articles), [a.title for a in articles]),
        contrasts=[f"{a} {b}" for a, b in contrasts(
            (a.text for a in articles), [[a.title for a in articles]] + [p.chunk_section for p in parts])],
        sentence_repeated=repeated([a.text for a in articles], sentence_doc, sentence_start, sentence_end),
    )


# A sentence that opens or closes this many of a site's pages, in the same words, is its boilerplate.
REPEATED_PAGES = 3
# How far from a page's start or end boilerplate sits: its first and last sentences.
EDGE_SENTENCES = 5


def repeated(texts: Sequence[str], doc: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The sentences a site repeats at the edges of its pages: a disclaimer, a byline's pattern, a
    "Generated by" line, a newsletter pitch. Found by repetition and place, not by their words: a
    sentence among the first or last few of at least REPEATED_PAGES pages, the same on each."""
    marked = np.zeros(len(start), dtype=bool)
    if len(texts) < REPEATED_PAGES:
        return marked
    bounds = np.searchsorted(doc, np.arange(len(texts) + 1))
    edges: dict[str, list[int]] = {}
    for d, text in enumerate(texts):
        first, last = int(bounds[d]), int(bounds[d + 1])
        for i in {*range(first, min(first + EDGE_SENTENCES, last)), *range(max(last - EDGE_SENTENCES, first), last)}:
            said = " ".join(text[start[i]:end[i]].lower().split())
            edges.setdefault(said, []).append(i)
    for where in edges.values():
        if len({int(doc[i]) for i in where}) >= REPEATED_PAGES:
            marked[where] = True
    return marked


Row = tuple[str, int, int, bool]  # a sentence: (record id, start, end, quotable)


def chunk_words(chunk: Chunk) -> str:
    """What keyword search and the speller read of a chunk: its title, section and text."""
    return f"{chunk.title} {chunk.section} {chunk.text}"


@dataclass
class _Part:
    """One article's share of a lexicon, positions counted from its own first chunk and sentence."""

    chunk_ids: list[str]
    chunk_section: list[str]
    chunk_faq: np.ndarray
    chunk_start: np.ndarray
    chunk_end: np.ndarray
    chunk_length: np.ndarray
    sentence_ids: list[str]
    sentence_start: np.ndarray
    sentence_end: np.ndarray
    sentence_quotable: np.ndarray
    members: np.ndarray  # -1: the chunk holds no sentence
    member_offsets: np.ndarray
    terms: list[str]  # the terms post_term indexes
    post_term: np.ndarray
    post_chunk: np.ndarray
    post_tf: np.ndarray


def _fresh_part(chunks: Sequence[Chunk], rows: Sequence[Row]) -> _Part:
    counts = [Counter(terms(chunk_words(c))) for c in chunks]
    vocabulary = sorted({t for c in counts for t in c})
    index = {t: i for i, t in enumerate(vocabulary)}
    triples = [(index[t], i, tf) for i, c in enumerate(counts) for t, tf in c.items()]
    members: list[int] = []
    offsets: list[int] = []
    for chunk in chunks:
        offsets.append(len(members))
        inside = [i for i, (_, start, end, _) in enumerate(rows) if start >= chunk.start and end <= chunk.end]
        members.extend(inside or [-1])
    return _Part(
        chunk_ids=[c.id for c in chunks], chunk_section=[c.section for c in chunks],
        chunk_faq=np.array([c.kind == "faq" for c in chunks], dtype=bool),
        chunk_start=np.array([c.start for c in chunks], dtype=np.int32),
        chunk_end=np.array([c.end for c in chunks], dtype=np.int32),
        chunk_length=np.array([max(sum(c.values()), 1) for c in counts], dtype=np.float32),
        sentence_ids=[r[0] for r in rows], sentence_start=np.array([r[1] for r in rows], dtype=np.int32),
        sentence_end=np.array([r[2] for r in rows], dtype=np.int32),
        sentence_quotable=np.array([r[3] for r in rows], dtype=bool),
        members=np.array(members, dtype=np.int64), member_offsets=np.array(offsets, dtype=np.int64),
        terms=vocabulary, post_term=np.array([t for t, _, _ in triples], dtype=np.int64),
        post_chunk=np.array([c for _, c, _ in triples], dtype=np.int64),
        post_tf=np.array([tf for _, _, tf in triples], dtype=np.float32),
    )


class _Kept:
    """Cuts unchanged articles' shares out of the previous lexicon (its postings sorted by chunk
    once, so each cut is a slice)."""

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        self.doc = {d: i for i, d in enumerate(lexicon.doc_ids)}
        by_chunk = np.argsort(lexicon.post_chunk, kind="stable")
        self.post_chunk = lexicon.post_chunk[by_chunk].astype(np.int64)
        self.post_term = np.repeat(np.arange(len(lexicon.vocabulary)), np.diff(lexicon.term_offsets))[by_chunk]
        self.post_tf = lexicon.post_tf[by_chunk]

    def part(self, doc_id: str) -> _Part:
        lexicon = self.lexicon
        old = self.doc[doc_id]
        c0, c1 = np.searchsorted(lexicon.chunk_doc, [old, old + 1]).tolist()
        s0, s1 = np.searchsorted(lexicon.sentence_doc, [old, old + 1]).tolist()
        m0 = int(lexicon.member_offsets[c0]) if c0 < len(lexicon.member_offsets) else len(lexicon.members)
        m1 = int(lexicon.member_offsets[c1]) if c1 < len(lexicon.member_offsets) else len(lexicon.members)
        p0, p1 = np.searchsorted(self.post_chunk, [c0, c1]).tolist()
        members = lexicon.members[m0:m1]
        return _Part(
            chunk_ids=lexicon.chunk_ids[c0:c1], chunk_section=lexicon.chunk_section[c0:c1],
            chunk_faq=lexicon.chunk_faq[c0:c1], chunk_start=lexicon.chunk_start[c0:c1],
            chunk_end=lexicon.chunk_end[c0:c1], chunk_length=lexicon.chunk_length[c0:c1],
            sentence_ids=lexicon.sentence_ids[s0:s1], sentence_start=lexicon.sentence_start[s0:s1],
            sentence_end=lexicon.sentence_end[s0:s1], sentence_quotable=lexicon.sentence_quotable[s0:s1],
            members=np.where(members == len(lexicon.sentence_ids), -1, members - s0),
            member_offsets=lexicon.member_offsets[c0:c1] - m0,
            terms=lexicon.vocabulary, post_term=self.post_term[p0:p1],
            post_chunk=self.post_chunk[p0:p1] - c0, post_tf=self.post_tf[p0:p1],
        )


def _joined(arrays: Sequence[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype) if arrays else np.zeros(0, dtype=dtype)


def spelling_vocabulary(texts: Iterable[str]) -> tuple[Counter[str], dict[str, str]]:
    """Every word of the texts (lower-cased) with its count, and the names among them (`names`)."""
    words: Counter[str] = Counter()
    forms: Counter[str] = Counter()
    _tally(texts, words, forms, 1)
    return words, names(words, forms)


def _tally(texts: Iterable[str], words: Counter[str], forms: Counter[str], step: int) -> None:
    """Add `step` to the count of every word of the texts, lower-cased (`words`) and as written (`forms`)."""
    for text in texts:
        for word in RAW_WORD.findall(text):
            words[word.lower()] += step
            forms[word] += step


def names(words: Mapping[str, int], forms: Mapping[str, int]) -> dict[str, str]:
    """A word the texts mostly write capitalised, with its usual spelling ("lecun": "LeCun")."""
    return {w.lower(): w for w, n in forms.items() if w[0].isupper() and n * 2 > words[w.lower()]}
