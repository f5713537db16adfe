"""Reading the live generation: the chunks, sentences and articles a question needs, nearest
vectors first, following a newer generation as soon as an ingest makes one live."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..config import Settings
from ..errors import IndexMismatchError, IndexMissingError, NotFoundError, StoreUnavailableError
from ..types import Article, Chunk
from .chroma import Store, where
from .embeddings import Embedder, load_fast_embedder
from .records import Manifest, SentenceRecord, article_key, decode_tokens

_REFRESH_SECONDS = 1.0  # how often a reader looks for a newer generation
_OVERFETCH = 20  # nearest records asked beyond k: some may belong to a generation being written or retired


class _Cache(OrderedDict[str, Any]):
    """The most recently used records, up to `size`."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def put(self, key: str, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class IndexReader:
    """The live generation opened for questions; `refresh()` follows a newer one, from any writer."""

    def __init__(self, settings: Settings, store: Store, manifest: Manifest):
        self.settings = settings
        self.store = store
        self._chunks = _Cache(4096)
        self._sentences = _Cache(16384)
        self._articles = _Cache(64)
        self._epoch = ""
        self.curated_version = store.versions()[1]
        self._load(manifest)

    @classmethod
    def open(cls, settings: Settings) -> IndexReader:
        store = Store.open(settings, create=False)
        manifest = store.live()
        if manifest is None:
            raise IndexMissingError(f"No index at {where(settings)}: run `assistant ingest` first.")
        if manifest.model != settings.model:
            raise IndexMismatchError(
                f"The index at {where(settings)} was built with the model {manifest.model!r}, not "
                f"{settings.model!r}: run `assistant ingest --rebuild` or select that model."
            )
        return cls(settings, store, manifest)

    def _load(self, manifest: Manifest) -> None:
        lexicon = self.store.lexicon(manifest)
        chunks = self.store.collection(manifest.epoch, "chunks")
        sentences = self.store.collection(manifest.epoch, "sentences")
        if self._epoch != manifest.epoch:
            self._chunks.clear()
            self._sentences.clear()
            self._epoch = manifest.epoch
        self._articles.clear()  # an article's text may change under the same id
        self.manifest, self.lexicon = manifest, lexicon
        self._chunk_vectors, self._sentence_vectors = chunks, sentences
        # Which chunks hold each sentence: members sorted by sentence, and each entry's chunk.
        runs = np.diff(np.append(lexicon.member_offsets, len(lexicon.members)))
        self._member_chunk = np.repeat(np.arange(len(lexicon.chunk_ids)), runs)
        self._member_order = np.argsort(lexicon.members, kind="stable")
        self._members_sorted = lexicon.members[self._member_order]
        self._checked = time.monotonic()

    def refresh(self) -> None:
        """Follow a newer live generation (looked for at most once a second)."""
        if time.monotonic() - self._checked < _REFRESH_SECONDS:
            return
        self._checked = time.monotonic()
        try:
            generation, curated = self.store.versions()
        except StoreUnavailableError:
            return  # keep answering from what is loaded
        newer = bool(generation) and generation != self.manifest.generation
        if not newer and curated == self.curated_version:
            return
        if not self.settings.chroma_host:  # the embedded store sees another process's writes only afresh
            self.store = Store.open(self.settings, create=False, fresh=True)
        self.curated_version = curated
        if newer:
            self._load(self.store.manifest(generation))
        else:
            self._chunk_vectors = self.store.collection(self.manifest.epoch, "chunks")
            self._sentence_vectors = self.store.collection(self.manifest.epoch, "sentences")

    @property
    def embedder(self) -> Embedder:
        """The question embedder: the model's ONNX export, else the model."""
        return load_fast_embedder(self.settings.model)

    def dense(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The `k` chunks nearest to `vector`: (position in the lexicon, cosine)."""
        return self._nearest(self._chunk_vectors, self.lexicon.chunk_position, vector, k)

    def nearest_sentences(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        return self._nearest(self._sentence_vectors, self.lexicon.sentence_position, vector, k)

    def _nearest(self, collection: Any, position: dict[str, int], vector: np.ndarray, k: int
                 ) -> list[tuple[int, float]]:
        try:
            result = collection.query(query_embeddings=[vector.tolist()], n_results=k + _OVERFETCH,
                                      include=["distances"])
        except Exception as exc:
            raise StoreUnavailableError(f"Cannot search the index at {where(self.settings)} ({exc}).") from None
        hits = [(position[i], 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0], strict=True)
                if i in position]  # Chroma's cosine distance is 1 - cos; other ids are another generation's
        return hits[:k]

    def chunks_holding(self, sentences: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For sentence positions: (entry, chunk position) pairs, one per chunk that holds each."""
        lo = np.searchsorted(self._members_sorted, sentences, side="left")
        hi = np.searchsorted(self._members_sorted, sentences, side="right")
        entries = np.concatenate([np.full(h - low, i) for i, (low, h) in enumerate(zip(lo, hi, strict=True))]) \
            if len(sentences) else np.zeros(0, dtype=np.int64)
        members = np.concatenate([self._member_order[low:h] for low, h in zip(lo, hi, strict=True)]) \
            if len(sentences) else np.zeros(0, dtype=np.int64)
        return entries.astype(np.int64), self._member_chunk[members]

    def chunks(self, positions: Sequence[int]) -> list[Chunk]:
        """The chunks at these lexicon positions, with their text."""
        lexicon = self.lexicon
        ids = [lexicon.chunk_ids[p] for p in positions]
        missing = [i for i in ids if i not in self._chunks]
        if missing:
            got = self._get(self._chunk_vectors, missing, ["documents"])
            for chunk_id, text in zip(got["ids"], got["documents"], strict=True):
                p = lexicon.chunk_position[chunk_id]
                doc = int(lexicon.chunk_doc[p])
                self._chunks.put(chunk_id, Chunk(
                    id=chunk_id, doc_id=lexicon.doc_ids[doc], title=lexicon.doc_titles[doc],
                    section=lexicon.chunk_section[p], kind="faq" if lexicon.chunk_faq[p] else "text",
                    start=int(lexicon.chunk_start[p]), end=int(lexicon.chunk_end[p]), text=text))
        return [self._chunks[i] for i in ids]

    def sentences(self, positions: Sequence[int]) -> list[SentenceRecord]:
        """The sentences at these lexicon positions: text, vector, token vectors."""
        ids = [self.lexicon.sentence_ids[p] for p in positions]
        missing = [i for i in ids if i not in self._sentences]
        if missing:
            got = self._get(self._sentence_vectors, missing, ["embeddings", "metadatas"])
            for sentence_id, vector, meta in zip(got["ids"], got["embeddings"], got["metadatas"], strict=True):
                self._sentences.put(sentence_id, SentenceRecord(
                    meta["text"], meta["terms"].split(), np.asarray(vector, dtype=np.float32),
                    decode_tokens(meta["tokens"], self.manifest.dimension)))
        return [self._sentences[i] for i in ids]

    def article(self, doc_id: str) -> Article:
        entry = self.manifest.files.get(doc_id)
        if entry is None:
            raise NotFoundError(f"There is no article {doc_id!r} in the index.")
        if doc_id not in self._articles:
            key = article_key(doc_id, entry.sha256)
            text = self.store.texts(self.manifest.epoch, [key]).get(key)
            if text is None:
                raise IndexMismatchError(
                    f"The index at {where(self.settings)} is missing records: run `assistant ingest --rebuild`.")
            self._articles.put(doc_id, Article(doc_id, entry.path, entry.title, text, entry.sha256))
        return self._articles[doc_id]

    def _get(self, collection: Any, ids: list[str], include: list[str]) -> dict[str, Any]:
        try:
            got = collection.get(ids=ids, include=include)
        except Exception as exc:
            raise StoreUnavailableError(f"Cannot read the index at {where(self.settings)} ({exc}).") from None
        if len(got["ids"]) != len(set(ids)):
            raise IndexMismatchError(
                f"The index at {where(self.settings)} is missing records: run `assistant ingest --rebuild`."
            )
        return dict(got)
