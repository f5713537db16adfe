"""Follow-ups: read a question in the light of the conversation before searching.

A question that leans on an earlier turn ("where is it based?", "why did he leave?") is searched
together with the previous question and the names in the previous answer; a question that stands
on its own is searched as asked, so changing the subject works. A first question that says "he"
means the person the articles are about (`main_subject`). Rule-based on purpose: no model is needed
and the rewritten query is returned to the user (`search_query`) to show its work.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

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
_PRONOUN = re.compile(r"\b(he|him|his|she|her|it|its|they|them|their)\b", re.IGNORECASE)
_PERSONAL = {"he", "him", "his", "she", "her"}
_PERSON = re.compile(r"\b(he|him|his)\b", re.IGNORECASE)
_POSSESSIVE = {"his", "its", "their"}
_SHORT = 3  # content terms at or under which a question cannot stand alone
_FULL_NAME = re.compile(r"\b([A-Z][a-z]+)\s+([A-Z][a-z]*[A-Z]?[a-z]+)\b")  # "Yann LeCun", "Geoffrey Hinton"


def is_follow_up(question: str) -> bool:
    return bool(_ANAPHORA.search(question) or _ELLIPSIS.match(question)) or len(terms(question)) <= _SHORT - 1


def contextualize(question: str, history: Sequence[Turn], subject: str = "") -> str:
    """The query to search for `question`, given the earlier turns (oldest first) and the person
    the articles are mostly about."""
    if not history:
        return _PERSON.sub(lambda m: subject + ("'s" if m.group(0).lower() == "his" else ""), question) \
            if subject else question
    if not is_follow_up(question):
        return question
    previous = history[-1]
    # The previous question may itself have been a follow-up: read it in its own context first.
    previous_query = contextualize(previous.question, history[:-1], subject)
    resolved = _resolve_pronouns(question, previous_query, previous.answer)
    if resolved != question and len(terms(resolved)) >= _SHORT - 1:
        return resolved  # the pronoun now names its subject: the question stands on its own
    return f"{resolved} ({previous_query})"


def _resolve_pronouns(question: str, previous_query: str, previous_answer: str) -> str:
    """Replace "he"/"his" by the person of the previous question and "it"/"they" by the new name
    the previous answer introduced ("What did LeCun start?" -> "AMI Labs" -> "Where is it?")."""
    asked = _names(previous_query)
    lead = re.split(r"(?<=\])\s+", previous_answer.strip(), maxsplit=1)[0]
    introduced = [n for n in _names(re.sub(r"\[\d+\]", "", lead)) if n.lower() not in previous_query.lower()]
    person = asked[0] if asked else (introduced[0] if introduced else "")
    thing = introduced[0] if introduced else (asked[-1] if asked else "")

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower()
        target = person if lower in _PERSONAL else thing
        if not target:
            return word
        return target + ("'s" if lower in _POSSESSIVE else "")

    return _PRONOUN.sub(replace, question)


def _names(text: str) -> list[str]:
    """Capitalised names in `text`, possessives dropped, first words of sentences skipped."""
    names = []
    for match in _NAME.finditer(text):
        name = re.sub(r"[’']s$", "", match.group(0))
        if name.lower() in STOPWORDS or name.split()[0].lower() in STOPWORDS:
            continue
        names.append(name)
    return list(dict.fromkeys(names))


def main_subject(texts: Iterable[str]) -> str:
    """The person the articles are mostly about: of the surnames written after a first name
    somewhere ("Yann LeCun"), the one mentioned most often; "" when there is none."""
    texts = list(texts)
    surnames = {last for text in texts for first, last in _FULL_NAME.findall(text) if first.lower() not in STOPWORDS}
    counts = Counter(word for text in texts for word in re.findall(r"\b[A-Z]\w+\b", text) if word in surnames)
    return counts.most_common(1)[0][0] if counts else ""
