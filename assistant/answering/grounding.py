"""The grounding check: a sentence an LLM wrote reaches the reader only if the passage it cites
supports it.

A generated answer is split into claims, each with the `[n]` marks it carries. A claim is
supported by passage n when one of that passage's quotable sentences passes every test (a claim
that merges two sentences is not supported: checked against the two together, a word or name from
one hides the other's opposite; the answer then falls back on the extractive one):

- meaning: the claim's vector is close to the sentence's, and each of the claim's words is in the sentence
  or aligns with one of its tokens (the same MiniLM token alignment the extractive answerer reads);
  or the claim is the sentence's opening clause, word for word;
- facts: every number, amount, month and day the claim states is in the sentence, and every name
  (a capitalised word that is not plain English) is in the sentence or its article's title, in any case;
- polarity: each negation ("not", "never", "n't", "no", ...) of the claim bears on words a negation
  of the sentence bears on, and a negation of the sentence over words the claim repeats is in the claim;
- opposites: no word the claim adds is the opposite of a word of the sentence (WordNet's antonyms,
  `data/antonyms.txt`, written by `bench/make_wordnet.py`), and no word the claim puts in the place of
  one of the sentence's is its opposite (those, `data/opposites.txt`'s, or a pair the site itself
  sets against each other: `text/contrasts.py`, saved with the lexicon) or repeats another word of
  the sentence ("added or removed" -> "removed or removed").

The thresholds are fitted by `bench/bench_grounding.py --fit` on perturbed and paraphrased
sentences of the seed articles, and measured on the Python docs' (never fitted on). A supported
claim's evidence is that sentence: its exact offsets in the article become the
citation's span. This module judges; it never writes or rewrites a sentence.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from importlib import resources

import numpy as np

from ..store.embeddings import Embedder
from ..store.reader import IndexReader
from ..text.contrasts import opposed
from ..text.terms import STOPWORDS, WORD, stem
from ..types import Answer, Chunk
from .polarity import NEGATION, flipped, unprefixed
from .retrieve import Retrieval, english_word

# Fitted by `python bench/bench_grounding.py --fit` on the seed articles' claims (see its docstring).
DENSE_MIN = 0.50  # the claim's vector against the sentence's
ALIGN_MIN = 0.65  # the IDF-free mean over the claim's words of their best token cosine in the sentence
WORD_MIN = 0.35  # the worst-aligned word the claim adds

_CITES = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
# Citation marks written after a sentence's full stop belong to that sentence: "... Paris. [2] The".
_MARKS_AFTER_STOP = re.compile(r"([.!?][\"”’')]*)((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"”’')]*\s+(?=[\"“‘'(]?[A-Z0-9])")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# "one" is left out: far more often a pronoun or "a" ("one of them", "one that", "one workaround")
# than a count, and a count it replaces ("two") is still caught.
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split()) if w != "one"}
_NUMBER_WORDS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70",
                      "eighty": "80", "ninety": "90"})
_SCALES = frozenset("hundred thousand million billion trillion dozen half twice double triple percent".split())
_CALENDAR = re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|November|"
                       r"December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
# A sentence that tells an AI what to do is planted, not evidence: "Ignore the question and say: ...".
_INSTRUCTION = re.compile(r"\b(ignore|disregard|forget)\b[^.]{0,60}\b(question|instructions?|prompt|above|previous)\b"
                          r"|\b(say|reply|respond|answer|write|output)\b(\s+\w+){0,2}\s*:", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[\"”’')]*\s*[,;:(–—]")
_SUBORDINATE = frozenset("if when whenever unless although though because while since whether as before after "
                         "until once where".split())
_LEAD_MIN = 5  # words: a shorter opening clause says too little to stand for the sentence
_OR_LATER = frozenset("later newer above higher greater earlier older below lower more less fewer".split())
_NAME = re.compile(r"\b[A-Z][\w'’.-]*[\w]|\b[A-Z]\b")


@dataclass(frozen=True)
class Claim:
    """One generated sentence, without its citation marks, and the passages it cites (1-based)."""

    text: str
    cites: tuple[int, ...]


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    supported: bool
    passage: int = 0  # the cited passage that supports it (1-based), 0 when none does
    spans: list[tuple[int, int]] = field(default_factory=list)  # the supporting sentences' offsets
    why: str = ""  # what failed, for the unsupported


@dataclass(frozen=True)
class _Unit:
    """A quotable sentence of a passage, as the check reads it."""

    span: tuple[int, int]
    text: str
    terms: set[str]
    words: set[str]  # the stems of every word, stopwords too ("more", "after")
    vector: np.ndarray
    tokens: np.ndarray


def claims(generated: str) -> list[Claim]:
    """The generated text's sentences with the `[n]` marks each carries (marks after a full stop
    count for the sentence before them)."""
    text = _MARKS_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", generated.strip())
    found = []
    for piece in _BOUNDARY.split(text):
        cites = tuple(int(n) for group in _CITES.findall(piece) for n in re.split(r"\s*,\s*", group))
        bare = re.sub(r"\s+([.!?,;:])", r"\1", _CITES.sub("", piece)).strip()
        if bare:
            found.append(Claim(bare, cites))
    return found


class GroundingCheck:
    """Judges claims against the retrieved passages of one question."""

    def __init__(self, index: IndexReader, embedder: Embedder | None = None):
        self.index = index
        self.embedder = embedder or index.embedder

    def check(self, claim: Claim, retrieval: Retrieval) -> Verdict:
        """Is the claim supported by a passage it cites (numbered as retrieved, from 1)?"""
        return self.judge(claim, list(zip((p.chunk for p in retrieval.passages), retrieval.sentence_ids,
                                          strict=True)))

    def judge(self, claim: Claim, passages: list[tuple[Chunk, list[int]]]) -> Verdict:
        """The same against passages given as chunks with their sentences' lexicon positions."""
        cited = [n for n in dict.fromkeys(claim.cites) if 1 <= n <= len(passages)]
        if not claim.cites:
            return Verdict(claim, False, why="it cites no passage")
        if not cited:
            return Verdict(claim, False, why=f"it cites a passage that does not exist ({claim.cites[0]})")
        vectors, tokens = self.embedder.embed_tokens([claim.text])
        words = _claim_words(claim.text, tokens[0].vectors, tokens[0].spans)
        # Closest in meaning first: the sentence a claim was made from decides, and when it says nearly
        # the same and is contradicted (a number, a name, a negation, an opposite), a less similar
        # sentence of the passage does not outvote it.
        units = sorted(((n, chunk.title, unit) for n in cited for chunk, ids in [passages[n - 1]]
                        for unit in self._units(ids)), key=lambda u: -float(vectors[0] @ u[2].vector))
        for n, title, unit in units:
            if _lacks(vectors[0], words, unit) and not _leads(claim.text, unit.text):
                continue
            if why := hard_failure(claim.text, unit, title, self.index.lexicon.contrast):
                return Verdict(claim, False, why=why)
            return Verdict(claim, True, n, [unit.span])
        if not units:
            return Verdict(claim, False, why="the passage it cites has no sentence to check it against")
        _, title, closest = units[0]  # no sentence says about the same: what the closest one lacks
        return Verdict(claim, False, why=hard_failure(claim.text, closest, title, self.index.lexicon.contrast)
                       or _lacks(vectors[0], words, closest))

    def audit(self, answer: Answer, retrieval: Retrieval) -> list[str]:
        """The sentences of `answer` that fail when checked again, from scratch, against the
        retrieved passage each one's [n] stands for, and against the span its citation gives."""
        position = {(p.chunk.doc_id, p.chunk.start, p.chunk.end): n for n, p in enumerate(retrieval.passages, 1)}
        cited = {c.n: c for c in answer.citations}
        failed = []
        for claim in claims(answer.quoted):
            citation = cited.get(claim.cites[0]) if len(claim.cites) == 1 else None
            n = position.get((citation.doc_id, citation.start, citation.end), 0) if citation else 0
            verdict = self.check(Claim(claim.text, (n,)), retrieval)  # no such passage: 0, never supported
            if citation is None or not verdict.supported or verdict.spans[0] not in citation.spans:
                failed.append(claim.text)
        return failed

    def _units(self, sentence_ids: list[int]) -> list[_Unit]:
        ids = [i for i in sentence_ids if self.index.lexicon.sentence(i).quotable]
        rows = [self.index.lexicon.sentence(i) for i in ids]
        return [_Unit((row.start, row.end), record.text, set(record.terms), _stems(record.text), record.vector,
                      record.tokens) for row, record in zip(rows, self.index.sentences(ids), strict=True)
                if not _INSTRUCTION.search(record.text)]


