"""What kind of answer a question asks for, and whether a sentence can be one.

"How much did AMI Labs raise?" wants an amount; a sentence without a number cannot answer it,
however similar it is. The extractive answerer uses this to prefer sentences of the right kind
and to refuse when none is found. Only the types that can be checked by pattern are recognised;
any other question is "open" and every sentence qualifies.
"""

from __future__ import annotations

import re

_NUMBER_WORDS = (r"two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                 r"hundred|hundreds|thousand|thousands|million|millions|billion|billions|trillion|trillions|dozen|"
                 r"dozens|half|double|twice")
# Month names count only capitalised: "researchers may follow" holds no date.
_MONTHS = r"(?-i:January|February|March|April|May|June|July|August|September|October|November|December)"
_NUMBER = re.compile(rf"\d|\b({_NUMBER_WORDS})\b", re.IGNORECASE)
_YEAR = r"\b(?:1[89]\d\d|20\d\d)\b"
# Numbers that are not amounts: a year or a date ("June 21, 2024", "since 2013"), a version or a
# handle glued to a name ("GPT-4", "Llama 4", "@A_Emmanuel10").
_NOT_AN_AMOUNT = re.compile(rf"(?<![$€£])(?:{_MONTHS}\s+\d{{1,2}}(?:,\s*\d{{4}})?|{_YEAR})(?!\s*%)"
                            rf"|\b[A-Za-z]+-\d[\w.]*|\b[A-Z]\w*\s\d(?:\.\d+)?\b(?![\d,.%]|\s+(?i:{_NUMBER_WORDS}))"
                            rf"|@\w+")
# "How much did it cost?" wants money, not any amount.
_MONEY_QUESTION = re.compile(r"\bhow\s+much\b.*\b(cost|costs|pay|paid|pays|price|offer|offered|raise|raised|worth|"
                             r"valued?|valuation|salary|spend|spent|invest|invested|money|funding|budget|revenue|"
                             r"earn|earns|earned|prize|fund|funds|funded)\b|\bwhat\s+(?:is|was)\s+(?:the\s+)?"
                             r"(?:\w+\s+)?(price|cost|salary|valuation)\b", re.IGNORECASE)
_MONEY = re.compile(r"[$€£]\s*\d|\b(dollars?|euros?|pounds?|USD|EUR|GBP)\b|\b(millions?|billions?|trillions?)\b",
                    re.IGNORECASE)
# A "when" is answered by a date, a period, or a time word ("immediately", "in a while", "never").
_TIME = re.compile(rf"{_YEAR}|\b{_MONTHS}\b|\b(ago|since|until|yesterday|today|"
                   rf"decades?|years?|months?|weeks?|days?|hours?|recently|recent|immediately|promptly|soon|"
                   rf"later|earlier|never|always|now|currently|once|initially|eventually|(?:in|for)\s+a\s+while|"
                   rf"after|before|during|first|short[- ]term|long[- ]term)\b", re.IGNORECASE)

_QUANTITY_QUESTION = re.compile(
    r"^\s*(?:and\s+)?how\s+(much|many|long|large|big|tall|old|fast|far|expensive|costly|often|high|heavy|small)\b"
    r"|\bwhat\s+(?:is|was|are|were)\s+(?:the\s+)?(?:price|cost|size|number|amount|height|age|salary|valuation)\b"
    r"|\bwhat\s+(?:figure|number|amount|sum|price|percentage)\b",
    re.IGNORECASE,
)
_TIME_QUESTION = re.compile(r"^\s*(?:and\s+)?(when|since when|until when)\b|\b(what|which)\s+(year|date|month|day)\b",
                            re.IGNORECASE)


