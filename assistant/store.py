"""The index on disk: Chroma (through llama-index's `ChromaVectorStore`) plus our manifest.

Layout of `index_dir`:
    manifest.json         the live generation: model, dimension, chunking, files and their chunk ids
    chroma/               the embedded Chroma store (absent when a Chroma server is configured)
    gen/<generation>/     chunks.jsonl, articles.jsonl, sentences.jsonl + sentences.npy, and each
                          sentence's token vectors (tokens.npy, float16, rows of sentence i at
                          token_offsets.npy[i]:[i+1]), memory-mapped when read
Each ingest writes a new generation (a new Chroma collection and a new gen folder) and then
replaces manifest.json atomically, so a killed ingest leaves the previous generation live.
This module stores and loads; it does not decide what to chunk or how to rank.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .chunking import CHUNKER_VERSION
from .config import Settings
from .embeddings import Embedder, load_query_embedder
from .errors import IndexMismatchError, IndexMissingError, IngestLockedError, NotFoundError, StoreUnavailableError
from .types import Article, Chunk

MANIFEST_FORMAT = 2  # 2: sentence token vectors
MANIFEST = "manifest.json"


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
    collection: str
    files: dict[str, FileEntry] = field(default_factory=dict)
    format: int = MANIFEST_FORMAT

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        files = {doc_id: FileEntry(**entry) for doc_id, entry in data["files"].items()}
        return cls(**{**data, "files": files})


def chunking_settings(settings: Settings) -> dict[str, int]:
    return {"chunk_chars": settings.chunk_chars, "overlap_sentences": settings.chunk_overlap_sentences,
            "chunker_version": CHUNKER_VERSION}


def read_manifest(index_dir: Path, any_format: bool = False) -> Manifest | None:
    """The live manifest, None when the folder holds no index (or, with `any_format`, an index
    this version cannot read, which an ingest then rebuilds); a damaged one is an error."""
    path = index_dir / MANIFEST
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if any_format and data.get("format") != MANIFEST_FORMAT:
            return None
        manifest = Manifest.from_dict(data)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise IndexMismatchError(
            f"The index at {index_dir} is damaged or not an assistant index: "
            "run `assistant ingest --rebuild` to build it again."
        ) from None
    if manifest.format != MANIFEST_FORMAT:
        raise IndexMismatchError(
            f"The index at {index_dir} has format {manifest.format}, this version reads {MANIFEST_FORMAT}: "
            "run `assistant ingest --rebuild`."
        )
    return manifest


def write_atomic(path: Path, data: str) -> None:
    """Write to a temp file beside `path`, fsync, then rename over it: readers see old or new."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def generation_dir(index_dir: Path, generation: str) -> Path:
    return index_dir / "gen" / generation


def chroma_client(settings: Settings) -> Any:
    # chromadb is imported here: it costs most of a second and `assistant --help` needs none of it.
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                       settings=chroma_settings)
        return chromadb.PersistentClient(path=str(settings.index_dir / "chroma"), settings=chroma_settings)
    except Exception as exc:  # chromadb raises plain Exceptions for connection and disk failures
        where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else settings.index_dir
        raise StoreUnavailableError(
            f"Cannot open the Chroma store at {where} ({exc}): check that it is running and reachable."
        ) from None


