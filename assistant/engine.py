"""The `Assistant`: the one object every face (CLI, web app, eval runner) calls.

It validates a question, reads a follow-up in the light of the conversation, retrieves passages
and has the answerer write a cited answer. It knows nothing of terminals, HTTP or reports.

May import: answering, store, text, config, errors, types.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .answering.answer import Answerer, ExtractiveAnswerer
from .answering.chat import contextualize, leans_on_answer, quoted_text
from .answering.curated import CuratedFaq, curated_answer
from .answering.generate import GenerativeAnswerer, connect
from .answering.grounding import GroundingCheck
from .answering.retrieve import Retrieval, Retriever
from .config import Settings
from .errors import IndexMissingError, UserInputError
from .store.chroma import where
from .store.reader import IndexReader
from .text.terms import terms
from .types import Answer, Article, Turn


def validate_question(question: object, limit: int) -> str:
    """The question stripped, or a UserInputError saying what to fix."""
    if not isinstance(question, str):
        raise UserInputError("The question must be text.")
    question = question.strip()
    if not question:
        raise UserInputError("The question is empty: type a question about the articles.")
    if len(question) > limit:
        raise UserInputError(f"The question is {len(question):,} characters long; the limit is {limit:,}: shorten it.")
    return _encodable(question, "question")


def no_index(settings: Settings) -> str:
    """What every face says when there is no index: where it was looked for, whatever the working
    directory, and how to make or find one."""
    if settings.chroma_host:
        return f"No index at {where(settings)}: run `assistant ingest` first."
    return (f"No index at {settings.index_dir.absolute()}: run `assistant ingest` first, "
            "or point --index at an existing index.")


def _encodable(text: str, what: str) -> str:
    """`text`, unless it holds a lone surrogate (valid in JSON's \\u escapes, not in any text encoding)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UserInputError(f"The {what} contains a lone surrogate character (U+D800 to U+DFFF), which is not "
                             "text: remove it.") from None
    return text


@dataclass(frozen=True)
class FaqEntry:
    doc_id: str
    question: str
    start: int
    end: int


# A suggestion longer than this reads as a paragraph, not a question to tap.
_LONG_QUESTION = 80


