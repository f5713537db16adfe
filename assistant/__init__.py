"""A conversational Q&A assistant that answers from a folder of articles, citing every sentence.

The package reads as the architecture, bottom up (each part's `__init__` says what it does and
what it may import; tests/test_layout.py holds the code to that):
- `errors`, `types`, `config`: the shared vocabulary and the settings;
- `text/`: words, stems and names;
- `store/`: the Chroma-backed index, the embedding model and the lexicon;
- `ingest/`: articles to index generations;
- `answering/`: one question to a cited answer (or a refusal);
- `engine`: the `Assistant`, the one object every face calls;
- `faq/`: readers' feedback curated into the FAQ;
- `evals/`: the evaluation harness;
- the faces: `cli` (with `render`, an answer for a terminal, and `packages`, the install check) and `web/`.
"""

__version__ = "0.1.0"
