"""Ingest: read articles, chunk, embed what is new, and swap in a new index generation.

Incremental by content: an unchanged file (same bytes, same model and chunking) is not extracted,
chunked or embedded again: its text, chunks, sentences and lexicon share come from the live
generation. A changed file is chunked again and only chunks and sentences with new content-hash
ids are embedded; a file that disappeared is dropped. Nothing changed means nothing is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..config import Settings
from ..errors import IndexMismatchError, StoreUnavailableError, UserInputError
from ..packages import missing_import, require_installed
from ..store.chroma import Store, remove_damaged, remove_older_format, where
from ..store.embeddings import Embedder, embed_by_length, ensure_export, load_ingest_embedder
from ..store.lexicon import Lexicon, Row, build_lexicon
from ..store.records import FileEntry, Manifest, article_key
from ..store.writer import IndexWriter, collect_garbage, sweep_killed, writer_lock
from ..text.terms import terms
from ..types import Article, Chunk
from .articles import discover, read_articles
from .chunking import CHUNKER_VERSION, chunk_article, chunk_sentences, content_id, embedding_text
from .progress import Progress


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
    faq_units: dict[str, int] = field(default_factory=dict)  # FAQ units per article that has any

    def summary(self) -> str:
        skipped = f", {len(self.skipped)} skipped" if self.skipped else ""
        return (
            f"Indexed {_counted(self.files, 'file')} ({self.changed} new or changed, {self.removed_files} removed"
            f"{skipped}): {_counted(self.chunks_added, 'chunk')} added, {self.chunks_removed} removed, "
            f"{self.chunks_kept} kept in {self.seconds:.1f} s."
        )

    def faq_summary(self, listed: int = 6) -> str:
        """One line a site owner reads to see whether their FAQ was understood: the units found per page."""
        if not self.faq_units:
            return f"FAQ units: none found in the {_counted(self.files, 'file')}."
        pages = sorted(self.faq_units.items(), key=lambda item: (-item[1], item[0]))
        shown = ", ".join(f"{count} in {doc_id}" for doc_id, count in pages[:listed])
        more = f", {sum(c for _, c in pages[listed:])} in {len(pages) - listed} more" if len(pages) > listed else ""
        others = self.files - len(pages)
        rest = {0: "", 1: "; none in the other file"}.get(others, f"; none in the other {others} files")
        return f"FAQ units: {sum(self.faq_units.values())} ({shown}{more}){rest}."


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def ingest(
    settings: Settings,
    rebuild: bool = False,
    warn: Callable[[str], None] = lambda message: None,
    progress: bool = False,
) -> IngestReport:
    require_installed("ingest")  # before the index is touched: a half-installed machine changes nothing
    try:
        return _ingest(settings, rebuild, warn, progress)
    except ImportError as exc:  # a package a declared one needs; the live generation is still the old one
        raise missing_import("ingest", exc) from None
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

    meter = Progress(enabled=progress)
    # Before the lock makes the index folder: a first ingest that cannot start leaves nothing behind.
    no_articles = UserInputError(f"No readable articles in {', '.join(map(str, settings.corpus))}: "
                                 "give files or folders of .txt, .md or .html articles.")
    for path in settings.corpus:
        if not path.exists():
            raise UserInputError(f"{path} does not exist: give a file or folder of articles.")
    first = not settings.chroma_host and not settings.index_dir.exists()
    if first and not discover(settings.corpus, include=settings.include, exclude=settings.exclude):
        raise no_articles
    with writer_lock(settings.index_dir):
        store = _open_store(settings, rebuild, warn)
        old, previous = _previous(store, settings, rebuild, warn)
        sweep_killed(store)
        if old is not None and previous is not None and (replaced := store.uncollected()) is not None:
            # the ingest that made `old` live was killed before collecting
            collect_garbage(store, old, replaced, _used(old, previous))
        stored = _stored_articles(store, old)
        found = read_articles(settings.corpus, skipped, settings.include, settings.exclude,
                              known=lambda doc_id, sha256: stored.get((doc_id, sha256)), progress=meter)
        articles = _merge(found, old, stored, settings.corpus)
        if not articles:
            raise no_articles
        kept_docs = _unchanged(articles, old)
        report.files = len(articles)
        report.changed = len(articles) - len(kept_docs)
        report.removed_files = len(set(old.files) - {a.doc_id for a in articles}) if old else 0
        if old and previous is not None and previous.contrasts is not None \
                and report.changed == 0 and report.removed_files == 0:
            report.chunks_kept = sum(len(e.chunk_ids) for e in old.files.values())
            report.generation = old.generation
            report.faq_units = _faq_units(previous)
        else:
            _write_generation(settings, store, articles, old, previous, kept_docs, stored, report, meter, warn)
        if not settings.chroma_host:
            remove_older_format(settings.index_dir)
    report.seconds = time.perf_counter() - started
    return report


def _open_store(settings: Settings, rebuild: bool, warn: Callable[[str], None]) -> Store:
    """The store to write; with `rebuild`, an embedded store too damaged to open is replaced."""
    try:
        return Store.open(settings, create=True)
    except (IndexMismatchError, StoreUnavailableError):
        if not rebuild or settings.chroma_host:
            raise
    warn(f"The index in {where(settings)} could not be opened: replacing it with a new one.")
    remove_damaged(settings)
    return Store.open(settings, create=True)


def _export_query_model(settings: Settings, warn: Callable[[str], None]) -> None:
    """Export the model to ONNX, once per machine, so that questions are embedded without torch."""
    if why := ensure_export(settings.model):
        warn(f"No ONNX export of {settings.model} ({why}): questions will use the model itself.")


def chunking_settings(settings: Settings) -> dict[str, int]:
    return {"chunk_chars": settings.chunk_chars, "overlap_sentences": settings.chunk_overlap_sentences,
            "chunker_version": CHUNKER_VERSION}


def _previous(store: Store, settings: Settings, rebuild: bool, warn: Callable[[str], None]
              ) -> tuple[Manifest, Lexicon] | tuple[None, None]:
    """The live manifest and lexicon to build on, or None to start a new epoch from scratch."""
    if rebuild:
        return None, None
    try:
        old = store.live()
        if old is None:
            return None, None
        lexicon = store.lexicon(old)
    except IndexMismatchError:
        warn(f"The index in {where(settings)} is damaged or from an older version: rebuilding it.")
        return None, None
    if old.model != settings.model or old.chunking != chunking_settings(settings):
        warn(f"The index in {where(settings)} was built with other settings (model {old.model}, "
             f"chunking {old.chunking}): rebuilding it with model {settings.model}.")
        return None, None
    return old, lexicon


def _stored_articles(store: Store, old: Manifest | None) -> dict[tuple[str, str], Article]:
    """The live generation's articles as stored, by (id, sha256 of the file): an unchanged file is
    not read for its text again (extracting HTML is most of an unchanged page's cost)."""
    if old is None:
        return {}
    keys = {article_key(doc_id, e.sha256): doc_id for doc_id, e in old.files.items()}
    texts = store.texts(old.epoch, list(keys))
    return {(d, old.files[d].sha256): Article(d, old.files[d].path, old.files[d].title, texts[key], old.files[d].sha256)
            for key, d in keys.items() if key in texts}


def _merge(found: list[Article], old: Manifest | None, stored: dict[tuple[str, str], Article],
           corpus: tuple[Path, ...]) -> list[Article]:
    """The articles of the new generation: those found now, plus earlier ones outside the scanned
    paths whose files still exist (so `ingest extra.md` adds to the index instead of replacing it)."""
    if old is None:
        return found
    found_ids = {a.doc_id for a in found}
    scanned = [p.resolve() for p in corpus]
    carried = [
        doc_id for doc_id, entry in old.files.items()
        if doc_id not in found_ids and Path(entry.path).exists()
        and not any(Path(entry.path) == p or p in Path(entry.path).parents for p in scanned)
    ]
    return found + [stored[(d, old.files[d].sha256)] for d in carried if (d, old.files[d].sha256) in stored]


def _unchanged(articles: list[Article], old: Manifest | None) -> set[str]:
    if old is None:
        return set()
    return {a.doc_id for a in articles if a.doc_id in old.files and old.files[a.doc_id].sha256 == a.sha256}


def _write_generation(settings: Settings, store: Store, articles: list[Article], old: Manifest | None,
                      previous: Lexicon | None, kept_docs: set[str], stored: dict[tuple[str, str], Article],
                      report: IngestReport, progress: Progress, warn: Callable[[str], None]) -> None:
    """Chunk the new and changed articles and embed and write only the chunks and sentences the
    epoch does not hold yet, in batches; take the unchanged ones from the live generation as they
    are (not even chunked again); then swap the new generation in."""
    _export_query_model(settings, warn)
    embedder = load_ingest_embedder(settings.model,
                                    sum(len(a.text) for a in articles if a.doc_id not in kept_docs))
    generation = time.strftime("g%Y%m%d%H%M%S") + f"{time.time_ns() % 1_000_000:06d}"
    epoch = old.epoch if old else generation
    writer = IndexWriter(store, generation, epoch, embedder.dimension)
    manifest = Manifest(model=settings.model, dimension=embedder.dimension, chunking=chunking_settings(settings),
                        generation=generation, epoch=epoch)
    fresh = _add_articles(settings, writer, embedder, articles, old, kept_docs, manifest, progress)
    lexicon = build_lexicon(articles, fresh, previous, _dropped(settings, old, kept_docs, stored))
    report.faq_units = _faq_units(lexicon)
    used = _used(manifest, lexicon)
    if old is not None:
        gone = [d for d in old.files if d not in kept_docs]  # changed or removed
        manifest.retired = {kind: sorted(writer.ids_of(kind, gone) - used[kind]) for kind in used}
    old_ids = {i for e in old.files.values() for i in e.chunk_ids} if old else set()
    report.chunks_kept = len(used["chunks"] & old_ids)
    report.chunks_added = len(used["chunks"] - old_ids)
    report.chunks_removed = len(old_ids - used["chunks"])
    writer.commit(manifest, lexicon, replaces=old)
    collect_garbage(store, manifest, old, used)
    report.generation = generation


def _used(manifest: Manifest, lexicon: Lexicon) -> dict[str, set[str]]:
    """The records of each kind a generation uses."""
    return {"chunks": {i for e in manifest.files.values() for i in e.chunk_ids},
            "sentences": set(lexicon.sentence_ids),
            "articles": {article_key(doc_id, e.sha256) for doc_id, e in manifest.files.items()}}


def _add_articles(settings: Settings, writer: IndexWriter, embedder: Embedder, articles: list[Article],
                  old: Manifest | None, kept_docs: set[str], manifest: Manifest, progress: Progress
                  ) -> dict[str, tuple[list[Chunk], list[Row]]]:
    """Chunk the new and changed articles, embed and write what the epoch lacks, and list every
    article in the manifest; the chunks and sentences of the fresh ones, for the lexicon."""
    fresh: dict[str, tuple[list[Chunk], list[Row]]] = {}
    for article in articles:  # cut first, so the owner sees how many chunks there are to embed
        if old is not None and article.doc_id in kept_docs:
            manifest.files[article.doc_id] = replace(old.files[article.doc_id], path=article.path)
            continue
        chunks = chunk_article(article, settings)
        spans = sorted({span for c in chunks for span in chunk_sentences(c, article.text)})
        fresh[article.doc_id] = (chunks, [(sentence_id(article, s, e, quotable), s, e, quotable)
                                          for s, e, quotable in spans])
        manifest.files[article.doc_id] = FileEntry(path=article.path, sha256=article.sha256, title=article.title,
                                                   chunk_ids=[c.id for c in chunks])
    progress.begin("Embedding chunks", sum(len(chunks) for chunks, _ in fresh.values()), "chunks")
    with _Batch(writer, embedder) as batch:
        for article in (a for a in articles if a.doc_id in fresh):
            chunks, sentences = fresh[article.doc_id]
            have_chunks = writer.existing("chunks", [c.id for c in chunks])
            have_sentences = writer.existing("sentences", [i for i, *_ in sentences])
            batch.chunks.extend(c for c in chunks if c.id not in have_chunks)
            batch.sentences.extend((i, article.doc_id, article.text[s:e], quotable) for i, s, e, quotable in sentences
                                   if i not in have_sentences)
            batch.articles.append(article)
            batch.flush_when_full()
            progress.advance(len(chunks))
        batch.finish()
    progress.end()
    return fresh


def sentence_id(article: Article, start: int, end: int, quotable: bool) -> str:
    """A sentence's record id. Only a sentence that may be quoted keeps its token vectors (the
    answerer aligns a question's words with them; nothing reads the others'), so one that may not
    has an id of its own: a sentence whose quotability changes is embedded again, never read
    without the tokens it needs."""
    text = article.text[start:end]
    return content_id(article.doc_id, start, end, text) if quotable \
        else content_id(article.doc_id, start, end, text, "not quotable")


def _dropped(settings: Settings, old: Manifest | None, kept_docs: set[str],
             stored: dict[tuple[str, str], Article]) -> list[Chunk]:
    """The live generation's chunks of the articles that changed or went (cut again from their stored text)."""
    if old is None:
        return []
    dropped = []
    for doc_id, entry in old.files.items():
        if doc_id in kept_docs:
            continue
        if (doc_id, entry.sha256) not in stored:
            raise IndexMismatchError(f"The index at {where(settings)} is missing the text of {doc_id}: "
                                     "run `assistant ingest --rebuild`.")
        dropped.extend(chunk_article(stored[(doc_id, entry.sha256)], settings))
    return dropped


class _Batch:
    """Chunks, sentences and articles waiting to be embedded and written: flushed every few
    hundred texts, so memory stays bounded whatever the corpus. A batch is written to the store by
    a thread of its own while the next one is embedded (one write at a time, in order)."""

    size = 512

    def __init__(self, writer: IndexWriter, embedder: Embedder):
        self.writer = writer
        self.embedder = embedder
        self.chunks: list[Chunk] = []
        self.sentences: list[tuple[str, str, str, bool]] = []  # (id, doc_id, text, quotable)
        self.articles: list[Article] = []
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="ingest-writer")
        self._writing: Future[None] | None = None

    def flush_when_full(self) -> None:
        if len(self.chunks) + len(self.sentences) >= self.size:
            self.flush()

    def flush(self) -> None:
        chunks, sentences, articles = self.chunks, self.sentences, self.articles
        self.chunks, self.sentences, self.articles = [], [], []
        chunk_vectors = _chunk_vectors(self.embedder, chunks)
        vectors, tokens = _sentence_vectors(self.embedder, sentences)
        self.wait()  # the previous batch's write, and any error it raised
        self._writing = self._pool.submit(self._write, chunks, chunk_vectors, sentences, vectors, tokens, articles)

    def wait(self) -> None:
        """Wait for the batch being written; its error, if any, is raised here."""
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def finish(self) -> None:
        """Flush what is left and wait until it is written."""
        self.flush()
        self.wait()

    def __enter__(self) -> _Batch:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)  # a write under way ends before ingest does

    def _write(self, chunks: list[Chunk], chunk_vectors: np.ndarray, sentences: list[tuple[str, str, str, bool]],
               vectors: np.ndarray, tokens: list[np.ndarray], articles: list[Article]) -> None:
        if chunks:
            self.writer.add_chunks(chunks, chunk_vectors)
        if sentences:
            texts = [text for _, _, text, _ in sentences]
            self.writer.add_sentences([i for i, *_ in sentences], [d for _, d, _, _ in sentences], texts,
                                      [terms(t) for t in texts], vectors, tokens)
        if articles:
            self.writer.add_articles(articles)


