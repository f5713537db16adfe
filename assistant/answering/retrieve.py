"""Retrieval: six signals per chunk, fused into one ranking by a weighted sum.

- dense: cosine of the query to each chunk's embedding (Chroma's HNSW);
- sentence: the best cosine of the query to any sentence inside the chunk, which finds the one
  precise sentence a long chunk would dilute; quotable: the same over the sentences an answer may
  quote (not a FAQ question, not a headline); from Chroma's HNSW over the sentences;
- keyword: BM25 over the chunk text with its title and section, for names and numbers;
- coverage: the IDF-weighted share of the question's words the chunk contains;
- faq: 1 for a FAQ entry.
The weights are fitted on bench/tuning.yaml by bench/fit_fusion.py (which prints them) and scaled
to sum to 1, so a fused score reads like a cosine. This module also measures how much of the
question the best passages cover, which the answerer's refusal rule reads; it does not decide.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import Settings
from ..store.embeddings import Tokens
from ..store.lexicon import RAW_WORD, Lexicon
from ..store.reader import IndexReader
from ..text.people import Cast
from ..text.terms import QUESTION_FILLER, STOPWORDS, stem, terms
from ..text.terms import WORD as _WORD
from ..types import Passage

SIGNALS = ("dense", "sentence", "quotable", "keyword", "coverage", "faq")
# Fitted: `python bench/fit_fusion.py` (conditional logit on the tuning questions, l2 0.001).
WEIGHTS = {"dense": 0.198, "sentence": 0.217, "quotable": 0.196, "keyword": 0.280, "coverage": 0.094, "faq": 0.016}
CANDIDATES = 30
SENTENCE_CANDIDATES = 64
_FILLER = frozenset(stem(w) for w in QUESTION_FILLER)
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


class Speller:
    """Corrects a query word that is neither the articles' nor English ("reserch", "wolrd",
    "LeCunn") to the word the articles use one edit away (a swap of neighbours counts as one); the
    most frequent such word wins. An English word is never changed, though it may be one edit from
    the articles' ("readers" is not "leaders"); a capitalised word only becomes a name, so a
    misspelt name finds its usual spelling ("Benjio": "Bengio"). Candidates come from a deletion
    index (SymSpell's idea), so nothing scans the vocabulary."""

    min_length = 5

    def __init__(self, counts: dict[str, int], names: dict[str, str]):
        self.counts = counts
        self.names = names  # a word the articles mostly capitalise -> its usual spelling ("LeCun")
        self._deletes: dict[str, list[str]] = {}
        for word in counts:
            for key in _deletes(word):
                self._deletes.setdefault(key, []).append(word)

    def correct(self, text: str) -> str:
        return RAW_WORD.sub(lambda m: self._word(m.group(0)), text)

    def unknown_name(self, text: str) -> bool:
        """A capitalised word, not the first of the text, that the articles never use."""
        words = RAW_WORD.findall(text)[1:]
        return any(w[0].isupper() and w.lower() not in self.counts and w.lower() not in STOPWORDS for w in words)

    def _word(self, word: str) -> str:
        lower = word.lower()
        if len(word) < self.min_length or lower in self.counts or not word.isalpha():
            return word
        found = {c for key in _deletes(lower) for c in self._deletes.get(key, ())
                 if _one_edit(lower, c) and (not word[0].isupper() or c in self.names)}
        if not found or english_word(lower):
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


def english_word(word: str) -> bool:
    return word in _dictionary()


class Retriever:
    def __init__(self, index: IndexReader, settings: Settings):
        self.index = index
        self.settings = settings
        self._speller: tuple[str, Speller] = ("", Speller({}, {}))

    @property
    def lexicon(self) -> Lexicon:
        return self.index.lexicon

    @property
    def spelling(self) -> Speller:
        """The speller of the live generation, made once per generation from its saved vocabulary."""
        generation = self.index.manifest.generation
        if self._speller[0] != generation:
            self._speller = (generation, Speller(self.lexicon.word_count, self.lexicon.names))
        return self._speller[1]

    def cast(self) -> Cast:
        """Who the indexed articles are about (people.cast), saved by ingest."""
        return self.lexicon.cast

    def warm(self) -> None:
        """Load now what the first question would otherwise wait for: the embedder, the speller and
        its English word list, and Chroma's nearest-neighbour indexes."""
        _dictionary()
        vector = self.index.embedder.embed([self.spelling.correct("warm")])[0]
        self.signals(vector, [])

    def retrieve(self, query: str) -> Retrieval:
        query = self.spelling.correct(query)
        lexicon = self.lexicon
        vectors, tokens = self.index.embedder.embed_tokens([query])
        vector = vectors[0]
        query_terms = terms(query)
        weights = self.term_weights(query_terms)
        focus, focus_vectors = self._focus(query, tokens[0], weights)
        candidates, signals = self.signals(vector, query_terms)
        fused = signals @ np.array([WEIGHTS[name] for name in SIGNALS], dtype=np.float32)
        order = np.argsort(-fused, kind="stable")[: self.settings.top_k]
        positions = [int(candidates[i]) for i in order]
        passages = [Passage(chunk, float(fused[i])) for chunk, i in zip(self.index.chunks(positions), order,
                                                                          strict=True)]
        column = {name: signals[:, j] for j, name in enumerate(SIGNALS)}
        meaning = np.argsort(-(column["dense"] + column["sentence"]), kind="stable")[:2]
        return Retrieval(
            query=query,
            vector=vector,
            passages=passages,
            sentence_ids=[lexicon.sentences_of(p) for p in positions],
            best_sentence=float(column["sentence"].max()) if len(candidates) else 0.0,
            best_dense=float(column["dense"].max()) if len(candidates) else 0.0,
            # Measured on the passages that match the meaning best: the fused order already favours
            # passages that share the question's words, which would make coverage circular.
            coverage=self._coverage(weights, candidates[meaning]),
            term_weights=weights,
            focus=focus,
            focus_vectors=focus_vectors,
            corpus_idf=lexicon.idf,
            unseen_idf=lexicon.unseen_idf,
            unknown_name=self.spelling.unknown_name(_CONTEXT.sub("", query)),
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

    def signals(self, vector: np.ndarray, query_terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The candidate chunks (lexicon positions: the nearest by meaning, those holding the
        nearest sentences, the best by BM25) and one row per candidate, one column per name in
        SIGNALS, each on a 0..1 scale. A chunk beyond a nearest-neighbour list ranks as its last
        entry did. No Python loop visits every chunk: BM25 and coverage are summed from the
        question's terms' postings into one numpy array over the chunks."""
        lexicon = self.lexicon
        dense_hits = self.index.dense(vector, max(CANDIDATES, self.settings.top_k))
        sentence_hits = self.index.nearest_sentences(vector, SENTENCE_CANDIDATES)
        keyword = lexicon.bm25(query_terms)
        top_keyword = np.argsort(-keyword, kind="stable")[:CANDIDATES]
        top_keyword = top_keyword[keyword[top_keyword] > 0]
        hit_sentences = np.array([i for i, _ in sentence_hits], dtype=np.int64)
        hit_cosines = np.array([c for _, c in sentence_hits], dtype=np.float32)
        entries, holders = self.index.chunks_holding(hit_sentences)
        candidates = np.unique(np.concatenate([np.array([i for i, _ in dense_hits], dtype=np.int64),
                                               holders.astype(np.int64), top_keyword.astype(np.int64)]))
        slot = {int(p): j for j, p in enumerate(candidates)}
        floor = min((c for _, c in dense_hits), default=0.0)
        dense = np.full(len(candidates), floor, dtype=np.float32)
        for position, cosine in dense_hits:
            dense[slot[position]] = cosine
        sentence = self._best_of(candidates, slot, hit_sentences, entries, holders, hit_cosines, None)
        quotable = self._best_of(candidates, slot, hit_sentences, entries, holders, hit_cosines,
                                 lexicon.quotable)
        top = keyword.max() if len(keyword) else 0.0
        columns = {"dense": dense, "sentence": np.clip(sentence, 0, 1), "quotable": np.clip(quotable, 0, 1),
                   "keyword": keyword[candidates] / top if top > 0 else keyword[candidates],
                   "coverage": lexicon.coverage(self.term_weights(query_terms))[candidates],
                   "faq": lexicon.chunk_faq[candidates].astype(np.float32)}
        return candidates, np.stack([columns[name] for name in SIGNALS], axis=1).astype(np.float32)

    def _best_of(self, candidates: np.ndarray, slot: dict[int, int], hits: np.ndarray, entries: np.ndarray,
                 holders: np.ndarray, cosines: np.ndarray, kind: np.ndarray | None) -> np.ndarray:
        """Per candidate chunk: the best cosine among the nearest sentences `hits` it holds (only
        those flagged in `kind`, a per-sentence mask, when given); a chunk holding none ranks as
        the last such hit did, or -1 when it has no sentence of the kind at all."""
        lexicon = self.lexicon
        counted = kind[hits] if kind is not None else np.ones(len(hits), dtype=bool)
        floor = float(cosines[counted].min()) if counted.any() else -1.0
        best = np.array([floor if _has_any(lexicon, int(p), kind) else -1.0 for p in candidates], dtype=np.float32)
        seen = np.zeros(len(candidates), dtype=bool)
        for entry, holder in zip(entries, holders, strict=True):
            if not counted[entry]:
                continue
            j = slot[int(holder)]
            best[j] = cosines[entry] if not seen[j] else max(best[j], cosines[entry])
            seen[j] = True
        return best

    def term_weights(self, query_terms: list[str]) -> dict[str, float]:
        """Each distinct query term with its IDF (a word no article uses weighs most)."""
        return {t: self.lexicon.idf.get(t, self.lexicon.unseen_idf) for t in query_terms}

    def _coverage(self, weights: dict[str, float], positions: np.ndarray) -> float:
        """The IDF-weighted share of the question's terms found in these chunks together."""
        found = sum(w for t, w in weights.items() if np.isin(positions, self.lexicon.postings(t)[0]).any())
        return found / (sum(weights.values()) or 1.0)


def _has_any(lexicon: Lexicon, chunk: int, kind: np.ndarray | None) -> bool:
    """The chunk holds a sentence (of the kind flagged in `kind`, when given)."""
    inside = lexicon.sentences_of(chunk)
    return bool(inside) and (kind is None or bool(kind[inside].any()))
