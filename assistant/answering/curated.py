"""The curated FAQ: answers the site owner accepted from readers' ratings, and questions the owner
marked out of scope. They live in the index's Chroma store, in a collection of their own that ingest
never drops, so that they survive re-ingests and every server sharing a Chroma server uses them.

A question that means the same as a curated one (cosine of their MiniLM vectors at least
SAME_QUESTION) gets the curated answer, marked `curated`, its citations checked against the articles
as they are now (an entry whose passage changed is left aside), or the owner's refusal."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import NotFoundError, StoreUnavailableError, UserInputError
from ..store.reader import IndexReader
from ..types import Answer

# A reader's question rewords a curated one when their MiniLM vectors are at least this close, or
# at least SIMILAR_QUESTION and they ask with the same question word ("where" / "where"; "what" and
# "which" count as one). Chosen on a dozen hand-made pairs (scratch checks, not an eval set):
# rewordings scored 0.86-0.97; other questions about the same thing up to 0.85 ("Who founded AMI
# Labs?" against "Where is AMI Labs based?"), and those all ask with another word.
SAME_QUESTION = 0.88
SIMILAR_QUESTION = 0.84
_QUESTION_WORD = re.compile(r"\b(who|whom|whose|when|where|why|how|what|which)\b", re.IGNORECASE)
FAQ, OUT_OF_SCOPE = "faq", "out_of_scope"
# Said for an out-of-scope question when the owner gave no reply of their own.
DEFAULT_REPLY = "The site owner has marked this question as outside what these articles cover."
_COUNT_SECONDS = 1.0  # how often a reader looks again for entries another server added


@dataclass(frozen=True)
class CuratedEntry:
    id: str
    kind: str  # FAQ or OUT_OF_SCOPE
    question: str
    answer: Answer | None  # for FAQ entries
    reply: str  # for OUT_OF_SCOPE entries
    feedback_id: int
    accepted: str  # when, ISO 8601


class CuratedFaq:
    """The curated entries of one index, in its store."""

    def __init__(self, index: IndexReader):
        self.index = index
        self.name = f"{index.settings.collection}_curated"
        self._count = 0
        self._counted = -_COUNT_SECONDS

    def _collection(self, create: bool = False) -> Any:
        client = self.index.store.client
        try:
            if create:
                return client.get_or_create_collection(self.name, embedding_function=None,
                                                       configuration={"hnsw": {"space": "cosine"}})
            return client.get_collection(self.name, embedding_function=None)
        except Exception:
            if create:
                raise StoreUnavailableError("Cannot write the curated FAQ into the index's store.") from None
            return None

    def add(self, kind: str, question: str, feedback_id: int, answer: Answer | None = None,
            reply: str = "") -> CuratedEntry:
        """Store an entry (a FAQ answer, or an out-of-scope mark with the owner's reply)."""
        if kind == FAQ and (answer is None or answer.refused or answer.support() < 1.0):
            raise UserInputError("Only an answer whose every sentence is quoted from a passage it cites can become "
                                 "a FAQ entry: keep each sentence as the passage words it, with its [n].")
        entry = CuratedEntry(f"{kind}:{feedback_id}", kind, question, answer, reply, feedback_id,
                             datetime.now(UTC).isoformat(timespec="seconds"))
        vector = self.index.embedder.embed([question])[0]
        self._collection(create=True).upsert(
            ids=[entry.id], embeddings=[vector.tolist()], documents=[question],
            metadatas=[{"kind": kind, "answer": json.dumps(answer.to_dict()) if answer else "", "reply": reply,
                        "feedback_id": feedback_id, "accepted": entry.accepted}])
        self.index.store.curated_changed()
        self._counted = -_COUNT_SECONDS
        return entry

    def remove(self, entry_id: str) -> CuratedEntry:
        """Take an entry out of the curated FAQ (readers get the articles' own answer again)."""
        entry = next((e for e in self.entries() if e.id == entry_id), None)
        if entry is None:
            raise NotFoundError(f"There is no curated entry {entry_id!r}: `assistant faq list` shows them.")
        self._collection(create=True).delete(ids=[entry_id])
        self.index.store.curated_changed()
        self._counted = -_COUNT_SECONDS
        return entry

    def entries(self) -> list[CuratedEntry]:
        """Every entry, in the order they were accepted."""
        collection = self._collection()
        if collection is None:
            return []
        got = collection.get(include=["documents", "metadatas"])
        entries = [_entry(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
        return sorted(entries, key=lambda e: (e.accepted, e.feedback_id))

    def match(self, question: str) -> CuratedEntry | None:
        """The entry `question` rewords, if any; an entry whose cited passages changed is left aside."""
        if not self.has_entries():
            return None
        collection = self._collection()
        if collection is None:
            return None
        vector = self.index.embedder.embed([question])[0]
        got = collection.query(query_embeddings=[vector.tolist()], n_results=min(3, self._count),
                               include=["documents", "metadatas", "distances"])
        for i, document, meta, distance in zip(got["ids"][0], got["documents"][0], got["metadatas"][0],
                                               got["distances"][0], strict=True):
            similarity = 1.0 - distance
            if similarity < SIMILAR_QUESTION:
                break
            if similarity < SAME_QUESTION and _asked_with(question) != _asked_with(document):
                continue
            entry = _entry(i, document, meta)
            if entry.kind == OUT_OF_SCOPE or self._still_cited(entry.answer):
                return entry
        return None

    def has_entries(self) -> bool:
        """Whether the curated FAQ holds any entry (looked up again at most once a second)."""
        if time.monotonic() - self._counted >= _COUNT_SECONDS:
            collection = self._collection()
            self._count = collection.count() if collection is not None else 0
            self._counted = time.monotonic()
        return self._count > 0

    def _still_cited(self, answer: Answer | None) -> bool:
        """Whether every passage the answer cites is still, character for character, in its article."""
        if answer is None:
            return False
        for citation in answer.citations:
            try:
                text = self.index.article(citation.doc_id).text
            except NotFoundError:
                return False
            if text[citation.start:citation.end] != citation.text:
                return False
        return True


def curated_answer(entry: CuratedEntry, question: str) -> Answer:
    """What a reader asking `question` gets from a matching entry."""
    if entry.kind == OUT_OF_SCOPE or entry.answer is None:
        return Answer(question, entry.reply or DEFAULT_REPLY, True, [], curated=True, confidence=1.0)
    # The site owner read and published it: it is shown as an answer.
    return Answer(question, entry.answer.quoted, False, list(entry.answer.citations), curated=True, confidence=1.0,
                  confident=True)


def _asked_with(question: str) -> str:
    """The question's first question word ("what" for "which"), or "" when it has none."""
    found = _QUESTION_WORD.search(question)
    word = found.group(1).lower() if found else ""
    return {"which": "what", "whom": "who", "whose": "who"}.get(word, word)


def _entry(entry_id: str, question: str, meta: dict[str, Any]) -> CuratedEntry:
    answer = Answer.from_dict(json.loads(meta["answer"])) if meta.get("answer") else None
    return CuratedEntry(entry_id, str(meta["kind"]), question, answer, str(meta.get("reply", "")),
                        int(meta["feedback_id"]), str(meta["accepted"]))
