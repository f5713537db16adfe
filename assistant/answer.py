"""Answering: turn retrieved passages into a short answer whose every sentence is cited.

The default answerer is extractive: it leads with the one sentence a fitted model scores best
among the retrieved passages' sentences (features in `features.py`), adds a second only when it
covers part of the question the lead does not, and cites each as `[n]`. It cannot say anything the
articles do not say. A fitted refusal model reads the lead and the retrieval; when the articles do
not answer, the answer says so plainly, names what they cover nearby, and lists the nearest
passages as not answering. A generative answerer can replace this one behind `Answerer`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .answertype import DEFINING, PREFERRED, STRICT, expected_type, fits
from .config import Settings
from .features import SENTENCE_FEATURES, Candidate, FeatureBuilder
from .retrieve import Retrieval
from .store import IndexReader
from .types import REFUSAL, Answer, Citation, Passage

# Fitted by `python bench/fit_answer.py` on the tuning questions (bench/dev-tuning.yaml, bench/tuning.yaml,
# evals/seeds.yaml, evals/faq.yaml; it prints both dicts): a conditional logit over each question's
# candidate sentences whose positives state the fact. Fitted before amounts stopped counting years and
# dates and months became capitalised only: a refit on those rules did worse on every suite read while
# tuning (5-fold lead 0.77 against 0.78; 199 against 203 of 279 tuning cases passed), so these stay.
SENTENCE_WEIGHTS = {
    "dense": 1.735, "overlap": 1.192, "focus": 0.669, "bm25": 0.924, "align": 5.655, "align_min": 0.568,
    "type_fit": 1.061, "type_miss": -1.061, "passage": 5.637, "faq_question": 1.079, "faq_first": -0.880,
    "faq_lead": 0.354, "short": 1.000, "novel": 0.370,
}
# The refusal model reads the lead sentence and the retrieval: a logistic regression fitted on the
# same tuning turns (answerable or not), a false refusal and a false answer costing the same.
REFUSAL_FEATURES = ("lead_score", "dense", "focus", "align", "align_min", "type_miss", "strength", "coverage",
                    "evidence_min", "evidence_mean", "unseen_gap", "unknown_name", "joint")
REFUSAL_WEIGHTS = {
    "lead_score": 0.411, "dense": 1.579, "focus": -0.600, "align": 0.687, "align_min": 0.092, "type_miss": -0.774,
    "strength": 2.468, "coverage": -0.041, "evidence_min": 0.539, "evidence_mean": 0.686, "unseen_gap": 0.067,
    "unknown_name": -1.501, "joint": 0.206,
}
REFUSAL_BIAS = -5.804


# A question that asks two things: "What did he start, and where?", "Who ... and why?".
_COMPOUND = re.compile(r"\b(and|or)\s+(what|where|when|who|whom|why|how|which|in what|since when)\b", re.IGNORECASE)


class Answerer(Protocol):
    def answer(self, question: str, retrieval: Retrieval) -> Answer: ...


@dataclass(frozen=True)
class AnswerModel:
    """The fitted weights: which sentence answers, and whether any does."""

    sentence: dict[str, float] = field(default_factory=lambda: dict(SENTENCE_WEIGHTS))
    refusal: dict[str, float] = field(default_factory=lambda: dict(REFUSAL_WEIGHTS))
    refusal_bias: float = REFUSAL_BIAS

    def scores(self, candidates: list[Candidate]) -> np.ndarray:
        weights = np.array([self.sentence[name] for name in SENTENCE_FEATURES], dtype=np.float32)
        return np.array([c.features @ weights for c in candidates], dtype=np.float32)

    def answerable(self, row: np.ndarray) -> float:
        """The probability that the lead sentence answers the question."""
        z = float(row @ np.array([self.refusal[name] for name in REFUSAL_FEATURES])) + self.refusal_bias
        return 1 / (1 + math.exp(-max(min(z, 50.0), -50.0)))


def refusal_row(retrieval: Retrieval, candidates: list[Candidate], lead: Candidate, lead_score: float) -> np.ndarray:
    """The refusal model's inputs: how well the chosen sentence, and the best evidence anywhere in
    the retrieved passages, match the question. Per focus word, the evidence is its best coverage
    in any candidate; a word the articles never use that nothing covers ("born", "wife") leaves a
    gap that paraphrases ("kid" for "child") do not."""
    f = dict(zip(SENTENCE_FEATURES, lead.features.tolist(), strict=True))
    weights = np.array(list(retrieval.focus.values()))
    evidence = np.max([c.coverage for c in candidates], axis=0) if len(weights) else np.ones(0)
    unseen = np.array([t not in retrieval.corpus_idf for t in retrieval.focus], dtype=bool)
    values = {
        "lead_score": lead_score, "strength": retrieval.strength, "coverage": retrieval.coverage, **f,
        "evidence_min": float(evidence.min()) if len(evidence) else 1.0,
        "evidence_mean": float(evidence @ weights / weights.sum()) if len(evidence) else 1.0,
        "unseen_gap": float((1 - evidence[unseen]).max()) if unseen.any() else 0.0,
        "unknown_name": float(retrieval.unknown_name),
        # The best any one sentence does on its worst-covered focus word.
        "joint": max(float(c.coverage.min()) for c in candidates) if len(weights) else 1.0,
    }
    return np.array([values[name] for name in REFUSAL_FEATURES], dtype=np.float64)


@dataclass(frozen=True)
class Choice:
    """The answerer's decision for one question, before it is written out."""

    candidates: list[Candidate]
    scores: np.ndarray
    chosen: list[Candidate]
    answerable: float  # the refusal model's probability; below 0.5 is a refusal