def _chunk_vectors(embedder: Embedder, chunks: list[Chunk]) -> np.ndarray:
    return embed_by_length(embedder, [embedding_text(c) for c in chunks])[0]


def _sentence_vectors(embedder: Embedder, sentences: list[tuple[str, str, str, bool]]
                        ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each sentence's vector, and its token vectors if it may be quoted (else none: 0 rows)."""
    quotable = [i for i, (*_, q) in enumerate(sentences) if q]
    others = [i for i, (*_, q) in enumerate(sentences) if not q]
    vectors = np.zeros((len(sentences), embedder.dimension), dtype=np.float32)
    tokens = [np.zeros((0, embedder.dimension), dtype=np.float32)] * len(sentences)
    if quotable:
        vectors[quotable], found = embed_by_length(embedder, [sentences[i][2] for i in quotable], tokens=True)
        for i, t in zip(quotable, found, strict=True):
            tokens[i] = t.vectors
    if others:
        vectors[others] = embed_by_length(embedder, [sentences[i][2] for i in others])[0]
    return vectors, tokens


def _faq_units(lexicon: Lexicon) -> dict[str, int]:
    counts = np.bincount(lexicon.chunk_doc[lexicon.chunk_faq], minlength=len(lexicon.doc_ids))
    return {lexicon.doc_ids[d]: int(n) for d, n in enumerate(counts) if n}
