"""Retrieval: six signals per chunk, fused into one ranking by a weighted sum.

- dense: cosine of the query to each chunk's embedding (Chroma, through llama-index);
- sentence: the best cosine of the query to any sentence inside the chunk, which finds the one
  precise sentence a long chunk would dilute; quotable: the same over the sentences an answer may
  quote (not a FAQ question, not a headline);
- keyword: BM25 (bm25s) over the chunk text with its title and section, for names and numbers;
- coverage: the IDF-weighted share of the question's words the chunk contains;
- faq: 1 for a FAQ entry.
The weights are fitted on bench/tuning.yaml by bench/fit_fusion.py (which prints them) and scaled
to sum to 1, so a fused score reads like a cosine. This module also measures how much of the
question the best passages cover, which the answerer's refusal rule reads; it does not decide.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import Settings
from .embeddings import Tokens
from .people import Cast, cast
from .store import IndexReader
from .terms import QUESTION_FILLER, STOPWORDS, stem, terms
from .terms import WORD as _WORD
from .types import Chunk, Passage

SIGNALS = ("dense", "sentence", "quotable", "keyword", "coverage", "faq")
# Fitted: `python bench/fit_fusion.py` (conditional logit on the tuning questions, l2 0.001).
WEIGHTS = {"dense": 0.198, "sentence": 0.217, "quotable": 0.196, "keyword": 0.280, "coverage": 0.094, "faq": 0.016}
_CANDIDATES = 30
_FILLER = frozenset(stem(w) for w in QUESTION_FILLER)
_RAW_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_CONTEXT = re.compile(r"\s*\(.*\)\s*$")  # a follow-up's earlier question, appended by chat.contextualize


@dataclass(frozen=True)
class Retrieval:
    query: str
    vector: np.ndarray
    passages: list[Passage]
    # For each passage, the indices (into the index's sentence list) of the sentences inside it.
    sentence_ids: list[list[int]]
    # Signals for the refusal rule: how well the best evidence matches the question.
    best_sentence: float
    best_dense: float
    coverage: float
    # Each distinct query term with its IDF weight: rare words say more about what is asked.
    term_weights: dict[str, float]
    # The question's focus: its terms other than the articles' subject ("born" in "Where was LeCun
    # born?"), with their IDF, and one token vector per focus word (from the query's own tokens).
    focus: dict[str, float]
    focus_vectors: np.ndarray
    # The corpus' IDF of every term it uses (shared, not copied), and that of a term it never uses
    # (the largest there is).
    corpus_idf: dict[str, float]
    unseen_idf: float
    # The question names someone or something (a capitalised word) the articles never mention.
    unknown_name: bool

    def idf(self, term: str) -> float:
        return self.corpus_idf.get(term, self.unseen_idf)

    @property
    def strength(self) -> float:
        """The best match at either grain: one sentence, or a whole passage."""
        return max(self.best_sentence, self.best_dense)


class KeywordIndex:
    """BM25 over one generation's chunks, plus the document frequencies used for coverage."""

    def __init__(self, chunks: list[Chunk], sentences: list[tuple[str, int, int, bool]]):
        # bm25s is imported here so that `assistant --help` stays instant.
        import bm25s

        self.chunks = chunks
        self.chunk_terms = [set(terms(f"{c.title} {c.section} {c.text}")) for c in chunks]
        self._bm25 = bm25s.BM25()
        self._bm25.index([terms(f"{c.title} {c.section} {c.text}") or ["_"] for c in chunks],
                         show_progress=False)
        # Which chunks use each term: a question's coverage of every chunk is a sum over its terms'
        # postings, not a loop over the chunks.
        postings: dict[str, list[int]] = {}
        for i, ts in enumerate(self.chunk_terms):
            for t in ts:
                postings.setdefault(t, []).append(i)
        self.postings = {t: np.array(ids, dtype=np.int64) for t, ids in postings.items()}
        df = Counter({t: len(ids) for t, ids in postings.items()})
        n = max(len(chunks), 1)
        self.idf = {t: math.log(1 + n / f) for t, f in df.items()}
        self.unseen_idf = math.log(1 + n)
        self.sentence_members = _sentence_members(chunks, sentences)
        self.spelling = Speller(f"{c.title} {c.section} {c.text}" for c in chunks)
        self.no_sentence = len(sentences)
        self.quotable = np.array([q for *_, q in sentences] + [False], dtype=bool)

    def scores(self, query_terms: list[str]) -> np.ndarray:
        known = [t for t in query_terms if t in self.idf]
        if not known:
            return np.zeros(len(self.chunks), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def sentences_of(self, chunk_index: int) -> list[int]:
        members, offsets = self.sentence_members
        end = offsets[chunk_index + 1] if chunk_index + 1 < len(offsets) else len(members)
        return [int(i) for i in members[offsets[chunk_index]:end] if i != self.no_sentence]

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.unseen_idf)

    def coverage(self, weights: dict[str, float]) -> np.ndarray:
        """Per chunk, the weighted share of the question's terms it uses."""
        covered = np.zeros(len(self.chunks), dtype=np.float32)
        for term, weight in weights.items():
            if term in self.postings:
                covered[self.postings[term]] += weight
        return covered / (sum(weights.values()) or 1.0)