_PLACE_QUESTION = re.compile(r"^\s*(?:and\s+)?where\b|\b(which|what)\s+(city|country|place)\b", re.IGNORECASE)
_PLACE = re.compile(r"\b(in|at|near|based in|headquartered in)\s+(the\s+)?[A-Z][a-z]+")
# "Who ...?", "Which company ...?": the answer names someone or something the question does not.
_NAME_QUESTION = re.compile(
    r"^\s*(?:and\s+)?(who|whom|whose)\b|\b(which|what)\s+(company|companies|firm|firms|startup|lab|labs|event|"
    r"conference|user|person|people|scientist|researchers?|rivals?|competitors?|models?|products?|organi[sz]ations?|"
    r"venture|group|division|report|platform)\b",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w@’'-]*|@\w+")
# "How old is he?" wants an age, which has its own form: a year in a sentence is not one.
_AGE_QUESTION = re.compile(r"\bhow\s+old\b|\bwhat\s+(?:is|was)\s+\w+(?:[’']s)?\s+age\b|\bhis\s+age\b", re.IGNORECASE)
_AGE = re.compile(rf"\b(\d+|{_NUMBER_WORDS})[- ]years?[- ]old\b|\baged?\s+(\d+|{_NUMBER_WORDS})\b|\bage of\b",
                  re.IGNORECASE)
# "What does FAIR stand for?" is answered by the sentence that spells it out: "... Research (FAIR)".
_ACRONYM_QUESTION = re.compile(r"(?i:\bwhat\s+(?:does|do|did)\s+(?:the\s+)?(?:\w+\s+in\s+)?)([A-Z][A-Za-z]*[A-Z])\b"
                               r"(?i:.*\bstand\s+for)|(?i:\bwhat\s+is\s+)([A-Z][A-Za-z]*[A-Z])(?i:\s+short\s+for)")
# Kinds whose absence means the articles do not answer; a missing place or name only lowers preference.
STRICT = {"acronym", "age", "quantity", "time"}
# Kinds a lead sentence should have when one is near the best, though their absence is no refusal.
PREFERRED = {"place", "definition"}
# Kinds whose form alone shows the sentence answers: no refusal model needed.
DEFINING = {"acronym"}


# "What (exactly) are world models?" is answered by the sentence that says "World models are ...".
_DEFINITION_QUESTION = re.compile(r"^\s*what\s+(?:exactly\s+)?(?:is|are)\s+(?:an?\s+|the\s+)?([^?]+?)\s*\??\s*$",
                                  re.IGNORECASE)


def _defined(question: str) -> str:
    """The term a "What is X?" question asks to define (a few words), or ""."""
    match = _DEFINITION_QUESTION.match(question)
    term = _plain(match.group(1)) if match else ""
    return term if 0 < len(term.split()) <= 4 else ""


def _plain(text: str) -> str:
    return re.sub(r"[\"“”‘’']", "", text.lower())


def defines(sentence: str, acronym: str) -> bool:
    """The sentence spells the acronym out: "Fundamental AI Research (FAIR)"."""
    return bool(re.search(rf"\w[\w-]*(?:\s+[\w-]+)+\s*\(\s*{re.escape(acronym)}\s*\)", sentence))


def expected_type(question: str) -> str:
    """"acronym", "age", "quantity", "time", "place", "name", "definition" or "open"."""
    if _ACRONYM_QUESTION.search(question):
        return "acronym"
    if _AGE_QUESTION.search(question):
        return "age"
    if _QUANTITY_QUESTION.search(question):
        return "quantity"
    if _TIME_QUESTION.search(question):
        return "time"
    if _PLACE_QUESTION.search(question):
        return "place"
    if _NAME_QUESTION.search(question):
        return "name"
    if _defined(question):
        return "definition"
    return "open"


def fits(kind: str, sentence: str, question: str = "") -> bool:
    if kind == "acronym":
        match = _ACRONYM_QUESTION.search(question)
        return match is not None and defines(sentence, match.group(1) or match.group(2))
    if kind == "age":
        return bool(_AGE.search(sentence))
    if kind == "definition":
        term = _defined(question)
        return bool(term) and bool(re.search(rf"\b{re.escape(term)}\s+(?:is|are)\b", _plain(sentence)))
    if kind == "quantity":
        if _MONEY_QUESTION.search(question):
            return bool(_MONEY.search(sentence))
        return bool(_NUMBER.search(_NOT_AN_AMOUNT.sub(" ", sentence)))
    if kind == "time":
        return bool(_TIME.search(sentence))
    if kind == "place":
        return bool(_PLACE.search(sentence))
    if kind == "name":
        asked = question.lower()
        return any(name.lower().rstrip("’'s") not in asked for name in _CAPITALISED.findall(sentence.strip()))
    return True
