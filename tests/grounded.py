"""Re-checking an LLM's answer the way a reviewer would: every sentence it shows is checked again,
from scratch, against the retrieved passage its `[n]` stands for."""

from __future__ import annotations

from assistant.engine import Assistant
from assistant.grounding import Claim, GroundingCheck, claims
from assistant.types import Answer


def assert_grounded(assistant: Assistant, answer: Answer) -> None:
    """Every sentence of `answer` passes the grounding check against the passage it cites, and
    the `grounding` numbers add up."""
    grounding = answer.grounding
    assert grounding is not None
    if grounding.answerer != "llm":
        return
    assert grounding.generated == grounding.kept + len(grounding.dropped)
    retrieval = assistant.retrieve(answer.question)
    check = GroundingCheck(assistant.index)
    shown = claims(answer.quoted)
    assert len(shown) == grounding.kept
    for claim in shown:
        (n,) = claim.cites
        cited = next(c for c in answer.citations if c.n == n)
        position = next(i for i, p in enumerate(retrieval.passages, 1)
                        if (p.chunk.doc_id, p.chunk.start, p.chunk.end) == (cited.doc_id, cited.start, cited.end))
        verdict = check.check(Claim(claim.text, (position,)), retrieval)
        assert verdict.supported, (claim.text, verdict.why)
        assert verdict.spans[0] in cited.spans
