"""Ingest: read articles, chunk, embed what is new, and swap in a new index generation.

Incremental by content: an unchanged file (same hash, same model and chunking) keeps its chunks
and vectors; a changed file is chunked again and only chunks with new content-hash ids are
embedded; a file that disappeared is dropped. Nothing changed means nothing is written.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .articles import read_articles
from .chunking import chunk_article, chunk_sentences, embedding_text
from .config import Settings
from .embeddings import Embedder, ensure_export, load_embedder
from .errors import IndexMismatchError, StoreUnavailableError, UserInputError
from .store import (
    FileEntry,
    Generation,
    IndexWriter,
    Manifest,
    chunking_settings,
    read_generation,
    read_manifest,
    writer_lock,
)
from .types import Article, Chunk

_PROGRESS_MIN_FILES = 5


@dataclass
class IngestReport:
    files: int = 0
    changed: int = 0
    removed_files: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_kept: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)
    generation: str = ""

    def summary(self) -> str:
        skipped = f", {len(self.skipped)} skipped" if self.skipped else ""
        return (
            f"Indexed {self.files} files ({self.changed} new or changed, {self.removed_files} removed{skipped}): "
            f"{self.chunks_added} chunks added, {self.chunks_removed} removed, {self.chunks_kept} kept "
            f"in {self.seconds:.1f} s."
        )


def ingest(
    settings: Settings,
    rebuild: bool = False,
    warn: Callable[[str], None] = lambda message: None,
    progress: bool = False,
) -> IngestReport:
    try:
        return _ingest(settings, rebuild, warn, progress)
    except OSError as exc:
        raise StoreUnavailableError(
            f"Cannot write the index at {settings.index_dir} ({exc.strerror or exc}): "
            "check the folder's permissions and free space, or pick another with --index."
        ) from None


def _ingest(settings: Settings, rebuild: bool, warn: Callable[[str], None], progress: bool) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()

    def skipped(message: str) -> None:
        report.skipped.append(message)
        warn(message)

    with writer_lock(settings.index_dir):
        old = _previous(settings, rebuild, warn)
        found = read_articles(settings.corpus, skipped, settings.include, settings.exclude)
        old_generation = read_generation(settings.index_dir, old.generation) if old else None
        articles = _merge(found, old, old_generation, settings.corpus)
        if not articles:
            raise UserInputError(
                f"No readable articles in {', '.join(map(str, settings.corpus))}: "
                "give files or folders of .txt, .md or .html articles."
            )
        kept_docs = _unchanged(articles, old)
        report.files = len(articles)
        report.changed = len(articles) - len(kept_docs)
        report.removed_files = len(set(old.files) - {a.doc_id for a in articles}) if old else 0
        if old and report.changed == 0 and report.removed_files == 0:
            report.chunks_kept = sum(len(e.chunk_ids) for e in old.files.values())
            report.generation = old.generation
        else:
            _write_generation(settings, articles, old, old_generation, kept_docs, report, progress)
        _export_query_model(settings, warn)
    report.seconds = time.perf_counter() - started
    return report


def _export_query_model(settings: Settings, warn: Callable[[str], None]) -> None:
    """Export the model to ONNX, once per machine, so that questions are embedded without torch."""
    if why := ensure_export(settings.model):
        warn(f"No ONNX export of {settings.model} ({why}): questions will use the model itself.")


def _previous(settings: Settings, rebuild: bool, warn: Callable[[str], None]) -> Manifest | None:
    """The live manifest to build on, or None to start from scratch."""
    if rebuild:
        return None
    try:
        old = read_manifest(settings.index_dir, any_format=True)
    except IndexMismatchError as exc:
        raise IndexMismatchError(f"{exc} (or delete the folder)") from None
    if old and (old.model != settings.model or old.chunking != chunking_settings(settings)):
        warn(f"The index in {settings.index_dir} was built with other settings (model {old.model}, "
             f"chunking {old.chunking}): rebuilding it with model {settings.model}.")
        return None
    return old


def _merge(found: list[Article], old: Manifest | None, old_generation: Generation | None,
           corpus: tuple[Path, ...]) -> list[Article]:
    """The articles of the new generation: those found now, plus earlier ones outside the scanned
    paths whose files still exist (so `ingest extra.md` adds to the index instead of replacing it)."""
    if old is None or old_generation is None:
        return found
    found_ids = {a.doc_id for a in found}
    scanned = [p.resolve() for p in corpus]
    carried = [
        doc_id for doc_id, entry in old.files.items()
        if doc_id not in found_ids and Path(entry.path).exists()
        and not any(Path(entry.path) == p or p in Path(entry.path).parents for p in scanned)
    ]
    if not carried:
        return found
    previous = {a.doc_id: a for a in old_generation.articles}
    return found + [previous[d] for d in carried if d in previous]


def _unchanged(articles: list[Article], old: Manifest | None) -> set[str]:
    if old is None:
        return set()
    return {a.doc_id for a in articles if a.doc_id in old.files and old.files[a.doc_id].sha256 == a.sha256}


def _write_generation(settings: Settings, articles: list[Article], old: Manifest | None,
                      old_generation: Generation | None, kept_docs: set[str], report: IngestReport,
                      progress: bool) -> None:
    embedder = load_embedder(settings.model)
    generation = time.strftime("g%Y%m%d%H%M%S") + f"{time.time_ns() % 1_000_000:06d}"
    writer = IndexWriter(settings, generation, embedder)
    old_chunks = {c.id: c for c in old_generation.chunks} if old_generation else {}
    old_sentences = _sentence_vectors_by_doc(old_generation) if old_generation else {}
    manifest = Manifest(model=settings.model, dimension=embedder.dimension, chunking=chunking_settings(settings),
                        generation=generation, collection=writer.collection)
    all_chunks: list[Chunk] = []
    all_sentences: list[tuple[str, int, int, bool]] = []
    sentence_vectors: list[np.ndarray] = []
    token_vectors: list[np.ndarray] = []
    for article in _progress(articles, progress):
        if article.doc_id in kept_docs and old is not None:
            chunks = [old_chunks[i] for i in old.files[article.doc_id].chunk_ids if i in old_chunks]
        else:
            chunks = chunk_article(article, settings)
        reused = writer.stored_vectors(old.collection, [c.id for c in chunks]) if old else {}
        fresh = [c for c in chunks if c.id not in reused]
        fresh_vectors = embedder.embed([embedding_text(c) for c in fresh])
        vectors = dict(reused) | {c.id: v for c, v in zip(fresh, fresh_vectors, strict=True)}
        writer.add_chunks(chunks, np.stack([vectors[c.id] for c in chunks]) if chunks else np.zeros((0, 1)))
        known = old_sentences.get(article.doc_id) if article.doc_id in kept_docs else None
        spans, span_vectors, span_tokens = _sentences(article, chunks, embedder, known)
        all_sentences.extend((article.doc_id, s, e, quotable) for s, e, quotable in spans)
        sentence_vectors.append(span_vectors)
        token_vectors.extend(span_tokens)
        all_chunks.extend(chunks)
        manifest.files[article.doc_id] = FileEntry(path=article.path, sha256=article.sha256, title=article.title,
                                                   chunk_ids=[c.id for c in chunks])
        report.chunks_added += len(fresh)
    old_ids = {i for e in old.files.values() for i in e.chunk_ids} if old else set()
    new_ids = {c.id for c in all_chunks}
    report.chunks_kept = len(new_ids & old_ids)
    report.chunks_added = len(new_ids - old_ids)
    report.chunks_removed = len(old_ids - new_ids)
    vectors_matrix = np.concatenate(sentence_vectors) if sentence_vectors else np.zeros((0, embedder.dimension))
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in token_vectors], dtype=np.int64)]).astype(np.int64)
    tokens = np.concatenate(token_vectors) if token_vectors else np.zeros((0, embedder.dimension))
    writer.commit(manifest, Generation(all_chunks, articles, all_sentences, vectors_matrix.astype(np.float32),
                                       tokens.astype(np.float16), offsets))
    writer.remove_stale(keep={generation} | ({old.generation} if old else set()))
    report.generation = generation


def _sentence_vectors_by_doc(generation: Generation) -> dict[str, dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]]:
    """Each article's sentence vectors and token vectors by span, to reuse for an unchanged text."""
    by_doc: dict[str, dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]] = {}
    for i, ((doc_id, start, end, _), vector) in enumerate(zip(generation.sentences, generation.sentence_vectors,
                                                              strict=True)):
        by_doc.setdefault(doc_id, {})[(start, end)] = (vector, np.asarray(generation.tokens(i)))
    return by_doc


def _sentences(article: Article, chunks: list[Chunk], embedder: Embedder,
               known: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] | None
               ) -> tuple[list[tuple[int, int, bool]], np.ndarray, list[np.ndarray]]:
    """The article's sentences, their vectors and their token vectors, reusing those of an unchanged text."""
    spans = sorted({span for c in chunks for span in chunk_sentences(c, article.text)})
    known = dict(known or {})
    missing = [(s, e) for s, e, _ in spans if (s, e) not in known]
    vectors, tokens = embedder.embed_tokens([article.text[s:e] for s, e in missing])
    known.update({span: (v, t.vectors) for span, v, t in zip(missing, vectors, tokens, strict=True)})
    if not spans:
        return spans, np.zeros((0, embedder.dimension), dtype=np.float32), []
    return (spans, np.stack([known[(s, e)][0] for s, e, _ in spans]),
            [known[(s, e)][1] for s, e, _ in spans])


def _progress(articles: list[Article], enabled: bool) -> list[Article]:
    if not enabled or len(articles) <= _PROGRESS_MIN_FILES:
        return articles
    from tqdm import tqdm

    return tqdm(articles, desc="Ingesting", unit="file", file=sys.stderr)  # type: ignore[return-value]
