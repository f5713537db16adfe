"""Re-checking an LLM's answer the way a reviewer would: every sentence it shows is checked again,
from scratch, against the retrieved passage its `[n]` stands for, and the numbers add up."""

from __future__ import annotations

from assistant.answering.grounding import GroundingCheck, claims
from assistant.engine import Assistant
from assistant.types import Answer


def assert_grounded(assistant: Assistant, answer: Answer) -> None:
    grounding = answer.grounding
    assert grounding is not None
    if grounding.answerer != "llm":
        return
    assert grounding.generated == grounding.kept + len(grounding.dropped)
    assert len(claims(answer.quoted)) == grounding.kept
    assert GroundingCheck(assistant.index).audit(answer, assistant.retrieve(answer.question)) == []
