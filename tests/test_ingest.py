"""Incremental ingest against a real embedded Chroma and the real packaged model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.engine import Assistant
from assistant.errors import IndexMismatchError, IndexMissingError, StoreUnavailableError, UserInputError
from assistant.ingest import ingest
from assistant.store import chroma_client, read_manifest

ARTICLE_A = "Alpha article.\n\nThe alpha team builds gliders in Lyon. Gliders need no engines at all.\n"
ARTICLE_B = "Beta article.\n\nThe beta team grows tomatoes in Porto. Tomatoes need sun and water.\n"


def settings_for(tmp_path: Path, corpus: Path, **extra: object) -> Settings:
    return Settings.load(overrides={"index_dir": tmp_path / "index", "corpus": (corpus,), **extra}, environ={})


def stored_ids(settings: Settings) -> list[str]:
    manifest = read_manifest(settings.index_dir)
    assert manifest is not None
    collection = chroma_client(settings).get_collection(manifest.collection, embedding_function=None)
    return collection.get()["ids"]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "alpha.txt").write_text(ARTICLE_A, encoding="utf-8")
    (folder / "beta.md").write_text(ARTICLE_B, encoding="utf-8")
    return folder


def test_add_change_delete_and_rerun_never_duplicates(tmp_path: Path, corpus: Path) -> None:
    settings = settings_for(tmp_path, corpus)
    first = ingest(settings)
    assert (first.files, first.changed, first.chunks_kept) == (2, 2, 0)
    ids = stored_ids(settings)
    assert len(ids) == len(set(ids)) == first.chunks_added

    again = ingest(settings)
    assert (again.changed, again.chunks_added, again.chunks_removed) == (0, 0, 0)
    assert again.generation == first.generation  # nothing written at all
    assert sorted(stored_ids(settings)) == sorted(ids)

    (corpus / "alpha.txt").write_text(ARTICLE_A.replace("Lyon", "Nantes"), encoding="utf-8")
    (corpus / "gamma.txt").write_text("Gamma article.\n\nGamma studies owls at night.\n", encoding="utf-8")
    changed = ingest(settings)
    assert (changed.files, changed.changed, changed.removed_files) == (3, 2, 0)
    assert changed.chunks_removed >= 1 and changed.chunks_kept >= 1
    after_change = stored_ids(settings)
    assert len(after_change) == len(set(after_change))

    (corpus / "beta.md").unlink()
    removed = ingest(settings)
    assert (removed.files, removed.removed_files) == (2, 1)
    manifest = read_manifest(settings.index_dir)
    assert manifest is not None and set(manifest.files) == {"alpha", "gamma"}
    assert len(stored_ids(settings)) == sum(len(e.chunk_ids) for e in manifest.files.values())

    answer = Assistant.open(settings).ask("Where does the alpha team build gliders?")
    assert "Nantes" in answer.answer and "Lyon" not in answer.answer


def test_ingesting_an_extra_file_adds_to_the_index(tmp_path: Path, corpus: Path) -> None:
    ingest(settings_for(tmp_path, corpus))
    extra = tmp_path / "extra.txt"
    extra.write_text("Extra article.\n\nThe extra page is about kites.\n", encoding="utf-8")
    report = ingest(settings_for(tmp_path, extra))
    assert report.files == 3
    manifest = read_manifest(tmp_path / "index")
    assert manifest is not None and set(manifest.files) == {"alpha", "beta", "extra"}


def test_model_change_rebuilds_and_questions_refuse_a_mismatched_index(tmp_path: Path, corpus: Path) -> None:
    settings = settings_for(tmp_path, corpus)
    ingest(settings)
    manifest_path = settings.index_dir / "manifest.json"
    data = json.loads(manifest_path.read_text())
    data["model"] = "some-other-model"
    manifest_path.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="some-other-model"):
        Assistant.open(settings)
    warnings: list[str] = []
    report = ingest(settings, warn=warnings.append)
    assert report.changed == 2 and any("rebuilding" in w for w in warnings)
    Assistant.open(settings)


def test_an_index_of_an_older_format_is_rebuilt_by_the_next_ingest(tmp_path: Path, corpus: Path) -> None:
    settings = settings_for(tmp_path, corpus)
    ingest(settings)
    manifest_path = settings.index_dir / "manifest.json"
    data = json.loads(manifest_path.read_text())
    data["format"] = 1  # before sentence token vectors were stored
    manifest_path.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="run `assistant ingest --rebuild`"):
        Assistant.open(settings)
    report = ingest(settings)
    assert report.changed == 2 and report.chunks_kept == 0
    generation = Assistant.open(settings).index
    assert generation.sentence_tokens(0).shape[1] == 384  # every sentence's token vectors, stored


def test_missing_damaged_and_empty_inputs_give_clear_errors(tmp_path: Path, corpus: Path) -> None:
    settings = settings_for(tmp_path, corpus)
    with pytest.raises(IndexMissingError, match="assistant ingest"):
        Assistant.open(settings)
    with pytest.raises(UserInputError, match="does not exist"):
        ingest(settings_for(tmp_path, tmp_path / "nowhere"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserInputError, match="No readable articles"):
        ingest(settings_for(tmp_path, empty))
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    (settings.index_dir / "manifest.json").write_text("{not json")
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        Assistant.open(settings)
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        ingest(settings)
    assert ingest(settings, rebuild=True).files == 2


KILL_SCRIPT = """
import sys, time
from pathlib import Path
import assistant.store as store
from assistant.config import Settings
from assistant.ingest import ingest
original = store.IndexWriter.add_chunks
def slow_add(self, chunks, vectors):
    original(self, chunks, vectors)
    print("ADDED", flush=True)
    time.sleep(30)
