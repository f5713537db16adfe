"""Words as the keyword signals see them: lower-cased, apostrophes unified, possessives and
plurals folded, stopwords dropped. Shared by retrieval (BM25), answering and follow-up detection."""

from __future__ import annotations

import functools
import re

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not
now of off on once only or other our ours ourselves out over own same she should so some such than that the
their theirs them themselves then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours yourself yourselves also
said says say tell told according article articles mention mentioned exactly really kind sort else among want use
get got make made thing things way ways much many
""".split())


# Words that say how a question is asked, not what it asks about: never part of its focus.
QUESTION_FILLER = frozenset("""
describe described characterize characterise characterized characterised explain explained mention mentions
article piece text author writer paragraph section opening closing passage story report reports reported
according view views think thinks thought consider considered claim claims argue argues argued believe believes
idea point example specific specifically actually basically called call name named kind type sort lot
happen happened happens role main mean means meant way ways give gives given go going
""".split())


# Irregular past forms a stemmer leaves alone, folded to their verb: "Which company did he leave?"
# finds "left Meta". Forms that are also other common words ("found", "saw", "lay", "felt") are not.
IRREGULAR = {form: verb for verb, forms in {
    "leave": "left", "begin": "began begun", "build": "built", "buy": "bought", "bring": "brought",
    "come": "came", "choose": "chose chosen", "give": "gave", "grow": "grew grown", "hold": "held",
    "keep": "kept", "know": "knew known", "lead": "led", "lose": "lost", "meet": "met", "pay": "paid",
    "run": "ran", "see": "seen", "sell": "sold", "send": "sent", "spend": "spent", "take": "took taken",
    "teach": "taught", "win": "won", "write": "wrote written", "speak": "spoke spoken", "become": "became",
    "break": "broke broken", "understand": "understood", "rise": "rose risen", "fall": "fell fallen",
    "drive": "drove driven", "draw": "drew drawn", "throw": "threw thrown", "steal": "stole stolen",
}.items() for form in forms.split()}


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem, with possessives dropped, acronym plurals ("LLMs") and irregular
    past forms ("left", "spoke") folded."""
    if word.endswith("'s"):
        word = word[:-2]
    word = IRREGULAR.get(word.replace("'", ""), word.replace("'", ""))
    stemmed = _stemmer().stemWord(word)
    if stemmed == word and len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return stemmed


@functools.lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def terms(text: str) -> list[str]:
    """Content terms of `text`, in order, repeats kept (BM25 counts them)."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    return [stem(w) for w in WORD.findall(text) if w not in STOPWORDS and stem(w) not in STOPWORDS]
