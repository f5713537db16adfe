"""Who the articles are about: the person they are mostly about (whom a first question's bare
"he" means) and every person they name (whom a follow-up's "he" may mean). Read from the article
texts by pattern; no model. Used by follow-ups (`chat`) and by the question's focus (`retrieve`)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .terms import STOPWORDS, stem

_FULL_NAME = re.compile(r"\b([A-Z][a-z]+)\s+([A-Z][a-z]*[A-Z]?[a-z]+)\b")  # "Yann LeCun", "Geoffrey Hinton"


@dataclass(frozen=True)
class Cast:
    """Who the articles are about: the person a first question's bare "he" means, and every
    person they name (a surname written after a first name somewhere: "Geoffrey Hinton")."""

    subject: str = ""
    people: frozenset[str] = frozenset()
    topic: str = ""  # the thing the site is about ("chrony", "zsh"): what a first question's bare "it" means

    def subject_names(self) -> str:
        """Every way the articles name their subject ("Yann LeCun LeCun"): none of it is a question's focus."""
        return " ".join(p for p in sorted(self.people) if p.split()[-1] == self.subject) or self.subject


NOBODY = Cast()


def cast(texts: Iterable[str], titles: Iterable[str] = ()) -> Cast:
    """The articles' cast. A person is a surname after a first name, where the first name is a
    word the articles only ever write right before another name ("Yann", "Geoffrey", not "Google"
    or "Chief"), and neither word is one they also write in lower case ("Big Tech", "Internal
    Contradictions" are things). A rule of thumb, not a name recogniser: "Turing Award" passes."""
    texts = list(texts)
    lowercase = {stem(w) for w in {w for text in texts for w in re.findall(r"\b[a-z]+\b", text)}}
    pairs = Counter((first, last) for text in texts for first, last in _FULL_NAME.findall(text))
    alone = Counter(w for text in texts for w in re.findall(r"\b[A-Z][a-z]+\b(?!\s+[A-Z])", text))
    people = {name for (first, last), _ in pairs.items()
              if first.lower() not in STOPWORDS and not alone[first]
              and stem(first.lower()) not in lowercase and stem(last.lower()) not in lowercase
              for name in (last, f"{first} {last}")}
    return Cast(main_subject(texts), frozenset(people), main_topic(list(titles), texts))


# Words that name a document's kind, not its subject ("Frequently Asked Questions", "User Manual").
_DOCUMENT_WORDS = frozenset(
    "faq faqs frequently asked question questions answer answers manual guide documentation docs readme "
    "introduction chapter section page index contents table user reference howto notes note release news "
    "version appendix overview tutorial help about file files list".split())


def main_topic(titles: list[str], texts: list[str]) -> str:
    """The thing the site is about: the word its page titles name most often (two pages at least),
    among words that are no stopword or document kind, ties going to the word its text says most;
    "" when no word recurs. A FAQ's "What is it?" asks about this."""
    counts = Counter(w for title in titles for w in {w.lower() for w in re.findall(r"[A-Za-z][\w+-]*", title)}
                     if len(w) > 2 and w not in STOPWORDS and w not in _DOCUMENT_WORDS)
    if not counts or counts.most_common(1)[0][1] < 2:
        return ""
    best = max(counts.values())
    tied = [w for w, n in counts.items() if n == best]
    said = Counter(w.lower() for text in texts for w in re.findall(r"[A-Za-z][\w+-]*", text) if w.lower() in tied)
    return max(tied, key=lambda w: (said[w], w))


def main_subject(texts: Iterable[str]) -> str:
    """The person the articles are mostly about: of the surnames written after a first name
    somewhere ("Yann LeCun"), the one mentioned most often; "" when there is none."""
    texts = list(texts)
    surnames = {last for text in texts for first, last in _FULL_NAME.findall(text) if first.lower() not in STOPWORDS}
    counts = Counter(word for text in texts for word in re.findall(r"\b[A-Z]\w+\b", text) if word in surnames)
    return counts.most_common(1)[0][0] if counts else ""