class Speller:
    """Corrects a query word that is neither the articles' nor English ("reserch", "wolrd",
    "LeCunn") to the word the articles use one edit away (a swap of neighbours counts as one); the
    most frequent such word wins. An English word is never changed, though it may be one edit from
    the articles' ("readers" is not "leaders"); a capitalised word only becomes a name, so a
    misspelt name finds its usual spelling ("Benjio": "Bengio"). Candidates come from a deletion
    index (SymSpell's idea), so nothing scans the vocabulary."""

    min_length = 5

    def __init__(self, texts: Iterable[str]):
        counts: Counter[str] = Counter()
        forms: Counter[str] = Counter()
        for text in texts:
            for word in _RAW_WORD.findall(text):
                counts[word.lower()] += 1
                forms[word] += 1
        self.counts = counts
        # A name is a word the articles mostly write capitalised; its usual spelling ("LeCun").
        self.names = {w.lower(): w for w, n in forms.most_common() if w[0].isupper() and n * 2 > counts[w.lower()]}
        self._deletes: dict[str, list[str]] = {}
        for word in counts:
            for key in _deletes(word):
                self._deletes.setdefault(key, []).append(word)

    def correct(self, text: str) -> str:
        return _RAW_WORD.sub(lambda m: self._word(m.group(0)), text)

    def unknown_name(self, text: str) -> bool:
        """A capitalised word, not the first of the text, that the articles never use."""
        words = _RAW_WORD.findall(text)[1:]
        return any(w[0].isupper() and w.lower() not in self.counts and w.lower() not in STOPWORDS for w in words)

    def _word(self, word: str) -> str:
        lower = word.lower()
        if len(word) < self.min_length or lower in self.counts or not word.isalpha():
            return word
        found = {c for key in _deletes(lower) for c in self._deletes.get(key, ())
                 if _one_edit(lower, c) and (not word[0].isupper() or c in self.names)}
        if not found or _english(lower):
            return word
        best = max(sorted(found), key=lambda c: self.counts[c])
        return self.names[best] if word[0].isupper() else best


