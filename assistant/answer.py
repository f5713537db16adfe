"""Answering: turn retrieved passages into a short answer whose every sentence is cited.

The default answerer is extractive: it quotes the best supporting sentences of the retrieved
passages (de-duplicated, in reading order within each passage, best passage first), each
followed by `[n]`. It cannot say anything the articles do not say. A refusal rule reads the
retrieval signals; when it fires the answer says so plainly and the nearest passages are listed
as not answering. A generative answerer can replace this one behind the `Answerer` interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .answertype import STRICT, expected_type, fits
from .config import Settings
from .retrieve import Retrieval
from .store import IndexReader
from .terms import terms
from .types import Answer, Citation, Passage

REFUSAL = "The articles don't answer that question."


class Answerer(Protocol):
    def answer(self, question: str, retrieval: Retrieval) -> Answer: ...


@dataclass(frozen=True)
class RefusalRule:
    """Refuse when the best sentence match is weak, or when it is middling and the best passages
    leave much of the question's vocabulary unexplained (the out-of-scope question that shares a
    name with the articles but asks about something they never mention)."""

    min_sentence: float = 0.35
    confident_sentence: float = 0.45
    min_coverage: float = 0.6

    def refuses(self, retrieval: Retrieval) -> bool:
        match = retrieval.strength
        if not retrieval.passages or match < self.min_sentence:
            return True
        return match < self.confident_sentence and retrieval.coverage < self.min_coverage


@dataclass(frozen=True)
class _Candidate:
    passage_rank: int
    start: int
    end: int
    score: float
    vector: np.ndarray


class ExtractiveAnswerer:
    # A sentence joins the answer when it scores within this margin of the best one.
    margin = 0.12
    # Sentences this similar to one already chosen say the same thing again.
    duplicate = 0.9
    # How much the share of the question's words (IDF-weighted) a sentence repeats counts.
    overlap_weight = 0.25
    # How much a passage's fused retrieval score counts in its sentences' scores.
    passage_weight = 0.5
    # A FAQ answer inherits its question's match only when that question is nearly the one asked
    # (a rewording), each later sentence a little less of it.
    faq_paraphrase = 0.8
    faq_decay = 0.1
    # How far below the best candidate a sentence of the asked-for kind (amount, time) may score.
    type_margin = 0.2

    def __init__(self, index: IndexReader, settings: Settings, rule: RefusalRule | None = None):
        self.index = index
        self.settings = settings
        self.rule = rule or RefusalRule()

    def answer(self, question: str, retrieval: Retrieval) -> Answer:
        if self.rule.refuses(retrieval):
            return self._refusal(question, retrieval)
        chosen = self._choose(retrieval, expected_type(question))
        if not chosen:
            return self._refusal(question, retrieval)
        return self._compose(question, retrieval, chosen)

    def _candidates(self, retrieval: Retrieval) -> list[_Candidate]:
        """Every quotable sentence of the retrieved passages, scored against the question, each
        assigned to the best-ranked passage that contains it."""
        weights = retrieval.term_weights
        total = sum(weights.values()) or 1.0
        seen: set[int] = set()
        candidates = []
        for rank, (passage, sentence_ids) in enumerate(zip(retrieval.passages, retrieval.sentence_ids, strict=True)):
            text = self.index.article(passage.chunk.doc_id).text
            sims = self.index.sentence_vectors[sentence_ids] @ retrieval.vector if sentence_ids else []
            # A FAQ answer inherits how well its question matched: its sentences rarely echo the question.
            question_sim = max((float(sim) for i, sim in zip(sentence_ids, sims, strict=True)
                                if not self.index.sentences[i][3]), default=-1.0)
            position = 0
            for i, sim in zip(sentence_ids, sims, strict=True):
                _, start, end, quotable = self.index.sentences[i]
                if i in seen or not quotable:
                    continue
                seen.add(i)
                inherited = -1.0
                if passage.chunk.kind == "faq" and question_sim >= self.faq_paraphrase:
                    inherited = question_sim - self.faq_decay * (position + 1)
                position += 1
                overlap = sum(weights[t] for t in set(terms(text[start:end])) if t in weights) / total
                score = max(float(sim), inherited) + self.overlap_weight * overlap + self.passage_weight * passage.score
                candidates.append(_Candidate(rank, start, end, score, self.index.sentence_vectors[i]))
        return candidates

    def _choose(self, retrieval: Retrieval, kind: str) -> list[_Candidate]:
        """The best-scoring sentence first, then others within `margin` of it, skipping repeats.
        When the question asks for an amount or a time, the lead sentence must carry one (found
        within `type_margin` of the best candidate), or there is no answer; a place is preferred."""
        ranked = sorted(self._candidates(retrieval), key=lambda c: -c.score)
        if not ranked:
            return []
        best = ranked[0].score
        if kind != "open":
            typed = [c for c in ranked if c.score >= best - self.type_margin and fits(kind, self._text(retrieval, c))]
            if not typed and kind in STRICT:
                return []
            ranked = typed + [c for c in ranked if c not in typed]
        chosen = [ranked[0]]
        for candidate in ranked:
            if len(chosen) == self.settings.max_sentences or candidate.score < best - self.margin:
                break
            if any(float(candidate.vector @ c.vector) > self.duplicate for c in chosen):
                continue
            chosen.append(candidate)
        return chosen

    def _text(self, retrieval: Retrieval, candidate: _Candidate) -> str:
        doc_id = retrieval.passages[candidate.passage_rank].chunk.doc_id
        return self.index.article(doc_id).text[candidate.start:candidate.end]

    def _compose(self, question: str, retrieval: Retrieval, chosen: list[_Candidate]) -> Answer:
        # Readable order: passages in rank order, sentences in reading order inside each.
        chosen = sorted(chosen, key=lambda c: (c.passage_rank, c.start))
        numbers: dict[int, int] = {}
        sentences: list[str] = []
        spans: dict[int, list[tuple[int, int]]] = {}
        for candidate in chosen:
            n = numbers.setdefault(candidate.passage_rank, len(numbers) + 1)
            doc_text = self.index.article(retrieval.passages[candidate.passage_rank].chunk.doc_id).text
            sentences.append(f"{doc_text[candidate.start:candidate.end]} [{n}]")
            spans.setdefault(candidate.passage_rank, []).append((candidate.start, candidate.end))
        citations = [
            _citation(n, retrieval.passages[rank], spans[rank], answers=True) for rank, n in numbers.items()
        ]
        return Answer(question=question, answer=" ".join(sentences), refused=False,
                      citations=sorted(citations, key=lambda c: c.n), search_query=retrieval.query)

    def _refusal(self, question: str, retrieval: Retrieval) -> Answer:
        nearest = [_citation(i + 1, p, [], answers=False) for i, p in enumerate(retrieval.passages[:2])]
        return Answer(question=question, answer=REFUSAL, refused=True, citations=nearest,
                      search_query=retrieval.query)


def _citation(n: int, passage: Passage, spans: list[tuple[int, int]], answers: bool) -> Citation:
    chunk = passage.chunk
    return Citation(n=n, doc_id=chunk.doc_id, title=chunk.title, section=chunk.section, text=chunk.text,
                    start=chunk.start, end=chunk.end, score=passage.score, spans=sorted(spans), answers=answers)
