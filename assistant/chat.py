"""Follow-ups: read a question in the light of the conversation before searching.

A question that leans on an earlier turn ("where is it based?", "why did he leave?") is searched
together with the previous question and the names in the previous answer; a question that stands
on its own is searched as asked, so changing the subject works. Rule-based on purpose: no model
is needed and the rewritten query is returned to the user (`search_query`) to show its work.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .terms import STOPWORDS, terms
from .types import Turn

_ANAPHORA = re.compile(
    r"\b(he|him|his|she|her|hers|it|its|they|them|their|theirs|this|that|these|those|there|then|"
    r"the same|the company|the lab|the article|the model|such)\b",
    re.IGNORECASE,
)
_ELLIPSIS = re.compile(r"^\s*(and|but|so|what about|how about|why|why not|how come|really|when|where)\b",
                       re.IGNORECASE)
_NAME = re.compile(r"\b[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*")
_SHORT = 3  # content terms at or under which a question cannot stand alone


def is_follow_up(question: str) -> bool:
    return bool(_ANAPHORA.search(question) or _ELLIPSIS.match(question)) or len(terms(question)) <= _SHORT - 1


def contextualize(question: str, history: Sequence[Turn]) -> str:
    """The query to search for `question`, given the earlier turns (oldest first)."""
    if not history or not is_follow_up(question):
        return question
    previous = history[-1]
    # The previous question may itself have been a follow-up: read it in its own context first.
    previous_query = contextualize(previous.question, history[:-1])
    names = [n for n in _NAME.findall(previous.answer)
             if n.lower() not in question.lower() and n.lower() not in STOPWORDS]
    context = " ".join(dict.fromkeys([previous_query, *names[:6]]))
    return f"{question} ({context})"
