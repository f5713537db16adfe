"""What a run of the eval suites found: each turn's and case's result, the suite's metrics. The
runner makes them, the reports write them; neither knows how the other does its part."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..types import Answer
from .calibration import Judged
from .cases import Case, CaseTurn


@dataclass
class TurnResult:
    turn: CaseTurn
    answer: Answer | None
    latency_ms: float
    failures: list[str]
    rank: int | None = None  # 1-based rank of the first expected source among the citations
    citation_precision: float | None = None
    support: float | None = None
    # Whether the answer text itself states the asked fact (None: the turn names no fact).
    answer_correct: bool | None = None

    @property
    def expected_refusal(self) -> bool:
        return self.turn.expect.refused is True

    @property
    def judged(self) -> tuple[float | None, bool] | None:
        """(confidence, right) of an answer that is not a refusal, on a turn whose rightness is known:
        it names a fact, or it is out of scope (where any answer is wrong)."""
        if self.answer is None or self.answer.refused:
            return None
        if self.expected_refusal:
            return self.answer.confidence, False
        return None if self.answer_correct is None else (self.answer.confidence, self.answer_correct)

    @property
    def ranked(self) -> bool:
        """Counts toward hit@k and MRR: expects sources and got an answer."""
        return self.answer is not None and bool(self.turn.expect.sources) and not self.expected_refusal


@dataclass
class CaseResult:
    case: Case
    turns: list[TurnResult]

    @property
    def passed(self) -> bool:
        return all(not t.failures for t in self.turns)

    @property
    def reason(self) -> str:
        return "; ".join(f"turn {i + 1}: {f}" if len(self.turns) > 1 else f
                         for i, t in enumerate(self.turns) for f in t.failures)


@dataclass
class Metrics:
    cases: int = 0
    passed: int = 0
    pass_rate: float = 0.0
    # Share of in-scope turns naming a fact whose answer text states it (a refusal counts as wrong).
    answer_accuracy: float | None = None
    hit_at_1: float | None = None
    hit_at_k: float | None = None
    mrr: float | None = None
    refusal_precision: float | None = None
    refusal_recall: float | None = None
    # Share of in-scope turns (not expected to be refused) that were refused.
    false_refusal_rate: float | None = None
    # Share of confident answers (on turns naming a fact, or out of scope) whose text holds the fact.
    confident_precision: float | None = None
    # Share of in-scope turns naming a fact that got a confident answer.
    coverage: float | None = None
    # Share of out-of-scope turns answered confidently (the rest are refused or tentative).
    out_of_scope_confident: float | None = None
    # Mean gap between confidence and rightness over confidence buckets (`calibration.expected_error`).
    calibration_error: float | None = None
    # Share of multi-turn cases in which every turn passed.
    conversations: float | None = None
    citation_precision: float | None = None
    answer_support: float | None = None
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0
    latency_max_ms: float = 0.0


@dataclass
class SuiteResult:
    engine: str
    k: int
    results: list[CaseResult]
    metrics: Metrics
    seconds: float
    about: dict[str, Any] = field(default_factory=dict)

    def judged(self) -> list[Judged]:
        """(confidence, right) of every judged answer that carries a confidence."""
        return with_confidence(t.judged for r in self.results for t in r.turns)


def with_confidence(pairs: Iterable[tuple[float | None, bool] | None]) -> list[Judged]:
    return [(c, right) for c, right in filter(None, pairs) if c is not None]