class ExtractiveAnswerer:
    # A second sentence must score within this much (in the sentence model's logit units) of the lead.
    margin = 1.5
    # A second sentence this close to the lead (in logit units) is a close call: it may be the answer.
    close_call = 1.0
    # Sentences this similar to one already chosen say the same thing again.
    duplicate = 0.9
    # A focus word counts as covered by a sentence whose best token aligns at least this well.
    aligned = 0.75
    # How far below the lead (in logit units) a sentence of the asked-for amount or time may score.
    type_margin = 2.0

    def __init__(self, index: IndexReader, settings: Settings, model: AnswerModel | None = None):
        self.index = index
        self.settings = settings
        self.model = model or AnswerModel()
        self.features = FeatureBuilder(index)

    def answer(self, question: str, retrieval: Retrieval) -> Answer:
        choice = self.choose(question, retrieval)
        if not choice.chosen or choice.answerable < 0.5:
            return self._refusal(question, retrieval)
        return self._compose(question, retrieval, choice.chosen)

    def choose(self, question: str, retrieval: Retrieval) -> Choice:
        """Lead with the best sentence (of the asked-for kind, when the question wants an amount
        or a time: none means no answer); add a second only when it covers part of the question
        the lead leaves out."""
        kind = expected_type(question)
        # A question without one content word ("???", "what is it?") asks nothing to match.
        asks = retrieval.passages and retrieval.term_weights
        candidates = self.features.candidates(question, retrieval, kind) if asks else []
        if not candidates:
            return Choice([], np.zeros(0), [], 0.0)
        scores = self.model.scores(candidates)
        ranked = [candidates[i] for i in np.argsort(-scores, kind="stable")]
        own = self._own_faq_entry(question, retrieval, ranked)
        if own:  # the site's own FAQ question, asked word for word: its entry answers it
            return Choice(candidates, scores, own[:1], 1.0)
        best = float(scores.max())
        score_of = {c.sentence: float(s) for c, s in zip(candidates, scores, strict=True)}
        if kind in STRICT | PREFERRED:
            typed = [c for c in ranked if score_of[c.sentence] >= best - self.type_margin
                     and fits(kind, c.text, question)]
            if not typed and kind in STRICT:
                return Choice(candidates, scores, [], 0.0)
            ranked = typed + [c for c in ranked if c not in typed]
        lead = ranked[0]
        answerable = self.model.answerable(refusal_row(retrieval, candidates, lead, score_of[lead.sentence]))
        if kind in DEFINING and fits(kind, lead.text, question):
            answerable = 1.0  # the sentence that spells out the asked acronym answers it
        chosen = [lead]
        for candidate in ranked[1:]:
            if len(chosen) == self.settings.max_sentences or score_of[candidate.sentence] < best - self.margin:
                break
            if self._adds_to(chosen, candidate, score_of[candidate.sentence], score_of[lead.sentence], kind,
                             question):
                chosen.append(candidate)
        return Choice(candidates, scores, chosen, answerable)

    @staticmethod
    def _own_faq_entry(question: str, retrieval: Retrieval, ranked: list[Candidate]) -> list[Candidate]:
        """The answer sentences, best first, of a retrieved FAQ entry whose question is the one asked
        (ignoring case, quotes and punctuation)."""
        asked = _wording(question)
        entries = {rank for rank, p in enumerate(retrieval.passages)
                   if p.chunk.kind == "faq" and _wording(p.chunk.section) == asked}
        return [c for c in ranked if c.passage_rank in entries]

    def _adds_to(self, chosen: list[Candidate], candidate: Candidate, score: float, lead_score: float, kind: str,
                  question: str) -> bool:
        """A sentence that says something new and answers a part of the question the chosen ones
        leave out: the asked-for kind they lack, or a focus word they do not cover when the
        question asks two things ("what ... and where?") or the model cannot tell the two
        sentences apart (a close call). Anything else would pad the answer."""
        if any(float(candidate.vector @ c.vector) > self.duplicate for c in chosen):
            return False
        if kind != "open" and not any(fits(kind, c.text, question) for c in chosen):
            return fits(kind, candidate.text, question)
        close = score >= lead_score - self.close_call
        if not (close or _COMPOUND.search(question)) or not len(candidate.coverage):
            return False
        covered = np.max([c.coverage for c in chosen], axis=0) >= self.aligned
        return bool(((candidate.coverage >= self.aligned) & ~covered).any())

    def _compose(self, question: str, retrieval: Retrieval, chosen: list[Candidate]) -> Answer:
        # The lead first; each passage numbered in order of first use.
        numbers: dict[int, int] = {}
        sentences: list[str] = []
        spans: dict[int, list[tuple[int, int]]] = {}
        for candidate in chosen:
            n = numbers.setdefault(candidate.passage_rank, len(numbers) + 1)
            sentences.append(f"{candidate.text} [{n}]")
            spans.setdefault(candidate.passage_rank, []).append((candidate.start, candidate.end))
        citations = [
            _citation(n, retrieval.passages[rank], spans[rank], answers=True) for rank, n in numbers.items()
        ]
        return Answer(question=question, answer=" ".join(sentences), refused=False,
                      citations=sorted(citations, key=lambda c: c.n), search_query=retrieval.query)

    def _refusal(self, question: str, retrieval: Retrieval) -> Answer:
        """Says so plainly, and names what the articles do cover nearby (the nearest passages,
        listed as not answering)."""
        nearest = [_citation(i + 1, p, [], answers=False) for i, p in enumerate(retrieval.passages[:2])]
        text = REFUSAL
        if nearest:
            topic = nearest[0].section or nearest[0].title
            text += f" The nearest they come is “{topic}” in “{nearest[0].title}”." if topic != nearest[0].title \
                else f" The nearest they come is “{topic}”."
        return Answer(question=question, answer=text, refused=True, citations=nearest,
                      search_query=retrieval.query)


def _wording(question: str) -> str:
    """A question's words alone: "Why must ‘self’ be used?" and "why must 'self' be used" match."""
    return " ".join(re.findall(r"\w+", question.casefold()))


def _citation(n: int, passage: Passage, spans: list[tuple[int, int]], answers: bool) -> Citation:
    chunk = passage.chunk
    return Citation(n=n, doc_id=chunk.doc_id, title=chunk.title, section=chunk.section, text=chunk.text,
                    start=chunk.start, end=chunk.end, score=passage.score, spans=sorted(spans), answers=answers)
