"""The index, all of it in Chroma: embedded under `index_dir/chroma`, or a Chroma server that
readers on other machines share (their `index_dir` may be empty).

Collections, named after `settings.collection` (default "articles") and an epoch (a rebuild, or a
change of model or chunking, starts a new epoch; an ordinary ingest adds to the current one):
    {name}_state             the live pointer, each generation's manifest and its lexicon (lexicon.py),
                             in parts; a 1-d placeholder vector each, as Chroma wants one
    {name}_{epoch}_chunks    one record per chunk: vector, text, place; written through llama-index
    {name}_{epoch}_sentences one record per sentence: vector, text, and its token vectors (int8)
    {name}_{epoch}_articles  one record per article text (placeholder vector)
Records are content-addressed and shared by generations, so an ingest writes only what changed.
A generation becomes live in one step (the `live` record names it), so a reader sees the old one
or the new one, never half of one; records the previous generation retired are deleted by the
ingest after next, when no reader can still be on a generation that uses them. Every record names
the generation that added it, so what a killed ingest wrote is swept by the next one.
This module stores and loads; it does not decide what to chunk or how to rank.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import shutil
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .chunking import CHUNKER_VERSION
from .config import Settings
from .embeddings import Embedder, load_fast_embedder
from .errors import IndexMismatchError, IndexMissingError, IngestLockedError, NotFoundError, StoreUnavailableError
from .lexicon import Lexicon
from .types import Article, Chunk

STORE_FORMAT = 4  # 3: everything in Chroma; 4: sentence records keep their terms
LIVE = "live"
# The state record whose version changes whenever the curated FAQ does (curated.py).
CURATED = "curated"
_PART_CHARS = 4_000_000  # a lexicon part: well under a Chroma server's request limit
_BATCH_BYTES = 8_000_000  # records written per request, by size
_REFRESH_SECONDS = 1.0  # how often a reader looks for a newer generation
_OVERFETCH = 20  # nearest records asked beyond k: some may belong to a generation being written or retired
_PLACEHOLDER = [1.0]


@dataclass
class FileEntry:
    path: str
    sha256: str
    title: str
    chunk_ids: list[str]


@dataclass
class Manifest:
    model: str
    dimension: int
    chunking: dict[str, int]
    generation: str
    epoch: str
    files: dict[str, FileEntry] = field(default_factory=dict)
    lexicon_parts: int = 0
    # Records the previous generation used and this one does not: deleted by the next ingest.
    retired: dict[str, list[str]] = field(default_factory=dict)
    format: int = STORE_FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        files = {doc_id: FileEntry(**entry) for doc_id, entry in data["files"].items()}
        return cls(**{**data, "files": files})


@dataclass(frozen=True)
class SentenceRecord:
    text: str
    terms: list[str]  # terms.terms(text), computed at ingest
    vector: np.ndarray  # unit, float32
    tokens: np.ndarray  # unit token vectors, float32 (stored as int8)


def chunking_settings(settings: Settings) -> dict[str, int]:
    return {"chunk_chars": settings.chunk_chars, "overlap_sentences": settings.chunk_overlap_sentences,
            "chunker_version": CHUNKER_VERSION}


def encode_tokens(vectors: np.ndarray) -> str:
    """Unit token vectors as int8 (a cosine with them moves by about 0.01 at most: 0.011 measured on
    the seeds), base64 for a metadata string."""
    return base64.b64encode(np.round(np.clip(vectors, -1, 1) * 127).astype(np.int8).tobytes()).decode("ascii")


def decode_tokens(text: str, dimension: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.int8).reshape(-1, dimension).astype(np.float32) / 127


def chroma_client(settings: Settings, fresh: bool = False) -> Any:
    """A client of the settings' store. The embedded store caches what it has read in the process;
    `fresh` drops that cache, to see what another process (an ingest) has written since."""
    # chromadb is imported here: it costs most of a second and `assistant --help` needs none of it.
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    if fresh and not settings.chroma_host:
        _forget_client(settings)

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                       settings=chroma_settings)
        return chromadb.PersistentClient(path=str(settings.index_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:  # chromadb raises plain Exceptions for connection and disk failures
        if settings.chroma_host:
            raise StoreUnavailableError(f"Cannot open the Chroma store at {where(settings)} ({exc}): check that "
                                        "it is running and reachable.") from None
        raise IndexMismatchError(f"The index at {where(settings)} cannot be opened ({exc}): it is damaged; run "
                                 "`assistant ingest --rebuild`.") from None


def _forget_client(settings: Settings) -> None:
    """Drop Chroma's in-process client of the embedded store (it caches what it has read)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    stale = SharedSystemClient._identifier_to_system.pop(str(settings.index_dir / "chroma"), None)
    if stale is not None:
        with contextlib.suppress(AttributeError):  # a client that failed to open has no bindings to stop
            stale.stop()


