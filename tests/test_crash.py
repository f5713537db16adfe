"""A crash-safe index, proven: `assistant ingest` (rebuilds and incremental runs, the corpus edited
between them) killed with SIGKILL at random moments, ten times in the embedded store and ten times
against a real `chroma run`, while a real `assistant serve` answers from the same index. After each
kill the server still answers with citations; after the last, one ingest ends with exactly the
chunks a clean build of the same files has, and nothing else is left: no generation still being
written, no record no generation uses, no other collection, no stray folder."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from webserver import running_server

from assistant.config import Settings
from assistant.ingest.pipeline import ingest
from assistant.store.chroma import Store
from assistant.store.records import article_key

pytestmark = pytest.mark.server

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
KILLS = 10  # per store mode, at least
MID_WRITE = 3  # of them killed while writing a generation, at least
EXTRA = ("# Gliders of round {n}\n\nThe gliders of round {n} are built in Lyon by a team of {n} people. "
         "Their wings are made of carbon fibre and flax.\n\nEach glider flies for {n} hours before its first "
         "inspection.\n")


def edit(corpus: Path, n: int) -> None:
    """Change the corpus so that the next ingest has work: add, change or remove an article."""
    extra = corpus / "extra.md"
    if n % 3 == 2:
        extra.unlink(missing_ok=True)
    elif n % 3 == 1:
        seed = sorted(corpus.glob("*.txt"))[n % 2]
        seed.write_text(seed.read_text(encoding="utf-8") + f"\nA note added in round {n}.\n", encoding="utf-8")
    else:
        extra.write_text(EXTRA.format(n=n), encoding="utf-8")


def kill_rounds(corpus: Path, index: Path, env: dict[str, str], server: str, seconds: float) -> int:
    """At least KILLS ingests, each killed after a random time up to `seconds`, going on (up to
    3 × KILLS) until MID_WRITE of them were killed while writing a generation (on a loaded machine
    more die before writing anything); returns how many were killed while writing."""
    chance = random.Random(11)
    mid_write = 0
    for n in range(3 * KILLS):
        if n >= KILLS and mid_write >= MID_WRITE:
            break
        edit(corpus, n)
        command = [sys.executable, "-m", "assistant.cli", "ingest", str(corpus), "--index", str(index)]
        proc = subprocess.Popen([*command, *(["--rebuild"] if n % 2 == 0 else [])], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(chance.uniform(0.3 * seconds, seconds))
        proc.kill()
        proc.wait()
        settings = Settings.load(environ=env, overrides={"index_dir": index})
        store = Store.open(settings, create=False, fresh=True)
        mid_write += any(m["status"] == "writing" for m in store.generations().values())
        answer = httpx.post(f"{server}/api/ask", json={"question": "Where is AMI Labs based?"}, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.json()["citations"] and not answer.json()["refused"]
    return mid_write


def timed_ingest(corpus: Path, index: Path, env: dict[str, str], *extra: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(corpus), "--index", str(index), *extra],
                   env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def assert_exactly_a_clean_build(corpus: Path, settings: Settings, tmp_path: Path) -> None:
    clean = Settings.load(environ={}, overrides={"index_dir": tmp_path / "clean", "corpus": (corpus,)})
    ingest(clean)
    expected = {i for e in Store.open(clean, create=False).live().files.values() for i in e.chunk_ids}  # type: ignore[union-attr]

    store = Store.open(settings, create=False, fresh=True)
    manifest = store.live()
    assert manifest is not None
    live_chunks = {i for e in manifest.files.values() for i in e.chunk_ids}
    assert live_chunks == expected
    generations = store.generations()
    assert all(m["status"] == "done" for m in generations.values()), generations
    # The live generation and the one before it (kept for readers that still have it open) use
    # every record; anything else would be an orphan, a killed ingest's leftover among them.
    kept = [m for m in (store.manifest(g) for g in generations) if m.epoch == manifest.epoch]
    used = {"chunks": {i for m in kept for e in m.files.values() for i in e.chunk_ids},
            "sentences": {i for m in kept for i in store.lexicon(m).sentence_ids},
            "articles": {article_key(d, e.sha256) for m in kept for d, e in m.files.items()}}
    for kind, ids in used.items():
        stored = set(store.collection(manifest.epoch, kind).get(include=[])["ids"])
        assert stored <= ids, f"{len(stored - ids)} {kind} records no generation uses"
    epochs = {store.manifest(g).epoch for g in generations}
    names = {c if isinstance(c, str) else c.name for c in store.client.list_collections()}
    assert names == {f"{settings.collection}_state"} | {f"{settings.collection}_{epoch}_{kind}" for epoch in epochs
                                                        for kind in ("chunks", "sentences", "articles")}


def assert_no_stray_folders(index: Path) -> None:
    """The embedded index holds its lock file and Chroma's folder, in which each folder is a
    segment of a collection that exists."""
    assert sorted(p.name for p in index.iterdir()) == [".ingest.lock", "chroma"]
    with sqlite3.connect(f"file:{index / 'chroma' / 'chroma.sqlite3'}?mode=ro", uri=True) as db:
        segments = {row[0] for row in db.execute("SELECT id FROM segments")}
    folders = {p.name for p in (index / "chroma").iterdir() if p.is_dir()}
    assert folders <= segments, folders - segments


def test_killed_ingests_in_the_embedded_store(tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(SEEDS, corpus)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ASSISTANT_RATE_LIMIT_PER_MINUTE": "1000"}
    seconds = timed_ingest(corpus, index, env, "--rebuild")
    with running_server(index, env=env) as server:
        assert kill_rounds(corpus, index, env, server, seconds) >= MID_WRITE
        timed_ingest(corpus, index, env)
        assert httpx.post(f"{server}/api/ask", json={"question": "Where is AMI Labs based?"},
                          timeout=60).status_code == 200
    settings = Settings.load(environ={}, overrides={"index_dir": index})
    assert_exactly_a_clean_build(corpus, settings, tmp_path)
    assert_no_stray_folders(index)


def test_killed_ingests_against_a_chroma_server(tmp_path: Path, chroma_server: int) -> None:
    corpus, index, reader = tmp_path / "corpus", tmp_path / "index", tmp_path / "reader"
    shutil.copytree(SEEDS, corpus)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ASSISTANT_RATE_LIMIT_PER_MINUTE": "1000",
           "ASSISTANT_CHROMA_HOST": "127.0.0.1", "ASSISTANT_CHROMA_PORT": str(chroma_server)}
    seconds = timed_ingest(corpus, index, env, "--rebuild")
    with running_server(reader, env=env) as server:
        assert kill_rounds(corpus, index, env, server, seconds) >= MID_WRITE
        timed_ingest(corpus, index, env)
    settings = Settings.load(environ={}, overrides={"index_dir": index, "chroma_host": "127.0.0.1",
                                                    "chroma_port": chroma_server})
    assert_exactly_a_clean_build(corpus, settings, tmp_path)
    assert sorted(p.name for p in index.iterdir()) == [".ingest.lock"]  # nothing of the index is local
