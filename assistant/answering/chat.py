"""Follow-ups: read a question in the light of the conversation before searching.

A question that leans on an earlier turn ("where is it based?", "why did he leave?") is searched
together with the previous question and the names in the previous answer; a question that stands
on its own is searched as asked, so changing the subject works. A first question that says "he"
means the person the articles are about (`people.Cast`). Rule-based on purpose: no model is needed
and the rewritten query is returned to the user (`search_query`) to show its work.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..text.people import NOBODY, Cast
from ..text.terms import STOPWORDS, terms
from ..types import REFUSAL, TENTATIVE, Turn

_ANAPHORA = re.compile(
    r"\b(he|him|his|she|her|hers|it|its|they|them|their|theirs|this|that|these|those|there|then|"
    r"the same|the company|the lab|the article|the model|such)\b",
    re.IGNORECASE,
)
_ELLIPSIS = re.compile(r"^\s*(and|but|so|what about|how about|why|why not|how come|really|when|where)\b",
                       re.IGNORECASE)
# A name is a run of capitalised words; a possessive ends it ("LeCun's Fundamental AI Research" is two).
_WORD = r"[A-Z][\w-]*(?:[’'](?!s\b)\w+)*"
_NAME = re.compile(rf"\b{_WORD}(?:\s+{_WORD})*")
_PLACE = re.compile(rf"\b(?:in|at|from|near)\s+(?:the\s+)?({_WORD}(?:\s+(?:{_WORD}|\d+))*)")
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_TIME = re.compile(rf"\b(?:in|since|by|on|until)\s+((?:{_MONTH}\s+)?(?:\d{{1,2}},?\s+)?(?:1[89]|20)\d\d)\b")
_PRONOUN = re.compile(r"\b(he|him|his|she|her|it|its|they|them|their)\b", re.IGNORECASE)
_PERSONAL = {"he", "him", "his", "she", "her"}
_PERSON = re.compile(r"\b(he|him|his)\b", re.IGNORECASE)
_THING = re.compile(r"\b(it|its|they|them|their)\b", re.IGNORECASE)
_POSSESSIVE = {"his", "its", "their"}
# A bare "it" or "this" as the thing asked about ("What is it?", "How do I set it up?"), not "is it
# possible" or "this file".
_THING = re.compile(r"\b(?:it|this)\b(?!\s+(?:possible|true|safe|normal|ok|okay|necessary|a|an|the|\w+ing)\b)"
                    r"(?=\s*(?:[?.!,]|up\b|down\b|on\b|off\b|out\b|for\b|from\b|with\b|$))", re.IGNORECASE)
_SHORT = 3  # content terms at or under which a question cannot stand alone


def is_follow_up(question: str) -> bool:
    """Leans on an earlier turn: a pronoun, an elliptical start ("and Google?", "why?"), or too few
    words to stand alone unless one of them names its subject ("Who founded Anthropic?")."""
    if _ANAPHORA.search(question) or _ELLIPSIS.match(question):
        return True
    return len(terms(question)) <= _SHORT - 1 and not _names(question.strip()[1:])


def leans_on_answer(question: str) -> bool:
    """An elliptical follow-up ("In what year?", "Where is it based?", "What did he say there?"):
    so few words of its own that its answer is first looked for where the previous answer was."""
    return is_follow_up(question) and len(terms(question)) <= _SHORT - 1 and not _names(question.strip()[1:])


def quoted_text(answer: str, prose: bool = False) -> str:
    """What an earlier answer quoted, without its `[n]` markers and introduction ("" for a refusal);
    with `prose`, without the headlines it quoted too (in title case every word looks like a name)."""
    if answer.startswith(REFUSAL):
        return ""
    quotes = [q.strip() for q in re.split(r"\s*\[\d+\]", answer.removeprefix(TENTATIVE))]
    return " ".join(q for q in quotes if q and not (prose and _title_case(q)))


def _title_case(sentence: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z][\w’']*", sentence) if len(w) > 3]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.8 * len(words)


def contextualize(question: str, history: Sequence[Turn], who: Cast = NOBODY) -> str:
    """The query to search for `question`, given the earlier turns (oldest first) and the
    articles' cast."""
    subject = who.subject
    if not history:
        if who.topic and who.topic != subject.lower() and len(terms(question)) < _SHORT - 1:
            question = _THING.sub(who.topic, question)  # "Where do I get it?" in a FAQ about zsh
        return _PERSON.sub(lambda m: subject + ("'s" if m.group(0).lower() == "his" else ""), question) \
            if subject else question
    if not is_follow_up(question):
        return question
    previous = history[-1]
    # The previous question may itself have been a follow-up: read it in its own context first.
    previous_query = contextualize(previous.question, history[:-1], who)
    resolved = _resolve_pronouns(question, previous.question, previous_query, previous.answer, who)
    if resolved != question and len(terms(resolved)) >= _SHORT - 1:
        return resolved  # the pronoun now names its subject: the question stands on its own
    return f"{resolved} ({previous_query})"


