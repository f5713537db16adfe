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
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from ..config import Settings
from ..store.reader import IndexReader
from ..types import REFUSAL, TENTATIVE, Answer, Citation, Passage
from .answertype import DEFINING, PREFERRED, STRICT, expected_type, fits
from .features import SENTENCE_FEATURES, Candidate, FeatureBuilder
from .retrieve import Retrieval

# Fitted by `python bench/fit_answer.py` on the tuning questions (bench/dev-tuning.yaml, bench/tuning.yaml,
# evals/seeds.yaml, evals/faq.yaml; it prints both dicts): a conditional logit over each question's
# candidate sentences whose positives state the fact. Fitted before amounts stopped counting years and
# dates and months became capitalised only: a refit on those rules did worse on every suite read while
# tuning (5-fold lead 0.77 against 0.78; 199 against 203 of 279 tuning cases passed), so these stay.
# "headline" came later, alone, by grid on the same turns with the rest fixed: the lead states the fact
# for 0.780 of them at 0, 0.786 from -0.5 down (28 have a headline among their candidates); -0.5 is
# the least that does, so a headline still leads where it clearly says most.
SENTENCE_WEIGHTS = {
    "dense": 1.735, "overlap": 1.192, "focus": 0.669, "bm25": 0.924, "align": 5.655, "align_min": 0.568,
    "type_fit": 1.061, "type_miss": -1.061, "passage": 5.637, "faq_question": 1.079, "faq_first": -0.880,
    "faq_lead": 0.354, "short": 1.000, "novel": 0.370, "headline": -0.5,
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
# The confidence model: a logistic regression (Platt scaling over the two models' own scores) fitted
# on the same tuning turns to whether the answer as composed holds the asked-for fact (an answer to
# an out-of-scope question never does). Its output is the answer's `confidence`.
CONFIDENCE_FEATURES = ("answerable", "lead_score", "margin", "typed", "lead_rank", "own_faq", "sentences", "open")
CONFIDENCE_WEIGHTS = {
    "answerable": 0.568, "lead_score": 0.184, "margin": 0.384, "typed": 0.356, "lead_rank": -0.578,
    "own_faq": 0.000, "sentences": 0.636, "open": 0.866,
}
CONFIDENCE_BIAS = -4.591
# The cuts, chosen by bench/fit_answer.py as those with the least cost on the tuning turns' held-out
# (5-fold) scores, in units of a tentative answer (right or wrong: the reader is told to check it):
# a confident wrong answer costs 10, an in-scope question refused costs 3, a right confident answer
# and a refused out-of-scope question cost nothing. Below REFUSE_BELOW (the refusal model's
# probability) or UNSURE_BELOW (the confidence) the answer is a refusal; from CONFIDENT_FROM (the
# confidence) it is confident; between, tentative.
COSTS = {"confident_wrong": 10.0, "tentative": 1.0, "false_refusal": 3.0}
REFUSE_BELOW = 0.40
UNSURE_BELOW = 0.05
CONFIDENT_FROM = 0.90


# The share of the question's words (IDF-weighted) a sentence that adds no word of its own repeats
# when it only says the question back.
_RESTATED = 0.8
# A question that asks two things: "What did he start, and where?", "Who ... and why?".
_COMPOUND = re.compile(r"\b(and|or)\s+(what|where|when|who|whom|why|how|which|in what|since when)\b", re.IGNORECASE)


# A sentence that leans on the one before it: "That's about ...", "They are just ...", "It's about the same."
_LEANS_BACK = re.compile(r"[\"“‘']?(that|this|these|those|they|it|its|so|such)\b", re.IGNORECASE)
# A question whose answer is the reason or the way, which often follows the claim it explains.
_REASON = re.compile(r"\s*(why|how come|how)\b", re.IGNORECASE)


class Answerer(Protocol):
    def answer(self, question: str, retrieval: Retrieval, on_text: Callable[[str], None] | None = None) -> Answer:
        """The answer; an answerer that writes it piece by piece hands each piece to `on_text` first."""
        ...


@dataclass(frozen=True)
class AnswerModel:
    """The fitted weights: which sentence answers, and whether any does."""

    sentence: dict[str, float] = field(default_factory=lambda: dict(SENTENCE_WEIGHTS))
    refusal: dict[str, float] = field(default_factory=lambda: dict(REFUSAL_WEIGHTS))
    refusal_bias: float = REFUSAL_BIAS
    confidence: dict[str, float] = field(default_factory=lambda: dict(CONFIDENCE_WEIGHTS))
    confidence_bias: float = CONFIDENCE_BIAS
    refuse_below: float = REFUSE_BELOW
    unsure_below: float = UNSURE_BELOW
    confident_from: float = CONFIDENT_FROM

    def scores(self, candidates: list[Candidate]) -> np.ndarray:
        weights = np.array([self.sentence[name] for name in SENTENCE_FEATURES], dtype=np.float32)
        return np.array([c.features @ weights for c in candidates], dtype=np.float32)

    def answerable(self, row: np.ndarray) -> float:
        """The probability that the lead sentence answers the question."""
        return _logistic(float(row @ np.array([self.refusal[name] for name in REFUSAL_FEATURES])) + self.refusal_bias)

    def calibrated(self, row: np.ndarray) -> float:
        """The probability that the answer as composed holds what was asked (`confidence_row`)."""
        weights = np.array([self.confidence[name] for name in CONFIDENCE_FEATURES])
        return _logistic(float(row @ weights) + self.confidence_bias)


def _logistic(z: float) -> float:
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
    answerable: float  # the refusal model's probability; below `AnswerModel.refuse_below` is a refusal
    confidence: float = 0.0  # the confidence model's probability that the answer holds the fact
    signals: np.ndarray | None = None  # the confidence model's inputs (`confidence_row`)


def confidence_row(choice: Choice, own_faq: bool, kind: str, typed: bool) -> np.ndarray:
    """The confidence model's inputs: how sure each fitted model was of its own decision, and whether
    the question asks for a kind of answer (an amount, a time, a name: the wrong one of that kind is
    the commonest confident mistake) or is open."""
    lead = choice.chosen[0]
    score_of = {c.sentence: float(s) for c, s in zip(choice.candidates, choice.scores, strict=True)}
    others = [s for c, s in score_of.items() if c != lead.sentence]
    p = min(max(choice.answerable, 1e-4), 1 - 1e-4)
    values = {
        "answerable": math.log(p / (1 - p)),
        "lead_score": score_of[lead.sentence],
        "margin": score_of[lead.sentence] - max(others, default=score_of[lead.sentence] - 5.0),
        "typed": float(typed), "lead_rank": float(min(lead.passage_rank, 5)), "own_faq": float(own_faq),
        "sentences": float(len(choice.chosen)), "open": float(kind == "open"),
    }
    return np.array([values[name] for name in CONFIDENCE_FEATURES], dtype=np.float64)


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

    def answer(self, question: str, retrieval: Retrieval, on_text: Callable[[str], None] | None = None) -> Answer:
        """The quote (whole at once: nothing goes to `on_text`), or a refusal."""
        choice = self.choose(question, retrieval)
        model = self.model
        if not choice.chosen or choice.answerable < model.refuse_below or choice.confidence < model.unsure_below:
            return self._refusal(question, retrieval, choice.confidence)
        return self._compose(question, retrieval, choice.chosen, choice.confidence)

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
        order = [candidates[i] for i in np.argsort(-scores, kind="stable")]
        ranked = [c for c in order if not _restates(c)]
        if not ranked:
            return Choice(candidates, scores, [], 0.0)
        own = self._own_faq_entry(question, retrieval, ranked)
        if own:  # the site's own FAQ question, asked word for word: its entry answers it
            return self._judged(Choice(candidates, scores, own[:1], 1.0), own_faq=True, kind=kind, typed=False)
        best = float(scores.max())
        score_of = {c.sentence: float(s) for c, s in zip(candidates, scores, strict=True)}
        after = self._after_restatement(order[0], ranked) if _restates(order[0]) else None
        if after is not None:
            # The best match says the question back ("The printer prints blank pages."): it locates
            # where the articles take the question up, so whether they answer it is judged on it,
            # and the answer is the sentence after it.
            ranked = [after, *(c for c in ranked if c is not after)]
        elif kind in STRICT | PREFERRED:
            typed = [c for c in ranked if score_of[c.sentence] >= best - self.type_margin
                     and fits(kind, c.text, question)]
            if not typed and kind in STRICT:
                return Choice(candidates, scores, [], 0.0)
            ranked = typed + [c for c in ranked if c not in typed]
        lead = ranked[0]
        located = order[0] if after is not None else lead
        answerable = self.model.answerable(refusal_row(retrieval, candidates, located, score_of[located.sentence]))
        if kind in DEFINING and fits(kind, lead.text, question):
            answerable = 1.0  # the sentence that spells out the asked acronym answers it
        chosen = [lead, *self._next_door(lead, candidates, kind, question)]
        for candidate in ranked[1:]:
            if len(chosen) >= self.settings.max_sentences or score_of[candidate.sentence] < best - self.margin:
                break
            if candidate in chosen or candidate.text == retrieval.passages[candidate.passage_rank].chunk.title:
                continue  # a headline may lead an answer; after the lead it only repeats the story
            if self._adds_to(chosen, candidate, score_of[candidate.sentence], score_of[lead.sentence], kind,
                             question):
                chosen.append(candidate)
        return self._judged(Choice(candidates, scores, chosen, answerable), own_faq=False, kind=kind,
                            typed=kind != "open" and fits(kind, lead.text, question))

    def _judged(self, choice: Choice, own_faq: bool, kind: str, typed: bool) -> Choice:
        signals = confidence_row(choice, own_faq, kind, typed)
        return replace(choice, confidence=self.model.calibrated(signals), signals=signals)

    def _after_restatement(self, located: Candidate, ranked: list[Candidate]) -> Candidate | None:
        """The sentence right after `located` in its article, among the candidates that do not say the
        question back."""
        doc = self.index.lexicon.sentence_doc
        return next((c for c in ranked if c.sentence == located.sentence + 1
                     and doc[c.sentence] == doc[located.sentence]), None)

    def _next_door(self, lead: Candidate, candidates: list[Candidate], kind: str, question: str) -> list[Candidate]:
        """The lead's neighbour when the two are one statement: the sentence before a lead that
        leans on it ("That's about 10 to the power 14 bytes." needs the tokens it counts), or the
        sentence after it that goes on ("They are just token generators ...") and says what the
        question asks and the lead does not: the asked-for kind, a focus word, or the reason or way
        a "why" or "how" question asks for."""
        doc = self.index.lexicon.sentence_doc
        by_sentence = {c.sentence: c for c in candidates if doc[c.sentence] == doc[lead.sentence] and not _restates(c)}
        before, after = by_sentence.get(lead.sentence - 1), by_sentence.get(lead.sentence + 1)

        def fills(neighbour: Candidate) -> bool:
            if kind != "open" and fits(kind, neighbour.text, question) and not fits(kind, lead.text, question):
                return True
            return bool(((neighbour.coverage >= self.aligned) & (lead.coverage < self.aligned)).any())

        if before is not None and _LEANS_BACK.match(lead.text) and fills(before):
            return [before]
        if after is not None and _LEANS_BACK.match(after.text) and (
                fills(after) or kind == "open" and _REASON.match(question)):
            return [after]
        return []

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

    def _compose(self, question: str, retrieval: Retrieval, chosen: list[Candidate], confidence: float) -> Answer:
        # The lead first; each passage numbered in order of first use.
        numbers: dict[int, int] = {}
        sentences: list[str] = []
        spans: dict[int, list[tuple[int, int]]] = {}
        for candidate in _reading_pairs(chosen):
            n = numbers.setdefault(candidate.passage_rank, len(numbers) + 1)
            sentences.append(f"{candidate.text} [{n}]")
            spans.setdefault(candidate.passage_rank, []).append((candidate.start, candidate.end))
        citations = [
            citation(n, retrieval.passages[rank], spans[rank], answers=True) for rank, n in numbers.items()
        ]
        confident = confidence >= self.model.confident_from
        text = " ".join(sentences) if confident else f"{TENTATIVE} {' '.join(sentences)}"
        return Answer(question=question, answer=text, refused=False, citations=sorted(citations, key=lambda c: c.n),
                      search_query=retrieval.query, confidence=confidence, confident=confident)

    def _refusal(self, question: str, retrieval: Retrieval, confidence: float) -> Answer:
        """Says so plainly, and names what the articles do cover nearby (the nearest passages,
        listed as not answering)."""
        nearest = [citation(i + 1, p, [], answers=False) for i, p in enumerate(retrieval.passages[:2])]
        text = REFUSAL
        if nearest:
            topic = nearest[0].section or nearest[0].title
            text += f" The nearest they come is “{topic}” in “{nearest[0].title}”." if topic != nearest[0].title \
                else f" The nearest they come is “{topic}”."
        return Answer(question=question, answer=text, refused=True, citations=nearest,
                      search_query=retrieval.query, confidence=confidence)


def _restates(candidate: Candidate) -> bool:
    """A sentence that says the question back ("I deleted a lot of data but the file did not get any
    smaller." for that very question): it repeats most of the question's words and adds none of its
    own. It may locate the answer; it is never the answer."""
    f = dict(zip(SENTENCE_FEATURES, candidate.features.tolist(), strict=True))
    return f["novel"] == 0.0 and f["overlap"] >= _RESTATED


def _reading_pairs(chosen: list[Candidate]) -> list[Candidate]:
    """The chosen sentences lead first, but a sentence and the one after it in reading order."""
    ordered: list[Candidate] = []
    for candidate in chosen:
        if candidate in ordered:
            continue
        ordered += [c for c in chosen if c.sentence == candidate.sentence - 1 and c not in ordered]
        ordered.append(candidate)
    return ordered


def _wording(question: str) -> str:
    """A question's words alone: "Why must ‘self’ be used?" and "why must 'self' be used" match."""
    return " ".join(re.findall(r"\w+", question.casefold()))


def citation(n: int, passage: Passage, spans: list[tuple[int, int]], answers: bool) -> Citation:
    chunk = passage.chunk
    return Citation(n=n, doc_id=chunk.doc_id, title=chunk.title, section=chunk.section, text=chunk.text,
                    start=chunk.start, end=chunk.end, score=passage.score, spans=sorted(spans), answers=answers)
