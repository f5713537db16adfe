"""The naive baseline: llama-index defaults (SentenceSplitter chunks, dense retrieval only, top 3)
with the same embedding model, behind the same `ask()` as the `Assistant`, so the eval runner and
`bench/` can score both on the same suite. It never refuses: dense scores cannot tell an
out-of-scope question from an in-scope one (design.md). Built in memory from the corpus."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ..config import Settings
from ..errors import UserInputError
from ..ingest.articles import read_articles
from ..ingest.sentences import split_sentences
from ..store.embeddings import Embedder, load_embedder
from ..types import Answer, Citation, Turn

TOP_K = 3


def _llama_embedding(embedder: Embedder) -> Any:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    class Adapter(BaseEmbedding):
        """Our embedder seen through llama-index's embedding interface."""

        def _get_query_embedding(self, query: str) -> list[float]:
            return embedder.embed([query])[0].tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return embedder.embed([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed(texts).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    return Adapter(model_name=embedder.name, embed_batch_size=32)


class NaiveAssistant:
    def __init__(self, settings: Settings, retriever: Any, texts: dict[str, str]):
        self.settings = settings
        self._retriever = retriever
        self._texts = texts

    @classmethod
    def open(cls, settings: Settings) -> NaiveAssistant:
        from llama_index.core import Document, VectorStoreIndex

        articles = read_articles(settings.corpus, warn=lambda message: None)
        if not articles:
            raise UserInputError(f"No readable articles in {', '.join(map(str, settings.corpus))}.")
        documents = [Document(text=a.text, id_=a.doc_id, metadata={"doc_id": a.doc_id, "title": a.title})
                     for a in articles]
        index = VectorStoreIndex.from_documents(documents, embed_model=_llama_embedding(load_embedder(settings.model)))
        return cls(settings, index.as_retriever(similarity_top_k=TOP_K), {a.doc_id: a.text for a in articles})

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        started = time.perf_counter()
        nodes = self._retriever.retrieve(question)
        citations = [self._citation(i + 1, hit) for i, hit in enumerate(nodes)]
        # Naive answer: the first sentence of each retrieved passage, cited.
        sentences = []
        for c in citations:
            text = self._texts[c.doc_id]
            start, end = (split_sentences(text, c.start, c.end) or [(c.start, c.end)])[0]
            sentences.append(f"{text[start:end]} [{c.n}]")
        total = (time.perf_counter() - started) * 1000
        return Answer(question=question, answer=" ".join(sentences), refused=False, citations=citations,
                      timings_ms={"retrieve": total, "answer": 0.0, "total": total}, search_query=question,
                      confident=True)  # it shows every answer as one; it has no model of its own certainty

    def _citation(self, n: int, hit: Any) -> Citation:
        node = hit.node
        doc_id = node.metadata["doc_id"]
        start, end = node.start_char_idx or 0, node.end_char_idx or len(node.text)
        return Citation(n=n, doc_id=doc_id, title=node.metadata.get("title", ""), section="",
                        text=self._texts[doc_id][start:end], start=start, end=end, score=float(hit.score or 0.0))
