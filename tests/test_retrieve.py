"""Retrieval's reading of the question: spelling against the articles' words, and its focus."""

from __future__ import annotations

from assistant.answering.retrieve import Speller
from assistant.store.lexicon import spelling_vocabulary

TEXT = ("Yann LeCun left Meta. Researchers may follow LeCun. World models predict how environments change. "
        "Geoffrey Hinton and Yoshua Bengio agree. The contact address is on the page. Scaling capabilities "
        "has limits. Leaders of the novel lab say so.")


def test_a_misspelt_word_becomes_the_articles_word_one_edit_away() -> None:
    speller = Speller(*spelling_vocabulary([TEXT]))
    assert speller.correct("Where could reserchers go?") == "Where could researchers go?"
    assert speller.correct("what can wolrd models do") == "what can world models do"  # swapped neighbours
    assert speller.correct("Does LeCunn agree with Benjio?") == "Does LeCun agree with Bengio?"  # names as written
    assert speller.correct("the contcat address") == "the contact address"


def test_english_words_short_words_and_unknown_names_are_left_alone() -> None:
    speller = Speller(*spelling_vocabulary([TEXT]))
    # "readers" is one edit from "leaders", and "Nobel" from "novel", but both are words already.
    assert speller.correct("What do readers think of the Nobel prize?") == "What do readers think of the Nobel prize?"
    assert speller.correct("Is his wife here?") == "Is his wife here?"  # too short to guess at
    assert speller.correct("Who runs DeepMindd?") == "Who runs DeepMindd?"  # no name of the articles near it


def test_a_name_the_articles_never_use_is_noticed() -> None:
    speller = Speller(*spelling_vocabulary([TEXT]))
    assert speller.unknown_name("What did Mark Zuckerberg say?")
    assert not speller.unknown_name("What did Geoffrey Hinton say?")
    assert not speller.unknown_name("Where is it?")  # a question's first word is capitalised anyway
