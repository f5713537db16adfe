"""The grounding check's polarity test: does a claim negate what the sentence it cites affirms,
or the other way round? Each negation ("not", "never", "n't", "no", "without", "unless", an
"un-" word, "rather than", ...) bears on the (up to) two content words after it, and a "-less" word
on its base ("expression-less" is "without an expression"); a claim and its sentence must negate the
same things, said however they like. A parenthesis of the sentence that the claim leaves out whole
takes its negations with it: "(but not ...)" dropped is a shortening, not a flip.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from ..text.terms import STOPWORDS, WORD, stem
from .retrieve import english_word

NEGATION = frozenset("not no non never none nobody nothing neither nor nowhere cannot without unless".split())
_IF_NOT = re.compile(r"\bif not\b(?=\s*[,;:.])", re.IGNORECASE)
_VALUE_NONE = re.compile(r"(?<=[\w,;:(] )None\b")
_RATHER_THAN = re.compile(r"\b(?:rather than|instead of|in place of)\b", re.IGNORECASE)
_NOT_ONLY = frozenset("only just merely solely simply".split())
_ONLY = "<only>"  # the scope of "not only", and a claim's word when it says "only", "just", ...
_ASIDE = re.compile(r"\s*\([^()]*\)")
_HYPHEN_LESS = re.compile(r"\b([a-z]{3,})-less\b", re.IGNORECASE)
_LESS = re.compile(r"([a-z]{3,})less")
_NOT_LESS = frozenset("unless regardless nevertheless nonetheless".split())


def flipped(claim: str, sentence: str, claimed: set[str]) -> bool:
    """Does the claim (its stems: `claimed`) turn round the sentence's polarity? As many negations,
    over other words, is a negation said another way ("not affected" for "has no impact"); one more
    is a flip, whatever it bears on, and so is one fewer over words the claim repeats and no
    negation of the claim bears on."""
    said, cited = negations(claim), negations(_kept(claim, sentence))
    claimed = claimed | ({_ONLY} if claimed & {stem(w) for w in _NOT_ONLY} else set())
    return len(said) != len(cited) and _unpaired(said, cited, claimed)


def _unpaired(said: list[set[str]], cited: list[set[str]], claimed: set[str]) -> bool:
    """Is a negation of the claim left without a partner when each is paired with one of the
    sentence's over a word of its own ("no keyfile is not given" has two where "no keyfile is
    given" has one, though both bear on "given"), or does a negation of the sentence over words the
    claim repeats share none of them with the claim's negations?"""
    partner: dict[int, int] = {}  # a sentence negation -> the claim negation paired with it

    def pair(i: int, tried: set[int]) -> bool:  # Kuhn's augmenting path
        for j, scope in enumerate(cited):
            if j not in tried and said[i] & scope:
                tried.add(j)
                if j not in partner or pair(partner[j], tried):
                    partner[j] = i
                    return True
        return False

    return not all([pair(i, set()) for i in range(len(said))]) \
        or any(scope <= claimed and not any(scope & other for other in said) for scope in cited)


def _kept(claim: str, sentence: str) -> str:
    """The sentence without the parentheses the claim leaves out whole (none of their content words
    matched in the claim's word order)."""
    ours, theirs = WORD.findall(claim.lower()), [m for m in WORD.finditer(sentence.lower())]
    matched = {i for block in SequenceMatcher(a=[m.group() for m in theirs], b=ours, autojunk=False)
               .get_matching_blocks() for i in range(block.a, block.a + block.size)}
    for aside in reversed(list(_ASIDE.finditer(sentence))):
        inside = [i for i, m in enumerate(theirs) if aside.start() <= m.start() < aside.end()
                  and m.group() not in STOPWORDS]
        if inside and not matched.intersection(inside):
            sentence = sentence[:aside.start()] + sentence[aside.end():]
    return sentence


def negations(text: str) -> list[set[str]]:
    """Each negation's scope: the stems of the (up to) two content words after it, before the next negation."""
    # "If not, ..." is "Otherwise, ...": it negates nothing in the sentence; "None" inside a sentence
    # is a value (Python's), no negation; "X rather than Y", "X instead of Y" and "X in place of Y" are "X, not Y"
    text = _VALUE_NONE.sub("null", _IF_NOT.sub("otherwise", text.replace("’", "'")))
    text = _HYPHEN_LESS.sub(r"\1less", _RATHER_THAN.sub("not", text))
    words = WORD.findall(text.lower())
    scopes = []
    for i, word in enumerate(words):
        if word == "nor" and "neither" in words[:i]:
            continue  # "neither X nor Y" is one negation, as "not X or Y" is
        if word == "not" and _NOT_ONLY.intersection(words[i + 1:i + 3]):  # "not only", "not rely solely"
            scopes.append({_ONLY})  # "not only X but Y" says X: it is "only" that is denied
            continue
        if base := unprefixed(word) or _unsuffixed(word):
            scopes.append({stem(base)})  # "unaffected" is "not affected", "stateless" "without state"
            continue
        if _negates(word):
            after: list[str] = []
            for following in words[i + 1:]:
                if (_negates(following) and not (word, following) == ("neither", "nor")) or len(after) == 2:
                    break  # a negation's scope ends where another's begins: "not no consensus"
                if following not in STOPWORDS:
                    after.append(stem(following))
            scopes.append(set(after) or {"<end>"})
    return scopes


def unprefixed(word: str) -> str:
    """The word an "un-" word negates ("unaffected" -> "affected"), or ""."""
    return word[2:] if word.startswith("un") and word != "unless" and len(word) >= 6 and english_word(word[2:]) else ""


def _unsuffixed(word: str) -> str:
    """What a "-less" word is without ("expressionless" -> "expression"), or ""."""
    m = _LESS.fullmatch(word)
    return m.group(1) if m and word not in _NOT_LESS and english_word(m.group(1)) else ""


def _negates(word: str) -> bool:
    return word in NEGATION or word.endswith("n't")
