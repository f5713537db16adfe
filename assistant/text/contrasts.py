"""The words a site sets against each other: "a file or directory", "whether the lock is
acquired or released", "processes rather than threads", "read/write". Read from the article texts
by pattern at ingest and saved with the lexicon, so that the grounding check knows a site's own
alternatives (a claim that says "directory" where its sentence says "file" is turned round) as it
knows WordNet's antonyms. No model; a rule of thumb, not a parser.

A pair set against each other once in a strong pattern ("either X or Y", "whether X or Y",
"X rather than Y", "X instead of Y", "X as opposed to Y", "X versus Y") counts; a pair only
joined by "or", by a slash, or by "and" between two plurals ("finders and loaders") must be so
joined twice, since a single "or" often glosses ("a mapping or dictionary"). So do the words in
which two sibling headings differ ("Regular packages", "Namespace packages"): a site names its
parts by what sets them apart. And so do two words that each come before the same word often
(`KIND_MIN` times or more): the kinds of one thing the site tells apart ("new reference" and
"borrowed reference", "expression list" and "statement list").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import combinations

from .terms import STOPWORDS, stem

_WORD = r"([A-Za-z][a-z]{2,})"
_DETERMINER = r"(?:the |a |an )?"
_STRONG = (re.compile(rf"\b(?:either|whether) {_DETERMINER}{_WORD} or {_DETERMINER}{_WORD}\b", re.IGNORECASE),
           re.compile(rf"\b{_WORD},? (?:rather than|instead of|as opposed to|versus|vs\.?) {_DETERMINER}{_WORD}\b"))
_PLURAL = r"([A-Za-z][a-z]+[a-rt-z]s)"  # "finders", not "class"
_WEAK = (re.compile(rf"\b{_WORD} or {_DETERMINER}{_WORD}\b"),
         re.compile(rf"\b{_PLURAL} and {_DETERMINER}{_PLURAL}\b"),  # "finders and loaders", not "read and return"
         re.compile(rf"(?<![/\w.]){_WORD}/{_WORD}(?![/\w])"))  # "read/write", not a path's "usr/lib"
WEAK_MIN = 2
_BEFORE = re.compile(r"(?=\b([a-z]{3,}) ([a-z]{3,})\b)")  # each two lowercase words in a row, overlapping
KIND_MIN = 4
_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[A-Z]\.)\s+")  # "3.3.5. ", "A. "
# Saved with each lexicon: one saved by another version is built again by the next ingest.
# 2: "and" between two plurals; 3: sibling headings; 4: kinds of one thing
VERSION = 4


def contrasts(texts: Iterable[str], headings: Iterable[Iterable[str]] = ()) -> list[tuple[str, str]]:
    """The stem pairs the texts set against each other, each once, in order: ("directori", "file");
    and the words in which two sibling headings differ (`headings`: each article's section titles,
    and the articles' titles): "Regular packages" and "Namespace packages", "The async for
    statement" and "The async with statement"."""
    strong: Counter[tuple[str, str]] = Counter()
    weak: Counter[tuple[str, str]] = Counter()
    before: Counter[tuple[str, str]] = Counter()
    for text in texts:
        for patterns, counts in ((_STRONG, strong), (_WEAK, weak)):
            for pattern in patterns:
                counts.update(pair for x, y in pattern.findall(text) if (pair := _pair(x, y)))
        before.update(_BEFORE.findall(text))
    for titles in headings:
        strong.update(_siblings(titles))
    return sorted(set(strong) | {pair for pair, n in weak.items() if n >= WEAK_MIN} | _kinds(before))


def _kinds(before: Counter[tuple[str, str]]) -> set[tuple[str, str]]:
    """The pairs of words that each come before the same content word at least `KIND_MIN` times."""
    kinds: dict[str, set[str]] = {}
    for (word, following), n in before.items():
        if n >= KIND_MIN and following not in STOPWORDS:
            kinds.setdefault(following, set()).add(word)
    return {pair for found in kinds.values() for x, y in combinations(sorted(found), 2) if (pair := _pair(x, y))}


def _siblings(titles: Iterable[str]) -> set[tuple[str, str]]:
    """The word pairs in which two titles of as many words differ, the rest the same."""
    differing: dict[tuple[tuple[str, ...], tuple[str, ...]], set[str]] = {}
    for title in set(titles):
        words = _NUMBERING.sub("", title).lower().split()
        for i, word in enumerate(words if len(words) >= 2 else ()):
            if re.fullmatch(r"[a-z]{3,}", word):
                differing.setdefault((tuple(words[:i]), tuple(words[i + 1:])), set()).add(word)
    return {pair for found in differing.values() for x, y in combinations(sorted(found), 2)
            if (pair := _pair(x, y))}


def _pair(x: str, y: str) -> tuple[str, str] | None:
    """The two words' stems in order, or None when either is a stopword or one stem begins the
    other ("int or integer", "read or readable": a word and its own longer form)."""
    x, y = x.lower(), y.lower()
    if x in STOPWORDS or y in STOPWORDS:
        return None
    a, b = sorted((stem(x), stem(y)))
    return None if a.startswith(b) or b.startswith(a) else (a, b)


def opposed(pairs: Iterable[Sequence[str]]) -> dict[str, set[str]]:
    """Each word of the pairs with the words it is set against, both ways: "file" -> {"directori"}."""
    found: dict[str, set[str]] = {}
    for a, b in pairs:
        if a != b:
            found.setdefault(a, set()).add(b)
            found.setdefault(b, set()).add(a)
    return found
