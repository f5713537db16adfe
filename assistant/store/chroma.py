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
import re
import shutil
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import IndexMismatchError, IndexMissingError, StoreUnavailableError
from .lexicon import Lexicon
from .records import CURATED, LIVE, PLACEHOLDER, STORE_FORMAT, Manifest


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
        self.put_state([CURATED], [{"kind": CURATED, "version": str(time.time_ns())}])

    def put_state(self, ids: list[str], metadatas: list[dict[str, Any]]) -> None:
        """Write state records (an upsert merges metadata: a key is emptied, never dropped)."""
        self.state.upsert(ids=ids, embeddings=[PLACEHOLDER] * len(ids), metadatas=metadatas)

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


def remove_damaged(settings: Settings) -> None:
    """Delete an embedded store that cannot be opened, so that a rebuild can start afresh."""
    _forget_client(settings)
    shutil.rmtree(settings.index_dir / "chroma")


def remove_older_format(index_dir: Path) -> None:
    """Delete what format 2 kept beside Chroma (manifest.json and gen/): it is all in Chroma now."""
    (index_dir / "manifest.json").unlink(missing_ok=True)
    shutil.rmtree(index_dir / "gen", ignore_errors=True)