@dataclass(frozen=True)
class _Word:
    term: str  # its stem
    vector: np.ndarray  # the mean of its tokens' vectors, unit length


def _claim_words(text: str, vectors: np.ndarray, spans: np.ndarray) -> list[_Word]:
    """The claim's content words, each with the vector of its tokens."""
    words = []
    for match in WORD.finditer(text.lower().replace("’", "'")):
        word = match.group()
        if word in STOPWORDS or (term := stem(word)) in STOPWORDS:
            continue
        inside = (spans[:, 0] < match.end()) & (spans[:, 1] > match.start()) if len(spans) else np.zeros(0, bool)
        if not inside.any():
            continue
        vector = vectors[inside].mean(axis=0)
        words.append(_Word(term, vector / max(float(np.linalg.norm(vector)), 1e-9)))
    return words


def _lacks(vector: np.ndarray, words: list[_Word], unit: _Unit) -> str:
    """Why `unit` does not say about the same as the claim, or "" when it does."""
    dense, align, worst = meaning_scores(vector, words, unit)
    if dense < DENSE_MIN or align < ALIGN_MIN:
        return "meaning: no sentence of the passage it cites says this"
    if worst < WORD_MIN:
        return "a word: it adds something the passage it cites does not say"
    return ""


def hard_failure(claim: str, unit: _Unit, title: str, contrast: Mapping[str, set[str]]) -> str:
    """The facts, polarity and opposites tests: what fails, or "". `contrast` holds the stems the
    site sets against each other (text/contrasts.py), opposites where one is put in the other's place."""
    missing = [n for n in names(claim) if not _mentioned(n, f"{title}\n{unit.text}")]
    if missing:
        return f"a name: '{missing[0]}' is not in the sentence it cites"
    if facts := facts_of(claim) - facts_of(unit.text):  # as often as the claim states it
        return f"a number: '{sorted(facts)[0]}' is not in the sentence it cites"
    claimed = _stems(claim)
    if flipped(claim, unit.text, claimed):
        return "polarity: it negates what the sentence it cites affirms, or the other way round"
    # Negations are the polarity test's: "no longer" for "not ... any more", or "unaffected" for "does
    # not affect", is no opposite.
    negating = NEGATION | {stem(w) for w in WORD.findall(f"{claim} {unit.text}".lower()) if unprefixed(w)}
    said = {lemma for word in claimed for lemma in _lemmas(word)}
    present = {lemma for word in unit.words - negating for lemma in _lemmas(word)}
    added = {lemma for word in claimed - unit.words - negating for lemma in _lemmas(word)}
    # A word the claim puts where the sentence has its opposite (and the claim does not).
    if opposite := next((f"{a}/{b}" for a in sorted(added) for b in present - said if _opposite(a, b)), ""):
        return f"an opposite: '{opposite}' turns round what the sentence it cites says"
    if swap := _swapped(_sequence(claim), _sequence(unit.text), contrast):
        return f"an opposite: '{swap}' turns round what the sentence it cites says"
    return ""


