"""Answering one question from the index: `retrieve` (dense and keyword passages, fused),
`features` and `answertype` (what the question asks for and how well a sentence gives it),
`answer` (the extractive answerer: cited quotations, its confidence and its refusals), `chat`
(a follow-up read in the light of the conversation), `curated` (the site owner's curated FAQ,
answered first), and, with an LLM configured, `generate` (the LLM writes) and `grounding` (the
check every sentence it writes must pass, with its negation test in `polarity`).

It never writes the index, and knows nothing of the faces (CLI, web) or the eval harness.

May import: store, text, config, errors, types.
"""