class Assistant:
    def __init__(self, settings: Settings, index: IndexReader, answerer: Answerer | None = None):
        self.settings = settings
        self.index = index
        self.retriever = Retriever(index, settings)
        extractive = ExtractiveAnswerer(index, settings)
        # With a site owner's LLM: it writes the answers (held to the grounding check) and reads follow-ups.
        self.writer = GenerativeAnswerer(extractive, connect(settings), GroundingCheck(index), settings) \
            if settings.llm_url else None
        self.answerer = answerer or self.writer or extractive
        self.curated = CuratedFaq(index)

    @classmethod
    def open(cls, settings: Settings) -> Assistant:
        """Open the index named by the settings, ready to answer: the first question costs like
        the next. Raises IndexMissingError / IndexMismatchError."""
        try:
            index = IndexReader.open(settings)
        except IndexMissingError:
            raise IndexMissingError(no_index(settings)) from None
        assistant = cls(settings, index)
        assistant.retriever.warm()
        return assistant

    def ask(self, question: str, history: Sequence[Turn] = (), on_text: Callable[[str], None] | None = None) -> Answer:
        """The answer to `question` read in the light of `history`; an LLM's answer is streamed to
        `on_text` as it is written (before the grounding check: the answer returned is what counts)."""
        started = time.perf_counter()
        question = validate_question(question, self.settings.max_question_chars)
        for turn in history:
            _encodable(turn.question + turn.answer, "conversation history")
        self.index.refresh()
        if self.curated.has_entries():
            # A first question is matched as typed; a follow-up as read in the light of the conversation.
            query = self._standalone(question, list(history)[-self.settings.max_history_turns:]) \
                if history else question
            if (entry := self.curated.match(query)) is not None:
                answer = curated_answer(entry, question)
                answer.search_query = query
                answer.timings_ms = {"total": (time.perf_counter() - started) * 1000}
                return answer
        retrieval = self.retrieve(question, history)
        retrieved = time.perf_counter()
        answer = self.answerer.answer(question, retrieval, on_text)
        done = time.perf_counter()
        answer.timings_ms = {
            "retrieve": (retrieved - started) * 1000,
            "answer": (done - retrieved) * 1000,
            "total": (done - started) * 1000,
        }
        return answer

    def retrieve(self, question: str, history: Sequence[Turn] = ()) -> Retrieval:
        """The passages for `question` read in the light of the conversation."""
        history = list(history)[-self.settings.max_history_turns :]
        query = self._standalone(question, history)
        retrieval = self.retriever.retrieve(query)
        earlier = quoted_text(history[-1].answer) if history and leans_on_answer(question) else ""
        found = self.retriever.retrieve(earlier) if earlier else None
        if found is not None and found.passages:
            # An elliptical follow-up is first looked for where the previous answer was: the
            # passage it quoted (found by its own words) leads, then the rest as retrieved.
            keep = [i for i, p in enumerate(retrieval.passages) if p.chunk.id != found.passages[0].chunk.id]
            keep = keep[: self.settings.top_k - 1]
            retrieval = replace(retrieval, passages=[found.passages[0], *(retrieval.passages[i] for i in keep)],
                                sentence_ids=[found.sentence_ids[0], *(retrieval.sentence_ids[i] for i in keep)])
        if not history and query != question:
            # A first question's "he" may mean the articles' subject or someone the question
            # leaves implicit: keep whichever reading the articles support better.
            as_asked = self.retriever.retrieve(question)
            retrieval = max(retrieval, as_asked, key=lambda r: r.strength)
        return retrieval

    def _standalone(self, question: str, history: list[Turn]) -> str:
        """The question to search for: the LLM's rewrite of a follow-up when one is configured and
        answers, else the rule-based reading."""
        rewritten = self.writer.rewrite(question, history) if self.writer is not None and history else None
        return rewritten or contextualize(question, history, self.retriever.cast())

    def article(self, doc_id: str) -> Article:
        return self.index.article(doc_id)

    def faq(self) -> list[FaqEntry]:
        """The articles' own FAQ questions, the suggested openers: taken in turn from each article
        with a FAQ (a site's first few suggestions span its FAQ pages, not one page's first
        entries), short questions before long ones, in reading order within each."""
        lexicon = self.index.lexicon
        by_article: dict[str, list[FaqEntry]] = {}
        for p in np.flatnonzero(lexicon.chunk_faq):
            doc_id = lexicon.doc_ids[lexicon.chunk_doc[p]]
            by_article.setdefault(doc_id, []).append(FaqEntry(doc_id, lexicon.chunk_section[p],
                                                              int(lexicon.chunk_start[p]), int(lexicon.chunk_end[p])))
        queues = [sorted(entries, key=lambda e: len(e.question) > _LONG_QUESTION) for entries in by_article.values()]
        return [q[i] for i in range(max(map(len, queues), default=0)) for q in queues if i < len(q)]

    def related(self, answer: Answer, asked: Sequence[str], k: int = 3) -> list[FaqEntry]:
        """Up to `k` FAQ questions to suggest after `answer`: not asked yet, those sharing the most
        words with the question and answer first (from a cited article on a tie), then the rest in
        `faq()` order."""
        said = set(terms(f"{answer.question} {answer.answer}"))
        cited = {c.doc_id for c in answer.citations}
        done = {" ".join(terms(q)) for q in asked}
        fresh = [e for e in self.faq() if " ".join(terms(e.question)) not in done]
        ranked = sorted(enumerate(fresh), key=lambda p: (-len(said & set(terms(p[1].question))),
                                                         p[1].doc_id not in cited, p[0]))
        return [entry for _, entry in ranked[:k]]

    def topics(self) -> list[str]:
        """The articles' titles, in the index's order."""
        return list(self.index.lexicon.doc_titles)

    def health(self) -> dict[str, object]:
        manifest = self.index.manifest
        return {
            "ok": True,
            "articles": len(manifest.files),
            "chunks": len(self.index.lexicon.chunk_ids),
            "model": manifest.model,
            "dimension": manifest.dimension,
            "generation": manifest.generation,
        }