def open_collection(client: Any, collection: str, create: bool) -> Any:
    """One Chroma collection (cosine space), with no Chroma embedding function: we pass vectors."""
    try:
        if create:
            # embedding_function=None: Chroma's default would download a model.
            return client.create_collection(
                collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        return client.get_collection(collection, embedding_function=None)
    except Exception as exc:
        raise IndexMismatchError(
            f"The vector collection {collection} is missing or unreadable ({type(exc).__name__}): "
            "run `assistant ingest --rebuild`."
        ) from None


def vector_store(client: Any, collection: str) -> Any:
    """A new collection behind llama-index's `ChromaVectorStore`, which ingest writes through. Questions
    query the collection itself: llama-index costs most of a second to import and adds nothing there."""
    from llama_index.vector_stores.chroma import ChromaVectorStore

    return ChromaVectorStore(chroma_collection=open_collection(client, collection, create=True))


@dataclass
class Generation:
    """What a generation keeps beside its vectors: chunks, article texts, quotable sentences."""

    chunks: list[Chunk]
    articles: list[Article]
    sentences: list[tuple[str, int, int, bool]]  # (doc_id, start, end, quotable)
    sentence_vectors: np.ndarray
    token_vectors: np.ndarray  # every sentence's token vectors, concatenated (float16)
    token_offsets: np.ndarray  # sentence i's tokens are token_vectors[token_offsets[i]:token_offsets[i + 1]]

    def tokens(self, i: int) -> np.ndarray:
        return self.token_vectors[self.token_offsets[i]:self.token_offsets[i + 1]]


def read_generation(index_dir: Path, generation: str) -> Generation:
    folder = generation_dir(index_dir, generation)
    try:
        return Generation(
            chunks=[Chunk.from_dict(row) for row in _read_jsonl(folder / "chunks.jsonl")],
            articles=[Article(**row) for row in _read_jsonl(folder / "articles.jsonl")],
            sentences=[(row[0], row[1], row[2], row[3]) for row in _read_jsonl(folder / "sentences.jsonl")],
            sentence_vectors=np.load(folder / "sentences.npy"),
            token_vectors=np.load(folder / "tokens.npy", mmap_mode="r"),
            token_offsets=np.load(folder / "token_offsets.npy"),
        )
    except (OSError, ValueError, TypeError, IndexError):
        raise IndexMismatchError(
            f"The index at {index_dir} is incomplete: run `assistant ingest --rebuild`."
        ) from None


class IndexReader:
    """A live index opened for questions; `refresh()` follows a newer generation."""

    def __init__(self, settings: Settings, manifest: Manifest):
        self.settings = settings
        self._client = chroma_client(settings)
        self._load(manifest)

    @classmethod
    def open(cls, settings: Settings) -> IndexReader:
        manifest = read_manifest(settings.index_dir)
        if manifest is None:
            raise IndexMissingError(f"No index at {settings.index_dir}: run `assistant ingest` first.")
        if manifest.model != settings.model:
            raise IndexMismatchError(
                f"The index at {settings.index_dir} was built with the model {manifest.model!r}, not "
                f"{settings.model!r}: run `assistant ingest --rebuild` or select that model."
            )
        return cls(settings, manifest)

    def _load(self, manifest: Manifest) -> None:
        generation = read_generation(self.settings.index_dir, manifest.generation)
        self.manifest = manifest
        self._chunks = generation.chunks
        self._by_id = {c.id: c for c in generation.chunks}
        self._articles = {a.doc_id: a for a in generation.articles}
        self.sentences = generation.sentences
        self.sentence_vectors = generation.sentence_vectors
        self.sentence_tokens = generation.tokens
        self._vectors = open_collection(self._client, manifest.collection, create=False)
        self._mtime = (self.settings.index_dir / MANIFEST).stat().st_mtime_ns

    def refresh(self) -> None:
        """Reload when an ingest has swapped in a new generation since we loaded."""
        try:
            mtime = (self.settings.index_dir / MANIFEST).stat().st_mtime_ns
        except OSError:
            return
        if mtime != self._mtime:
            manifest = read_manifest(self.settings.index_dir)
            if manifest is not None and manifest.generation != self.manifest.generation:
                self._load(manifest)
            self._mtime = mtime

    @property
    def embedder(self) -> Embedder:
        """The question embedder: the model's ONNX export, else the model."""
        return load_query_embedder(self.settings.model)

    def dense(self, vector: np.ndarray, k: int) -> list[tuple[Chunk, float]]:
        """The `k` chunks nearest to `vector`, with their cosine similarity."""
        result = self._vectors.query(query_embeddings=[vector.tolist()], n_results=min(k, len(self._chunks)),
                                     include=["distances"])
        hits = []
        for chunk_id, distance in zip(result["ids"][0], result["distances"][0], strict=True):
            chunk = self._by_id.get(chunk_id)
            if chunk is not None:
                hits.append((chunk, 1.0 - float(distance)))  # Chroma's cosine distance is 1 - cos
        return hits

    def chunks(self) -> list[Chunk]:
        return self._chunks

    def articles(self) -> list[Article]:
        return list(self._articles.values())

    def article(self, doc_id: str) -> Article:
        try:
            return self._articles[doc_id]
        except KeyError:
            raise NotFoundError(f"There is no article {doc_id!r} in the index.") from None


class IndexWriter:
    """Writes one new generation; `commit()` makes it live. Hold `writer_lock` around it."""

    def __init__(self, settings: Settings, generation: str, embedder: Embedder):
        self.settings = settings
        self.generation = generation
        self.collection = f"{settings.collection}_{generation}"
        self.folder = generation_dir(settings.index_dir, generation)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.embedder = embedder
        self._client = chroma_client(settings)
        self._vectors = vector_store(self._client, self.collection)

    def add_chunks(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        from llama_index.core.schema import TextNode

        nodes = [
            TextNode(id_=c.id, text=c.text, embedding=v.tolist(), start_char_idx=c.start, end_char_idx=c.end,
                     metadata={"doc_id": c.doc_id, "section": c.section, "kind": c.kind})
            for c, v in zip(chunks, vectors, strict=True)
        ]
        if nodes:
            self._vectors.add(nodes)

    def commit(self, manifest: Manifest, generation: Generation) -> None:
        _write_jsonl(self.folder / "chunks.jsonl", (c.to_dict() for c in generation.chunks))
        _write_jsonl(self.folder / "articles.jsonl", (asdict(a) for a in generation.articles))
        _write_jsonl(self.folder / "sentences.jsonl", (list(s) for s in generation.sentences))
        for name, array in (("sentences.npy", generation.sentence_vectors), ("tokens.npy", generation.token_vectors),
                            ("token_offsets.npy", generation.token_offsets)):
            with open(self.folder / name, "wb") as fh:
                np.save(fh, array)
                fh.flush()
                os.fsync(fh.fileno())
        write_atomic(self.settings.index_dir / MANIFEST, json.dumps(manifest.to_dict(), indent=1))

    def stored_vectors(self, collection: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors of `ids` already in an older generation's collection, to reuse without re-embedding."""
        if not ids:
            return {}
        try:
            coll = self._client.get_collection(collection, embedding_function=None)
            got = coll.get(ids=list(ids), include=["embeddings"])
        except Exception:  # a missing or damaged old collection just means: embed again
            return {}
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"], strict=True)}

    def remove_stale(self, keep: set[str]) -> None:
        """Drop generations other than `keep` (collections and folders), e.g. from killed ingests."""
        prefix = f"{self.settings.collection}_"
        for coll in self._client.list_collections():
            name = coll if isinstance(coll, str) else coll.name
            if name.startswith(prefix) and name[len(prefix):] not in keep:
                self._client.delete_collection(name)
        for folder in (self.settings.index_dir / "gen").iterdir():
            if folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time per index folder (Chroma's embedded store is not multi-writer safe)."""
    import fcntl

    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".ingest.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IngestLockedError(
                f"Another ingest is writing {index_dir}: wait for it to finish, then run this again."
            ) from None
        yield


def _read_jsonl(path: Path) -> list[Any]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _write_jsonl(path: Path, rows: Iterable[Any]) -> None:
    write_atomic(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