def _deletes(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


def _one_edit(a: str, b: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours turns `a` into `b`."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


@functools.lru_cache(maxsize=1)
def _dictionary() -> Any:
    # pyspellchecker's English word list (package data, loaded in about 0.3 s): only when a word
    # might be a misspelling of the articles' vocabulary.
    from spellchecker import SpellChecker

    return SpellChecker(language="en", distance=1)


def _english(word: str) -> bool:
    return word in _dictionary()


def _sentence_members(chunks: list[Chunk], sentences: list[tuple[str, int, int, bool]]
                      ) -> tuple[np.ndarray, np.ndarray]:
    """For `np.maximum.reduceat`: the sentence indices inside each chunk, flattened, and where each
    chunk's run starts. A chunk with no sentence points at the sentinel index len(sentences)."""
    by_doc: dict[str, list[tuple[int, int, int]]] = {}
    for i, (doc_id, start, end, _) in enumerate(sentences):
        by_doc.setdefault(doc_id, []).append((start, end, i))
    members: list[int] = []
    offsets: list[int] = []
    for chunk in chunks:
        offsets.append(len(members))
        inside = [i for start, end, i in by_doc.get(chunk.doc_id, ()) if start >= chunk.start and end <= chunk.end]
        members.extend(inside or [len(sentences)])
    return np.asarray(members, dtype=np.int64), np.asarray(offsets, dtype=np.int64)


class Retriever:
    def __init__(self, index: IndexReader, settings: Settings):
        self.index = index
        self.settings = settings
        self._keywords: KeywordIndex | None = None
        self._generation = ""
        self._cast: tuple[str, Cast] = ("", Cast())

    @property
    def keywords(self) -> KeywordIndex:
        if self._keywords is None or self._generation != self.index.manifest.generation:
            self._keywords = KeywordIndex(self.index.chunks(), self.index.sentences)
            self._generation = self.index.manifest.generation
        return self._keywords

    def cast(self) -> Cast:
        """Who the indexed articles are about (people.cast), computed once per generation."""
        generation = self.index.manifest.generation
        if self._cast[0] != generation:
            self._cast = (generation, cast(a.text for a in self.index.articles()))
        return self._cast[1]

    def retrieve(self, query: str) -> Retrieval:
        query = self.keywords.spelling.correct(query)
        vectors, tokens = self.index.embedder.embed_tokens([query])
        vector = vectors[0]
        chunks = self.index.chunks()
        query_terms = terms(query)
        weights = self.term_weights(query_terms)
        focus, focus_vectors = self._focus(query, tokens[0], weights)
        signals = self.signals(vector, query_terms)
        fused = signals @ np.array([WEIGHTS[name] for name in SIGNALS], dtype=np.float32)
        order = np.argsort(-fused)[: self.settings.top_k]
        passages = [Passage(chunks[i], float(fused[i])) for i in order]
        column = {name: signals[:, j] for j, name in enumerate(SIGNALS)}
        return Retrieval(
            query=query,
            vector=vector,
            passages=passages,
            sentence_ids=[self.keywords.sentences_of(int(i)) for i in order],
            best_sentence=float(column["sentence"].max()) if len(chunks) else 0.0,
            best_dense=float(column["dense"].max()) if len(chunks) else 0.0,
            # Measured on the passages that match the meaning best: the fused order already favours
            # passages that share the question's words, which would make coverage circular.
            coverage=self._coverage(weights, np.argsort(-(column["dense"] + column["sentence"]))[:2]),
            term_weights=weights,
            focus=focus,
            focus_vectors=focus_vectors,
            corpus_idf=self.keywords.idf,
            unseen_idf=self.keywords.unseen_idf,
            unknown_name=self.keywords.spelling.unknown_name(_CONTEXT.sub("", query)),
        )

    def _focus(self, query: str, tokens: Tokens, weights: dict[str, float]) -> tuple[dict[str, float], np.ndarray]:
        """The focus words of the question as asked (a follow-up's context, in parentheses at the
        end, is left out), each with its IDF and the mean vector of its tokens."""
        subject = {stem(w) for w in self.cast().subject_names().lower().split()} | _FILLER
        asked = _CONTEXT.sub("", query)
        focus: dict[str, float] = {}
        rows = []
        for match in _WORD.finditer(asked.lower().replace("’", "'")):
            term = stem(match.group(0))
            if term not in weights or term in subject or term in focus:
                continue
            inside = (tokens.spans[:, 0] < match.end()) & (tokens.spans[:, 1] > match.start())
            if inside.any():
                focus[term] = weights[term]
                rows.append(tokens.vectors[inside].mean(axis=0))
        return focus, (np.stack(rows) if rows else np.zeros((0, tokens.vectors.shape[1]), dtype=np.float32))

    def signals(self, vector: np.ndarray, query_terms: list[str]) -> np.ndarray:
        """One row per chunk, one column per name in SIGNALS, each on a 0..1 scale."""
        chunks = self.index.chunks()
        position = {c.id: i for i, c in enumerate(chunks)}
        dense = np.zeros(len(chunks), dtype=np.float32)
        dense_hits = self.index.dense(vector, max(_CANDIDATES, self.settings.top_k))
        for chunk, cosine in dense_hits:
            dense[position[chunk.id]] = cosine
        floor = min((cosine for _, cosine in dense_hits), default=0.0)
        dense[dense == 0] = floor  # chunks beyond the dense candidates rank as the last one did
        sentence, quotable = self._best_sentence_per_chunk(vector)
        keyword = self.keywords.scores(query_terms)
        keyword_scaled = keyword / keyword.max() if keyword.max() > 0 else keyword
        faq = np.array([c.kind == "faq" for c in chunks], dtype=np.float32)
        weights = self.term_weights(query_terms)
        coverage = self.keywords.coverage(weights)
        columns = {"dense": dense, "sentence": np.clip(sentence, 0, 1), "quotable": np.clip(quotable, 0, 1),
                   "keyword": keyword_scaled, "coverage": coverage, "faq": faq}
        return np.stack([columns[name] for name in SIGNALS], axis=1).astype(np.float32)

    def term_weights(self, query_terms: list[str]) -> dict[str, float]:
        """Each distinct query term with its IDF (a word no article uses weighs most)."""
        return {t: self.keywords.weight(t) for t in query_terms}

    def _best_sentence_per_chunk(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per chunk: the best cosine of any sentence in it, and of any quotable one (not a FAQ
        question or a headline)."""
        n = len(self.index.chunks())
        if not len(self.index.sentences):
            return np.full(n, -1.0, dtype=np.float32), np.full(n, -1.0, dtype=np.float32)
        sims = np.append(self.index.sentence_vectors @ vector, -1.0).astype(np.float32)
        quotable = np.where(self.keywords.quotable, sims, -1.0).astype(np.float32)
        members, offsets = self.keywords.sentence_members
        return np.maximum.reduceat(sims[members], offsets), np.maximum.reduceat(quotable[members], offsets)

    def _coverage(self, weights: dict[str, float], chunk_indices: Iterable[int]) -> float:
        """The IDF-weighted share of the question's terms found in these chunks together."""
        found = set().union(*(self.keywords.chunk_terms[i] for i in chunk_indices))
        return sum(w for t, w in weights.items() if t in found) / (sum(weights.values()) or 1.0)
