import pytest

from assistant.answering.answertype import expected_type, fits


@pytest.mark.parametrize(("question", "kind"), [
    ("How much money did AMI Labs raise?", "quantity"),
    ("How many hours has a child been awake by four?", "quantity"),
    ("What is the price of ChatGPT Plus?", "quantity"),
    ("When did LeCun post on X?", "time"),
    ("In which year did Hinton leave Google?", "time"),
    ("Where is AMI Labs based?", "place"),
    ("In which city is LeCun's new lab?", "place"),
    ("How old is LeCun?", "age"),
    ("Who else is called a godfather of deep learning?", "name"),
    ("Which companies took over releasing open models?", "name"),
    ("Why does Meta keep investing?", "open"),
])
def test_expected_type(question: str, kind: str) -> None:
    assert expected_type(question) == kind


def test_fits_needs_a_number_or_a_time() -> None:
    assert fits("quantity", "It employed hundreds of scientists.")
    assert fits("quantity", "About 16,000 hours.")
    assert not fits("quantity", "Yann LeCun is one of the most influential figures in AI.")
    assert fits("time", "In a post on X in June 2024, he advised students.")
    assert not fits("time", "He left to start AMI Labs in Paris.")
    assert fits("open", "Anything at all.")


def test_an_amount_is_not_a_year_a_date_or_a_version_and_money_needs_money() -> None:
    assert not fits("quantity", "Yann LeCun's post on X, June 21, 2024", "How many likes did the post get?")
    assert not fits("quantity", "A Turing Award winner at Meta since 2013.", "How many awards has he won?")
    assert not fits("quantity", "Llama 4 is compared with GPT-4.", "How many parameters does Llama 4 have?")
    assert fits("quantity", "Llama 4 has 400 billion parameters.", "How many parameters does it have?")
    assert fits("quantity", "It has 40% of the market.", "How much of the market does it have?")
    cost = "How much does it cost to train GPT-4?"
    assert fits("quantity", "Training GPT-4 could cost hundreds of millions of dollars.", cost)
    assert not fits("quantity", "Training took 90 days on 25,000 GPUs.", cost)


def test_a_month_is_capitalised_and_a_conjunction_is_no_time() -> None:
    assert not fits("time", "Some researchers may follow LeCun.")
    assert not fits("time", "LeCun criticises LLMs while Meta invests in them.")
    assert fits("time", "He posted in May.") and fits("time", "It has not shipped in a while.")


def test_a_place_is_a_capitalised_name_after_a_locating_word() -> None:
    assert fits("place", "He left to start AMI Labs in Paris.")
    assert fits("place", "The lab is based in London.")
    assert not fits("place", "He left to start a lab in the spring.")
    assert not fits("place", "Meta has committed substantial resources.")


def test_an_age_is_not_any_number_and_a_when_may_be_a_time_word() -> None:
    assert fits("age", "LeCun is 65 years old.") and fits("age", "A child, by the age of four, has seen a lot.")
    assert not fits("age", "He has been critical since 2023.")
    assert fits("time", "Meta hasn't released a new version of Llama in a while.")
    assert fits("time", "Please contact us immediately.")


def test_a_name_answer_names_someone_the_question_does_not() -> None:
    question = "Who else is called a godfather of deep learning?"
    assert fits("name", "He is one alongside Geoffrey Hinton and Yoshua Bengio.", question)
    assert not fits("name", "he is called a godfather of deep learning.", question)


def test_an_acronym_is_answered_by_the_sentence_that_spells_it_out() -> None:
    question = "What does FAIR stand for?"
    assert expected_type(question) == "acronym" and expected_type("What does LeCun stand for?") == "open"
    assert fits("acronym", "LeCun's Fundamental AI Research (FAIR) group employed hundreds.", question)
    assert not fits("acronym", "The FAIR group employed hundreds of scientists.", question)
    assert fits("acronym", "LLMs cannot achieve artificial general intelligence (AGI).", "What is AGI short for?")