def where(settings: Settings) -> str:
    return f"the Chroma server {settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host \
        else str(settings.index_dir)


class Store:
    """One index's collections in one Chroma client."""

    def __init__(self, settings: Settings, client: Any, state: Any):
        self.settings = settings
        self.client = client
        self.state = state
        self.prefix = settings.collection

    @classmethod
    def open(cls, settings: Settings, create: bool, fresh: bool = False) -> Store:
        """The store named by the settings; without `create`, IndexMissingError when it holds no index."""
        missing = IndexMissingError(f"No index at {where(settings)}: run `assistant ingest` first.")
        if not create and not settings.chroma_host and not (settings.index_dir / "chroma").exists():
            if (settings.index_dir / "manifest.json").exists():
                raise _older_version(settings)
            raise missing
        client = chroma_client(settings, fresh)
        name = f"{settings.collection}_state"
        try:
            if create:
                return cls(settings, client, client.get_or_create_collection(name, embedding_function=None))
            return cls(settings, client, client.get_collection(name, embedding_function=None))
        except Exception:
            if create:
                raise StoreUnavailableError(f"Cannot create the index in {where(settings)}.") from None
            raise missing from None

    # -- the state collection --------------------------------------------------------------------

    def live(self) -> Manifest | None:
        got = self._state_get([LIVE])
        return self.manifest(got[LIVE]["generation"]) if LIVE in got else None

    def uncollected(self) -> Manifest | None:
        """The generation the live one replaced, when the ingest that replaced it was killed before
        `collect_garbage` ran (its records are still in the store; it may be gone by now)."""
        pending = self._state_get([LIVE]).get(LIVE, {}).get("collect")
        if not pending:
            return None
        try:
            return self.manifest(str(pending))
        except IndexMismatchError:
            return None

    def live_generation(self) -> str:
        return self.versions()[0]

    def versions(self) -> tuple[str, str]:
        """The live generation, and the curated FAQ's version: what readers follow."""
        got = self._state_get([LIVE, CURATED])
        return str(got.get(LIVE, {}).get("generation", "")), str(got.get(CURATED, {}).get("version", ""))

    def curated_changed(self) -> None:
        """Record that the curated FAQ changed, so that every reader of this store looks again."""
        self.state.upsert(ids=[CURATED], embeddings=[_PLACEHOLDER],
                          metadatas=[{"kind": CURATED, "version": str(time.time_ns())}])

    def manifest(self, generation: str) -> Manifest:
        got = self._state_get([f"generation:{generation}"])
        try:
            manifest = Manifest.from_json(got[f"generation:{generation}"]["manifest"])
        except (KeyError, ValueError, TypeError, AttributeError):
            raise IndexMismatchError(
                f"The index at {where(self.settings)} is damaged: run `assistant ingest --rebuild`."
            ) from None
        if manifest.format != STORE_FORMAT:
            raise _older_version(self.settings)
        return manifest

    def lexicon(self, manifest: Manifest) -> Lexicon:
        ids = [f"lexicon:{manifest.generation}:{i}" for i in range(manifest.lexicon_parts)]
        got = self._state_get(ids)
        try:
            return Lexicon.from_bytes(base64.b64decode("".join(got[i]["data"] for i in ids)))
        except (KeyError, ValueError, TypeError):
            raise IndexMismatchError(
                f"The index at {where(self.settings)} is incomplete: run `assistant ingest --rebuild`."
            ) from None

    def generations(self) -> dict[str, dict[str, Any]]:
        """Every generation record (live, previous, or left by a killed ingest) by generation."""
        got = self.state.get(where={"kind": "generation"}, include=["metadatas"])
        return {m["generation"]: m for m in got["metadatas"]}

    def _state_get(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        try:
            got = self.state.get(ids=ids, include=["metadatas"])
        except Exception as exc:
            raise StoreUnavailableError(f"Cannot read the index at {where(self.settings)} ({exc}).") from None
        return dict(zip(got["ids"], got["metadatas"], strict=True))

    # -- the epoch's collections -----------------------------------------------------------------

    def collection(self, epoch: str, kind: str, create: bool = False) -> Any:
        name = f"{self.prefix}_{epoch}_{kind}"
        try:
            if create:
                config = {"hnsw": {"space": "cosine"}} if kind != "articles" else None
                return self.client.get_or_create_collection(name, embedding_function=None, configuration=config)
            return self.client.get_collection(name, embedding_function=None)
        except Exception as exc:
            raise IndexMismatchError(
                f"The collection {name} is missing or unreadable ({type(exc).__name__}): "
                "run `assistant ingest --rebuild`."
            ) from None

    def texts(self, epoch: str, keys: Sequence[str]) -> dict[str, str]:
        """Article texts by key (article_key)."""
        collection = self.collection(epoch, "articles")
        found: dict[str, str] = {}
        try:
            for start in range(0, len(keys), 200):
                got = collection.get(ids=list(keys[start:start + 200]), include=["documents"])
                found.update(zip(got["ids"], got["documents"], strict=True))
        except Exception as exc:
            raise StoreUnavailableError(f"Cannot read the index at {where(self.settings)} ({exc}).") from None
        return found

    def drop_epochs(self, keep: set[str]) -> None:
        """Delete the collections of every epoch but `keep` (older indexes' collections among them)."""
        pattern = re.compile(rf"{re.escape(self.prefix)}_(.+)_(chunks|sentences|articles)$|"
                             rf"{re.escape(self.prefix)}_g\d+$")  # the last: format 2's per-generation collections
        for coll in self.client.list_collections():
            name = coll if isinstance(coll, str) else coll.name
            match = pattern.match(name)
            if match and match.group(1) not in keep:
                self.client.delete_collection(name)
        if not self.settings.chroma_host:
            _remove_orphan_segments(self.settings.index_dir / "chroma")


def _remove_orphan_segments(folder: Path) -> None:
    """Delete the vector folders of deleted collections: embedded Chroma leaves them on disk (each
    an HNSW index as large as its collection's vectors). A folder is a segment's id; the segments
    that exist are listed in Chroma's SQLite file."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{folder / 'chroma.sqlite3'}?mode=ro", uri=True)) as db:
            segments = {row[0] for row in db.execute("SELECT id FROM segments")}
    except sqlite3.Error:
        return  # an unreadable catalogue: leave every folder alone
    for path in folder.iterdir():
        if path.is_dir() and _SEGMENT.fullmatch(path.name) and path.name not in segments:
            shutil.rmtree(path, ignore_errors=True)


_SEGMENT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _older_version(settings: Settings) -> IndexMismatchError:
    return IndexMismatchError(f"The index at {where(settings)} is damaged or was built by an older version of "
                              "the assistant: run `assistant ingest --rebuild`.")


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


def article_key(doc_id: str, sha256: str) -> str:
    return hashlib.sha256(f"{doc_id}\0{sha256}".encode()).hexdigest()[:32]


class IndexWriter:
    """Writes one new generation into an epoch; `commit()` makes it live. Hold `writer_lock`."""

    def __init__(self, store: Store, generation: str, epoch: str, dimension: int):
        self.store = store
        self.generation = generation
        self.epoch = epoch
        self.dimension = dimension
        self._collections = {kind: store.collection(epoch, kind, create=True)
                             for kind in ("chunks", "sentences", "articles")}
        # Written first, so that a killed ingest's records can be found and swept.
        self._put_state([f"generation:{generation}"],
                        [{"kind": "generation", "generation": generation, "epoch": epoch, "status": "writing"}])

    def existing(self, kind: str, ids: Sequence[str]) -> set[str]:
        """Which of `ids` the epoch already holds."""
        collection = self._collections[kind]
        found: set[str] = set()
        for start in range(0, len(ids), 2000):
            found.update(collection.get(ids=list(ids[start:start + 2000]), include=[])["ids"])
        return found

    def ids_of(self, kind: str, doc_ids: Sequence[str]) -> set[str]:
        """Every record of these articles in the epoch, whichever generation uses it."""
        collection = self._collections[kind]
        found: set[str] = set()
        for start in range(0, len(doc_ids), 100):
            found.update(collection.get(where={"article": {"$in": list(doc_ids[start:start + 100])}},
                                        include=[])["ids"])
        return found

    def add_chunks(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        from llama_index.core.schema import TextNode
        from llama_index.vector_stores.chroma import ChromaVectorStore

        store = ChromaVectorStore(chroma_collection=self._collections["chunks"])
        nodes = [TextNode(id_=c.id, text=c.text, embedding=v.tolist(), start_char_idx=c.start, end_char_idx=c.end,
                          metadata={"article": c.doc_id, "section": c.section, "kind": c.kind,
                                    "added": self.generation})
                 for c, v in zip(chunks, vectors, strict=True)]
        for batch in _batches(nodes, lambda n: 3 * len(n.text) + 12 * self.dimension):
            store.add(batch)

    def add_sentences(self, ids: Sequence[str], doc_ids: Sequence[str], texts: Sequence[str],
                      terms: Sequence[list[str]], vectors: np.ndarray, tokens: Sequence[np.ndarray]) -> None:
        rows = list(zip(ids, doc_ids, texts, terms, vectors, tokens, strict=True))
        for batch in _batches(rows, lambda r: 3 * len(r[2]) + 12 * self.dimension + 2 * r[5].size):
            self._collections["sentences"].add(
                ids=[r[0] for r in batch], embeddings=np.stack([r[4] for r in batch]),
                metadatas=[{"article": r[1], "text": r[2], "terms": " ".join(r[3]), "tokens": encode_tokens(r[5]),
                            "added": self.generation} for r in batch])

    def add_articles(self, articles: Sequence[Article]) -> None:
        for batch in _batches(list(articles), lambda a: 3 * len(a.text)):
            self._collections["articles"].add(ids=[article_key(a.doc_id, a.sha256) for a in batch],
                               embeddings=[_PLACEHOLDER] * len(batch), documents=[a.text for a in batch],
                               metadatas=[{"article": a.doc_id, "added": self.generation} for a in batch])

    def commit(self, manifest: Manifest, lexicon: Lexicon, replaces: Manifest | None) -> None:
        """Write the lexicon and manifest, then point `live` at this generation: one step. The
        `live` record names the generation it `replaces` until `collect_garbage` has run, so that
        an ingest killed between the two has its collection finished by the next one."""
        data = base64.b64encode(lexicon.to_bytes()).decode("ascii")
        parts = [data[i:i + _PART_CHARS] for i in range(0, len(data), _PART_CHARS)] or [""]
        manifest.lexicon_parts = len(parts)
        for i, part in enumerate(parts):
            self._put_state([f"lexicon:{self.generation}:{i}"],
                            [{"kind": "lexicon", "generation": self.generation, "data": part}])
        self._put_state([f"generation:{self.generation}"],
                        [{"kind": "generation", "generation": self.generation, "epoch": self.epoch,
                          "status": "done", "manifest": manifest.to_json()}])
        self._put_state([LIVE], [{"kind": "live", "generation": self.generation,
                                  "collect": replaces.generation if replaces is not None else ""}])

    def _put_state(self, ids: list[str], metadatas: list[dict[str, Any]]) -> None:
        self.store.state.upsert(ids=ids, embeddings=[_PLACEHOLDER] * len(ids), metadatas=metadatas)


def sweep_killed(store: Store) -> None:
    """Delete what ingests that were killed before going live wrote (before anything is reused)."""
    for generation, meta in store.generations().items():
        if meta.get("status") != "writing":
            continue
        for kind in ("chunks", "sentences", "articles"):
            try:
                store.collection(meta["epoch"], kind).delete(where={"added": generation})
            except IndexMismatchError:
                pass  # that epoch's collections were never made, or are gone
        store.state.delete(where={"generation": generation})


def collect_garbage(store: Store, live: Manifest, previous: Manifest | None, used: dict[str, set[str]]) -> None:
    """After `live` went live: delete the records `previous` retired that `live` does not use
    (`used`), generation records older than `previous`, and epochs neither uses. `previous`
    stays whole for readers still on it."""
    keep = {live.generation} | ({previous.generation} if previous else set())
    for generation in store.generations():
        if generation not in keep:
            store.state.delete(where={"generation": generation})
    if previous is not None and previous.epoch == live.epoch:
        for kind, ids in previous.retired.items():
            gone = [i for i in ids if i not in used[kind]]
            for start in range(0, len(gone), 2000):
                store.collection(live.epoch, kind).delete(ids=gone[start:start + 2000])
    store.drop_epochs(keep={live.epoch} | ({previous.epoch} if previous else set()))
    # Done: no ingest needs to collect for `live` again (an upsert merges, so the key is emptied).
    store.state.upsert(ids=[LIVE], embeddings=[_PLACEHOLDER],
                       metadatas=[{"kind": "live", "generation": live.generation, "collect": ""}])


def _batches(rows: list[Any], size: Any) -> Iterator[list[Any]]:
    """`rows` in runs of at most _BATCH_BYTES (by `size(row)`) and 1,000 rows."""
    batch: list[Any] = []
    total = 0
    for row in rows:
        n = size(row)
        if batch and (total + n > _BATCH_BYTES or len(batch) >= 1000):
            yield batch
            batch, total = [], 0
        batch.append(row)
        total += n
    if batch:
        yield batch


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time per index folder (Chroma's embedded store is not multi-writer safe).
    With a Chroma server, writers on different machines must take turns by other means."""
    import fcntl

    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".ingest.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IngestLockedError(
                f"An ingest is already running on {index_dir}: wait for it to finish, then run this again."
            ) from None
        yield


def remove_damaged(settings: Settings) -> None:
    """Delete an embedded store that cannot be opened, so that a rebuild can start afresh."""
    _forget_client(settings)
    shutil.rmtree(settings.index_dir / "chroma")


def remove_older_format(index_dir: Path) -> None:
    """Delete what format 2 kept beside Chroma (manifest.json and gen/): it is all in Chroma now."""
    (index_dir / "manifest.json").unlink(missing_ok=True)
    shutil.rmtree(index_dir / "gen", ignore_errors=True)
