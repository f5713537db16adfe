"""The typed values every layer passes around: articles, chunks, passages and answers.

Formatting for a terminal, a web page or a report happens at the edges (cli, web, evaluate);
these classes only carry data and turn themselves into the answer JSON of design.md.

May import: nothing of ours.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

# How a refusal begins (the answerer adds what the articles cover nearby).
REFUSAL = "The articles don't answer that question."
# How a tentative answer (not refused, not confident) introduces its quote.
TENTATIVE = "The closest the articles come, which may not answer your question:"
# A sentence's citation marker, with the space before it.
CITATION_MARK = re.compile(r"\s*\[\d+\]")
_AFTER_MARK = re.compile(r"(?<=\])\s+")


@dataclass(frozen=True)
class Article:
    """One source file as read: `text` is what every offset refers to."""

    doc_id: str
    path: str
    title: str
    text: str
    sha256: str


@dataclass(frozen=True)
class Chunk:
    """A retrievable unit of an article: `article.text[start:end] == text`."""

    id: str
    doc_id: str
    title: str
    section: str
    kind: str  # "text" or "faq"
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        return cls(**data)


@dataclass(frozen=True)
class Passage:
    """A chunk retrieved for a question, with its fused relevance score."""

    chunk: Chunk
    score: float


@dataclass(frozen=True)
class Citation:
    """A passage cited as `[n]`; `spans` are the source offsets of the answer's sentences in it."""

    n: int
    doc_id: str
    title: str
    section: str
    text: str
    start: int
    end: int
    score: float
    spans: list[tuple[int, int]] = field(default_factory=list)
    answers: bool = True

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["spans"] = [list(span) for span in self.spans]
        data["score"] = round(self.score, 4)
        return data


def article_link(citation: Citation, base_url: str = "") -> str:
    """Where the web face shows the cited passage in its article (the FAQ export links there too)."""
    spans = ",".join(f"{s}-{e}" for s, e in citation.spans)
    return (f"{base_url.rstrip('/')}/articles/{quote(citation.doc_id, safe='/')}?start={citation.start}"
            f"&end={citation.end}{'&spans=' + spans if spans else ''}#{citation.start}-{citation.end}")


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation, as sent back by a client."""

    question: str
    answer: str


@dataclass(frozen=True)
class Grounding:
    """What the grounding check made of an LLM's answer (the answer JSON's "grounding")."""

    answerer: str  # "llm" or "extractive"
    generated: int
    kept: int
    dropped: list[str] = field(default_factory=list)


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Citation]
    timings_ms: dict[str, float] = field(default_factory=dict)
    # The question as actually searched, after a follow-up was read in the light of history.
    search_query: str = ""
    # True when the answer (or the refusal) is an entry of the site owner's curated FAQ.
    curated: bool = False
    # The calibrated probability that the answer text holds what was asked (on a refusal: that the
    # best quote would have); None where no model judged it (the naive baseline).
    confidence: float | None = None
    # The answer is shown as an answer; False on refusals and on tentative answers (`TENTATIVE`).
    confident: bool = False
    # Set when the site owner's LLM was asked: who wrote the answer ("llm", or "extractive" when
    # nothing it wrote passed the grounding check), how many sentences it wrote, how many were
    # kept, and the dropped ones. None when no LLM is configured.
    grounding: Grounding | None = None

    @property
    def tentative(self) -> bool:
        return not self.refused and not self.confident

    @property
    def quoted(self) -> str:
        """The answer's cited sentences, without a tentative answer's introduction."""
        return self.answer.removeprefix(TENTATIVE).lstrip() if self.tentative else self.answer

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "search_query": self.search_query,
            "curated": self.curated,
            "confident": self.confident,
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            **({"grounding": asdict(self.grounding)} if self.grounding is not None else {}),
        }

    def support(self) -> float:
        """Share of answer sentences that occur, as written, in a passage they cite: 1.0 when every
        sentence is grounded."""
        sentences = [s for s in _AFTER_MARK.split(self.quoted.strip()) if s]
        by_n = {c.n: c.text for c in self.citations}
        supported = 0
        for sentence in sentences:
            numbers = [int(n) for n in re.findall(r"\[(\d+)\]", sentence)]
            bare = CITATION_MARK.sub("", sentence).strip()
            if numbers and all(n in by_n for n in numbers) and any(bare in by_n[n] for n in numbers):
                supported += 1
        return supported / len(sentences) if sentences else 0.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        citations = [
            Citation(**{**c, "spans": [tuple(s) for s in c.get("spans", [])]})
            for c in data.get("citations", [])
        ]
        return cls(
            question=data["question"],
            answer=data["answer"],
            refused=bool(data["refused"]),
            citations=citations,
            timings_ms=dict(data.get("timings_ms", {})),
            search_query=data.get("search_query", ""),
            curated=bool(data.get("curated", False)),
            confidence=None if data.get("confidence") is None else float(data["confidence"]),
            confident=bool(data.get("confident", False)),
            grounding=Grounding(**data["grounding"]) if data.get("grounding") else None,
        )
