"""Writing a generation (`IndexWriter`), making it live in one step, and collecting what no
generation uses any more: the records a killed ingest wrote, and those retired two generations ago."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexMismatchError, IngestLockedError
from ..types import Article, Chunk
from .chroma import Store
from .lexicon import Lexicon
from .records import LIVE, PLACEHOLDER, Manifest, article_key, encode_tokens

_PART_CHARS = 4_000_000  # a lexicon part: well under a Chroma server's request limit
_BATCH_BYTES = 8_000_000  # records written per request, by size


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
        self.store.put_state([f"generation:{generation}"],
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
                               embeddings=[PLACEHOLDER] * len(batch), documents=[a.text for a in batch],
                               metadatas=[{"article": a.doc_id, "added": self.generation} for a in batch])

    def commit(self, manifest: Manifest, lexicon: Lexicon, replaces: Manifest | None) -> None:
        """Write the lexicon and manifest, then point `live` at this generation: one step. The
        `live` record names the generation it `replaces` until `collect_garbage` has run, so that
        an ingest killed between the two has its collection finished by the next one."""
        data = base64.b64encode(lexicon.to_bytes()).decode("ascii")
        parts = [data[i:i + _PART_CHARS] for i in range(0, len(data), _PART_CHARS)] or [""]
        manifest.lexicon_parts = len(parts)
        for i, part in enumerate(parts):
            self.store.put_state([f"lexicon:{self.generation}:{i}"],
                                 [{"kind": "lexicon", "generation": self.generation, "data": part}])
        self.store.put_state([f"generation:{self.generation}"],
                             [{"kind": "generation", "generation": self.generation, "epoch": self.epoch,
                               "status": "done", "manifest": manifest.to_json()}])
        self.store.put_state([LIVE], [{"kind": "live", "generation": self.generation,
                                       "collect": replaces.generation if replaces is not None else ""}])


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
    # Done: no ingest needs to collect for `live` again.
    store.put_state([LIVE], [{"kind": "live", "generation": live.generation, "collect": ""}])


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