def _resolve_pronouns(question: str, previous_question: str, previous_query: str, previous_answer: str,
                      who: Cast) -> str:
    """Replace "he"/"his" by the person the previous answer named last (else the one the previous
    question named, else the articles' subject), and "it"/"they" by the thing the previous
    question's own "it" meant (the conversation stays on its topic), else by the first new name
    the previous answer introduced that is neither a person nor a place ("What did LeCun start?"
    -> "...start AMI Labs in Paris" -> "Where is it?": AMI Labs). A refusal names nobody."""
    answer = quoted_text(previous_answer, prose=True)
    asked = _names(previous_query)
    mentioned = [m for m in _NAME.finditer(answer) if _person(m.group(0), who)]
    person = _surname(mentioned[-1].group(0), who) if mentioned else next(
        (_surname(n, who) for n in asked if _person(n, who)), asked[0] if asked else who.subject)
    places = [m.group(1) for m in _PLACE.finditer(answer) if not re.match(_MONTH, m.group(1))]
    introduced = [n for n in _names(answer) if n.lower() not in previous_query.lower()
                  and not _person(n, who) and n not in {p.split()[0] for p in places}]
    carried = [n for n in asked if n.lower() not in previous_question.lower() and not _person(n, who)] \
        if _THING.search(previous_question) else []
    thing = (carried or introduced or asked[-1:] or [""])[0]

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower()
        target = person if lower in _PERSONAL else thing
        if not target:
            return word
        return target + ("'s" if lower in _POSSESSIVE else "")

    resolved = _PRONOUN.sub(replace, question)
    # "there" and "then": the place and the time the previous answer named last.
    times = [m.group(1) for m in _TIME.finditer(answer)]
    if places:
        resolved = re.sub(r"\bthere\b", f"at {places[-1]}", resolved, flags=re.IGNORECASE)
    if times:
        resolved = re.sub(r"\bthen\b", f"in {times[-1]}", resolved, flags=re.IGNORECASE)
    return resolved


def _person(name: str, who: Cast) -> bool:
    name = re.sub(r"[’']s$", "", name)
    return name in who.people or name.split()[-1] in who.people


def _surname(name: str, who: Cast) -> str:
    """"Geoffrey Hinton" -> "Hinton": how a follow-up's query names a person."""
    last = re.sub(r"[’']s$", "", name).split()[-1]
    return last if last in who.people else name


def _names(text: str) -> list[str]:
    """Capitalised names in `text`, possessives dropped, first words of sentences skipped."""
    names = []
    for match in _NAME.finditer(text):
        name = re.sub(r"[’']s$", "", match.group(0))
        if name.lower() in STOPWORDS or name.split()[0].lower() in STOPWORDS:
            continue
        names.append(name)
    return list(dict.fromkeys(names))