store.IndexWriter.add_chunks = slow_add
ingest(Settings.load(overrides={"index_dir": sys.argv[1], "corpus": (sys.argv[2],)}, environ={}))
"""


def test_a_killed_ingest_leaves_the_previous_index_usable(tmp_path: Path, corpus: Path) -> None:
    settings = settings_for(tmp_path, corpus)
    ingest(settings)
    before = read_manifest(settings.index_dir)
    (corpus / "alpha.txt").write_text(ARTICLE_A.replace("Lyon", "Nantes"), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(settings.index_dir), str(corpus)],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while proc.stdout.readline().strip() != "ADDED":  # killed mid-write, after Chroma has new rows
        assert time.monotonic() < deadline and proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    after = read_manifest(settings.index_dir)
    assert after is not None and before is not None and after.generation == before.generation
    answer = Assistant.open(settings).ask("Where does the alpha team build gliders?")
    assert "Lyon" in answer.answer

    report = ingest(settings)
    assert report.changed == 1
    assert "Nantes" in Assistant.open(settings).ask("Where does the alpha team build gliders?").answer
    manifest = read_manifest(settings.index_dir)
    assert manifest is not None
    leftovers = [p.name for p in (settings.index_dir / "gen").iterdir()]
    assert sorted(leftovers) == sorted({manifest.generation, before.generation})


def test_an_open_assistant_follows_an_ingest_run_by_another_process(tmp_path: Path, corpus: Path) -> None:
    settings = settings_for(tmp_path, corpus)
    ingest(settings)
    assistant = Assistant.open(settings)
    assert "Lyon" in assistant.ask("Where does the alpha team build gliders?").answer
    for city in ("Nantes", "Brest"):  # two swaps: the first generation is gone by the second
        (corpus / "alpha.txt").write_text(ARTICLE_A.replace("Lyon", city), encoding="utf-8")
        subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(corpus), "--index",
                        str(settings.index_dir)], check=True, capture_output=True,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"})
        assert city in assistant.ask("Where does the alpha team build gliders?").answer


def test_an_unwritable_index_folder_is_one_clear_error(tmp_path: Path, corpus: Path) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    settings = Settings.load(overrides={"index_dir": blocker / "index", "corpus": (corpus,)}, environ={})
    with pytest.raises(StoreUnavailableError, match="Cannot write the index"):
        ingest(settings)