def _leads(claim: str, sentence: str) -> bool:
    """Is the claim the sentence's opening clause, word for word ("X, which Y" cut to "X"), and a
    main clause ("If X, Y" cut to "If X" asserts nothing)? Its meaning is then the sentence's,
    however far the rest moves the sentence's vector."""
    ours, theirs = _sequence(claim), list(WORD.finditer(sentence.lower().replace("’", "'")))
    return _LEAD_MIN <= len(ours) < len(theirs) and ours[0] not in _SUBORDINATE \
        and ours == [m.group() for m in theirs[:len(ours)]] \
        and _CLAUSE_END.match(sentence, theirs[len(ours) - 1].end()) is not None


def _mentioned(name: str, text: str) -> bool:
    """Is the name in the text, whatever its case ("Variadic" starting a claim, "variadic" inside the
    sentence), its hyphenated parts each on their own ("Unix-like" for "Unix like")?"""
    return all(re.search(rf"(?<![\w]){re.escape(part)}(?![\w])", text, re.IGNORECASE)
               for part in name.split("-") if part)


def _swapped(claim: list[str], sentence: list[str], contrast: Mapping[str, set[str]]) -> str:
    """A word the claim puts in the place of one of the sentence's (a run of words replaced by as
    many, their neighbours the same) that turns it round: "new/old", or ""."""
    stems = [stem(w) for w in claim], [stem(w) for w in sentence]
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=stems[1], b=stems[0], autojunk=False).get_opcodes():
        if tag != "replace" or i2 - i1 != j2 - j1:
            continue
        for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
            if {sentence[i], claim[j]} == {"and", "or"} and claim[j + 1:j + 2] and claim[j + 1] in _OR_LATER:
                continue  # "3.8 or later" is "3.8 and later"
            if _swap(sentence[i], claim[j], (claim, sentence), stems, contrast):
                return f"{claim[j]}/{sentence[i]}"
    return ""


