"""A conversational Q&A assistant that answers from a folder of articles, citing every sentence.

The modules are the architecture: `config` (settings), `articles` (reading files), `chunking`
(sentences, sections, FAQ units), `embeddings`, `store` (Chroma through llama-index and the index
manifest), `ingest`, `retrieve` (dense + keyword fusion), `answer` (extractive, cited, with a
refusal rule), `chat` (follow-ups), `engine` (the `Assistant` every face calls), `naive` (the
llama-index baseline), `evaluate` (the eval runner), and the faces `cli` and `web`.
"""

__version__ = "0.1.0"
