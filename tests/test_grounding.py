"""The grounding check on the seed articles: claims written from real sentences, kept when the
sentence they cite says them, rejected when a fact, a name, a negation or a word's opposite
turns them round, or when they cite nothing, or a passage that does not exist."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answering.grounding import (
    Claim,
    GroundingCheck,
    _leads,
    _stems,
    _Unit,
    claims,
    facts_of,
    hard_failure,
    names,
)
from assistant.answering.polarity import negations
from assistant.text.contrasts import KIND_MIN, contrasts, opposed

QUESTION = "Why did LeCun leave Meta?"


@pytest.fixture(scope="module")
def judged(seed_assistant):
    retrieval = seed_assistant.retrieve("How many hours has a four-year-old child been awake?")
    check = GroundingCheck(seed_assistant.index)
    awake = next(n for n, p in enumerate(retrieval.passages, 1) if "16,000 hours" in p.chunk.text)

    def verdict(text: str, cites: tuple[int, ...] | None = None):
        return check.check(Claim(text, (awake,) if cites is None else cites), retrieval)

    return verdict, retrieval, awake


def test_claims_are_split_with_the_marks_each_carries() -> None:
    got = claims("LeCun left Meta [1]. He founded AMI Labs in Paris. [2] It works on world models [1, 3].")
    assert got == [Claim("LeCun left Meta.", (1,)), Claim("He founded AMI Labs in Paris.", (2,)),
                   Claim("It works on world models.", (1, 3))]
    assert claims("  ") == [] and claims("No marks at all.") == [Claim("No marks at all.", ())]


def test_facts_names_and_negations_are_read_as_a_reader_would() -> None:
    assert facts_of("about 16,000 hours in four years, in May 2025") == {"16000": 1, "4": 1, "may": 1, "2025": 1}
    assert "may" not in facts_of("It may work.")
    assert names("Speaking at NVIDIA GTC 2025, LeCun said AI may think.") == ["NVIDIA", "GTC", "LeCun", "AI"]
    assert names("Large models learn.") == []  # a first word that is English is no name
    assert negations("LLMs are not a dead end") == [{"dead", "end"}]


def bare_unit(sentence: str) -> _Unit:
    """A sentence as the hard tests read it: its words, no vectors (they judge words alone)."""
    return _Unit((0, len(sentence)), sentence, set(), _stems(sentence), np.zeros(1), np.zeros((0, 1)))


@pytest.mark.parametrize("sentence, claim, why", [
    # a word put in the place of its opposite, or of another word the sentence already has
    ("Fires after the module is loaded.", "Fires before the module is loaded.", "an opposite"),
    ("Attributes may be added or removed on the fly.", "Attributes may be removed or removed on the fly.",
     "an opposite"),
    ("You can create a new class with a new method.", "You can create an old class with a new method.",
     "an opposite"),
    ("If all items compare equal, the sequences are equal.",
     "If all items compare unequal, the sequences are equal.", "polarity"),  # "unequal" is "not equal"
    ("Its behaviour is unaffected by the change.", "The change does not affect its behaviour.", ""),
    ("Remove the item and return it.", "Remove the item or return it.", "an opposite"),
    # two words of the sentence trading places is a swap; the same words said in another order is not
    ("If it succeeds, it returns the text, otherwise it raises an error.",
     "If it succeeds, it raises the text, otherwise it returns an error.", "an opposite"),
    ("If the option existed to be removed, return True; otherwise return False.",
     "It returns True if the option existed and was removed, and False otherwise.", ""),
    # a negation's scope ends where the next begins
    ("Such methods have no return value.", "Such methods have not no return value.", "polarity"),
    # "not only X" says X; it is "only" that is denied
    ("LeCun is not only a scientist but also a key figure.", "LeCun is only a scientist.", "polarity"),
    ("LeCun is merely a scientist.", "LeCun is not merely a scientist.", "polarity"),
    ("LeCun is not only a scientist but also a key figure.", "LeCun is a scientist and a key figure.", ""),
    ("These models would not rely solely on text data but would learn from the world.",
     "Such models would learn from the world, not only from text data.", ""),
    # "no longer" for "not ... any more" is the same polarity, not an opposite
    ("He has said that he is not interested in LLMs any more.", "He says he is no longer interested in LLMs.", ""),
    ("Dates are written after the title.", "Dates are written after the title, not before it.", "polarity"),
    # one more negation is a flip even where its words overlap another negation's: each pairs once
    ("If no keyfile is given, the path is left null.", "If no keyfile is not given, the path is left null.",
     "polarity"),
    ("If a call without an argument would block, return False.",
     "If a call without an argument would not block, return False.", "polarity"),
    # a shortening that drops a clause with a negation keeps the polarity of what it keeps
    ("If a call would block, return False; otherwise, do as when called without arguments, and return True.",
     "If a call would block, return False.", ""),
    # "neither X nor Y" is "not X or Y"; "None" inside a sentence is Python's value
    ("If the character is not a digit or a letter, it matches.", "If the character is neither a digit nor a letter, "
     "it matches.", ""),
    ("If the character is a digit or a letter, it matches.", "If the character is neither a digit nor a letter, "
     "it matches.", "polarity"),
    ("If it has no default (or the default is None), it expands to nothing.",
     "If it has no default, it expands to nothing.", ""),
    # "rather than" and "instead of" are "and not"
    ("The application will appear to be Python and not its actual name.",
     "The application will appear to be Python rather than its actual name.", ""),
    ("The application will appear to be Python and its actual name.",
     "The application will appear to be Python rather than its actual name.", "polarity"),
    # "unless" is "if not"
    ("Classes do not support weak references without a slot for them.",
     "Classes do not support weak references unless they have a slot for them.", ""),
    ("It is raised unless the file exists.", "It is raised if the file exists.", "polarity"),
    # "unable" for "not able" is a negation said another way; "unable" for "able" is a flip
    ("Such programs may not be able to read it.", "Such programs may be unable to read it.", ""),
    ("Such programs may be able to read it.", "Such programs may be unable to read it.", "polarity"),
    # a word the sentence uses elsewhere repeated in another's place ("added or removed" -> "removed
    # or removed") is an echo only as written: "marked" does not echo "MARK"
    ("Items can be added or removed.", "Items can be removed or removed.", "an opposite"),
    ("Levels, indicated by MARK opcodes, are indented.", "Levels, marked by MARK opcodes, are indented.", ""),
    # a parenthesis left out whole takes its negation with it; the negation alone taken out is a flip
    ("It handles classes derived from that class (but not classes from which it is derived).",
     "It handles classes derived from that class.", ""),
    ("It handles classes derived from that class (but not classes from which it is derived).",
     "It handles classes derived from that class (but classes from which it is derived).", "polarity"),
    # a "-less" word is "without" its base
    ("An expression-less except clause must be last.", "An except clause without an expression must be last.", ""),
    ("An except clause with an expression must be last.", "An except clause without an expression must be last.",
     "polarity"),
    # a name is the same whatever its case, its hyphenated parts each on their own
    ("Normally, these variadic arguments will be last.", "Variadic arguments normally come last.", ""),
    ("Linux and other Unix like systems support them.", "Linux and other Unix-like systems support them.", ""),
    ("Linux and other Unix like systems support them.", "Linux and other Solaris-like systems support them.",
     "a name"),
    # "3.8 or later" is "3.8 and later"; "and" for "or" elsewhere is still turned round
    ("This is only available with OpenSSL 1.1.1 and later.", "This requires OpenSSL 1.1.1 or later.", ""),
])
def test_the_facts_polarity_and_opposites_tests_read_sentences_as_a_reader_would(
        sentence: str, claim: str, why: str) -> None:
    assert hard_failure(claim, bare_unit(sentence), "", {}).split(":")[0] == why


@pytest.mark.parametrize(("claim", "why"), [
    ("Return True if path is an existing directory.", "an opposite"),  # put in the place of "file"
    ("Return True if path names a file that exists.", ""),
    ("Return True if path is an existing file or directory.", ""),  # adds it, in no word's place
])
def test_a_word_the_site_sets_against_the_sentences_put_in_its_place_turns_the_claim_round(
        claim: str, why: str) -> None:
    sentence = "Return True if path is an existing file."
    assert hard_failure(claim, bare_unit(sentence), "", opposed([("directori", "file")])).split(":")[0] == why
    assert hard_failure(claim, bare_unit(sentence), "", {}) == ""  # no site pair, nothing to turn round


def test_a_claim_the_sentence_says_is_kept_with_the_sentences_exact_place(judged, seed_assistant) -> None:
    verdict, retrieval, awake = judged
    for text in ("In four years, a young child has been awake a total of about 16,000 hours.",
                 "A young child is awake for about 16,000 hours in total over four years."):
        got = verdict(text)
        assert got.supported, got.why
        start, end = got.spans[0]
        article = seed_assistant.article(retrieval.passages[awake - 1].chunk.doc_id)
        assert "16,000 hours" in article.text[start:end]


def test_a_sentences_opening_clause_word_for_word_is_kept_however_far_the_rest_moves_its_meaning(
        seed_assistant) -> None:
    sentence = ("It remains to be seen which approach works out, but it appears that Meta is bearish on LLMs, and "
                "seems to believe that it’ll take a new technological breakthrough to dramatically improve the "
                "performance of current AI systems.")
    claim = "It remains to be seen which approach works out."
    assert _leads(claim, sentence)
    assert not _leads("It remains to be seen which approach.", sentence)  # cut inside a clause
    assert not _leads("It appears that Meta is bearish on LLMs.", sentence)  # not the opening one
    assert not _leads("It remains to be seen.", sentence)  # too short to stand for it
    assert not _leads("If the file does exist.", "If the file does exist, it is removed.")  # asserts nothing
    retrieval = seed_assistant.retrieve("Which approach will work out, LLMs or world models?")
    cited = next(n for n, p in enumerate(retrieval.passages, 1) if sentence in p.chunk.text)
    check = GroundingCheck(seed_assistant.index)
    assert check.check(Claim(claim, (cited,)), retrieval).supported
    assert not check.check(Claim("It remains to be seen which approach fails.", (cited,)), retrieval).supported


@pytest.mark.parametrize("text, why", [
    ("In four years, a young child has been awake a total of about 18,000 hours.", "a number"),
    ("In five years, a young child has been awake a total of about 16,000 hours.", "a number"),
    ("In four years, a young child has not been awake a total of about 16,000 hours.", "polarity"),
    ("In four years, an old child has been awake a total of about 16,000 hours.", "an opposite"),
    ("In four years, Hinton has been awake a total of about 16,000 hours.", "a name"),
    ("Meta pays every engineer a bonus of about 16,000 hours of leave.", "meaning"),
])
def test_a_claim_turned_round_is_rejected_and_says_why(judged, text: str, why: str) -> None:
    verdict, _, _ = judged
    got = verdict(text)
    assert not got.supported and got.why.startswith(why), got.why


def test_a_claim_citing_nothing_or_a_passage_that_does_not_exist_is_rejected(judged) -> None:
    verdict, retrieval, _ = judged
    true = "In four years, a young child has been awake a total of about 16,000 hours."
    assert verdict(true, ()).why == "it cites no passage"
    assert "does not exist" in verdict(true, (len(retrieval.passages) + 1,)).why
    assert "does not exist" in verdict(true, (0,)).why


def test_a_site_sets_words_against_each_other_once_in_a_strong_pattern_or_twice_joined_by_or() -> None:
    texts = ["Pass either a file or a directory.", "Use processes rather than threads.",
             "Open it for read or write.", "The read/write mode.", "Give a mapping or dictionary.",
             "Give an int or integer, twice: an int or integer.", "Finders and loaders.", "The finders and loaders.",
             "Read and return it; read and return it again."]
    assert contrasts(texts) == [("directori", "file"), ("finder", "loader"), ("process", "thread"), ("read", "write")]


def test_the_words_in_which_sibling_headings_differ_are_set_against_each_other() -> None:
    headings = [["5.2. Packages", "5.2.1. Regular packages", "5.2.2. Namespace packages", "The async for statement",
                 "The async with statement", "Notes"], ["Regular expressions"]]  # another article's: no sibling
    assert contrasts([], headings) == [("namespac", "regular")]  # "for"/"with" are stopwords


def test_words_that_each_come_before_the_same_word_often_are_kinds_the_site_tells_apart() -> None:
    kinds = " ".join(["Return a new reference.", "It returns a borrowed reference."] * KIND_MIN)
    assert contrasts([kinds]) == [("borrow", "new")]
    seldom = " ".join(["Return a new reference.", "It returns a borrowed reference."] * (KIND_MIN - 1))
    assert contrasts([seldom]) == []
    assert contrasts([" ".join(["The new reference.", "The own reference."] * KIND_MIN)]) == []  # "own": a stopword