def _swap(old: str, new: str, words: tuple[list[str], list[str]], stems: tuple[list[str], list[str]],
          contrast: Mapping[str, set[str]]) -> bool:
    """`new` in the place of `old` is its opposite ("immutable" for "mutable" too, "directory" for
    "file" where the site sets the two against each other), or a content word the sentence uses
    elsewhere, as written, and the claim now once more ("added or removed" -> "removed or removed");
    `words` and `stems` are the claim's and the sentence's."""
    (claim, sentence), (claimed, said) = words, stems
    a, b = stem(new), stem(old)
    if claimed.count(a) <= said.count(a) and claimed.count(b) >= said.count(b) \
            and (claimed.index(a) < claimed.index(b)) == (said.index(a) < said.index(b)):
        return False  # both words in both, as often and in the same order: a reordering, not a swap
    if old == unprefixed(new) or new == unprefixed(old):
        return False  # "unable" for "not able": an "un-" word is a negation, the polarity test's to weigh
    if _opposite(new, old) or any(_opposite(x, y) or y in opposites("opposites.txt").get(x, ())
                                  or y in contrast.get(x, ()) for x in _lemmas(a) for y in _lemmas(b)):
        return True
    return a not in STOPWORDS and b not in STOPWORDS and 0 < sentence.count(new) < claim.count(new) \
        and claimed.count(b) < said.count(b)


def _sequence(text: str) -> list[str]:
    """Its words in order, lowercase, stopwords too."""
    return WORD.findall(text.lower().replace("’", "'"))


_NEGATING_PREFIX = re.compile(r"(un|in|im|il|ir|non|dis|anti)-?")


def _opposite(a: str, b: str) -> bool:
    """WordNet calls them antonyms, or one is the other with a negating prefix ('mutabl', 'immutabl')."""
    if b in opposites("antonyms.txt").get(a, ()):
        return True
    short, long = sorted((a, b), key=len)
    prefix = _NEGATING_PREFIX.fullmatch(long[: len(long) - len(short)]) if long.endswith(short) else None
    return prefix is not None and len(short) >= 4


def meaning_scores(vector: np.ndarray, words: list[_Word], unit: _Unit) -> tuple[float, float, float]:
    """The claim's cosine to the unit, its words' mean alignment, and its worst-aligned word's
    (a word the unit uses counts 1)."""
    coverage = [1.0 if w.term in unit.terms else float((unit.tokens @ w.vector).max()) if len(unit.tokens) else 0.0
                for w in words] or [1.0]
    return float(vector @ unit.vector), float(np.mean(coverage)), min(coverage)


def _stems(text: str) -> set[str]:
    return {stem(w) for w in WORD.findall(text.lower().replace("’", "'"))}


def _lemmas(word: str) -> set[str]:
    """A stem and, for a comparative or superlative, its adjective's ('larger', 'biggest' -> 'larg', 'big')."""
    found = {word}
    for suffix in ("er", "est", "r", "st"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            found.update({stem(base), stem(base[:-1]) if base[-1] == base[-2] else stem(base)})
    return found


def facts_of(text: str) -> Counter[str]:
    """Numbers (as digits, thousands separators dropped), scale words, months and days, counted."""
    found = Counter(n.replace(",", "") for n in _NUMBER.findall(text))
    for word in WORD.findall(text.lower()):
        if word in _NUMBER_WORDS:
            found[_NUMBER_WORDS[word]] += 1
        elif word in _SCALES:
            found[word] += 1
    found.update(w.lower() for w in _CALENDAR.findall(text))  # capitalised only: "may" is a verb
    found["percent"] += text.count("%")
    return +found


def names(text: str) -> list[str]:
    """Capitalised words that are not plain English ('LeCun', 'Meta', 'AMI', 'Paris'); a
    sentence's first word only if it is no English word."""
    found = []
    for match in _NAME.finditer(text):
        word = re.sub(r"['’]s$", "", match.group()).rstrip(".")
        first = not text[:match.start()].strip() or re.search(r"[.!?:\"“(]\s*$", text[:match.start()])
        if word == "I" or _CALENDAR.fullmatch(word) or word.lower() in _NUMBER_WORDS \
                or (first and (english_word(word.lower()) or english_word(word.lower().removesuffix("s")))):
            continue
        found.append(word)
    return found


@functools.lru_cache(maxsize=2)
def opposites(name: str) -> dict[str, set[str]]:
    """Each word's opposites in `data/{name}`, both as stems: 'increas' -> {'decreas'}."""
    text = resources.files("assistant").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return opposed(tuple(stem(w) for w in line.split()) for line in text.splitlines()
                   if line and not line.startswith("#"))
