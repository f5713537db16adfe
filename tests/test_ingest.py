"""Incremental ingest against a real embedded Chroma and the real packaged model."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import assistant.store.lexicon as lexicon_module
from assistant.config import Settings
from assistant.engine import Assistant
from assistant.errors import IndexMismatchError, IndexMissingError, StoreUnavailableError, UserInputError
from assistant.ingest.pipeline import ingest
from assistant.store.chroma import Store
from assistant.store.records import Manifest

ARTICLE_A = "Alpha article.\n\nThe alpha team builds gliders in Lyon. Gliders need no engines at all.\n"
ARTICLE_B = "Beta article.\n\nThe beta team grows tomatoes in Porto. Tomatoes need sun and water.\n"


def settings_for(tmp_path: Path, corpus: Path, **extra: object) -> Settings:
    return Settings.load(overrides={"index_dir": tmp_path / "index", "corpus": (corpus,), **extra}, environ={})


def live(settings: Settings) -> Manifest:
    manifest = Store.open(settings, create=False).live()
    assert manifest is not None
    return manifest


def stored_ids(settings: Settings, kind: str = "chunks") -> list[str]:
    return Store.open(settings, create=False).collection(live(settings).epoch, kind).get(include=[])["ids"]


def rewrite_live(settings: Settings, **changes: object) -> None:
    """Edit the live manifest in the store, as another version or a damaged write would leave it."""
    store = Store.open(settings, create=False)
    manifest = live(settings)
    data = {**json.loads(manifest.to_json()), **changes}
    record = f"generation:{manifest.generation}"
    meta = store.state.get(ids=[record], include=["metadatas"])["metadatas"][0]
    store.state.upsert(ids=[record], embeddings=[[1.0]], metadatas=[{**meta, "manifest": json.dumps(data)}])


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
    manifest = live(settings)
    assert set(manifest.files) == {"alpha", "gamma"}
    # The store keeps the live generation and the one before (readers may still be on it); what
    # only older generations used is gone.
    previous = Store.open(settings, create=False).manifest(changed.generation)
    in_use = {i for m in (manifest, previous) for e in m.files.values() for i in e.chunk_ids}
    assert sorted(stored_ids(settings)) == sorted(in_use)
    lexicon = Assistant.open(settings).index.lexicon
    assert set(lexicon.sentence_ids) <= set(stored_ids(settings, "sentences"))
    assert len(stored_ids(settings, "sentences")) == len(set(stored_ids(settings, "sentences")))

    answer = Assistant.open(settings).ask("Where does the alpha team build gliders?")
    assert "Nantes" in answer.answer and "Lyon" not in answer.answer


def test_only_sentences_that_may_be_quoted_keep_token_vectors(tmp_path: Path, corpus: Path) -> None:
    page = corpus / "gliders.md"
    body = "The gliders of Lyon\n\nThe gliders of Lyon are built by hand. Each one flies for nine hours.\n"
    page.write_text("---\ntitle: The gliders of Lyon\n---\n" + body, encoding="utf-8")
    settings = settings_for(tmp_path, corpus)

    def tokens_by_text() -> dict[str, bool]:
        lexicon = Assistant.open(settings).index.lexicon
        ids = [i for i, d in zip(lexicon.sentence_ids, lexicon.sentence_doc, strict=True)
               if lexicon.doc_ids[d] == "gliders"]
        got = Store.open(settings, create=False).collection(live(settings).epoch, "sentences").get(
            ids=ids, include=["metadatas"])
        return {m["text"]: bool(m["tokens"]) for m in got["metadatas"]}

    ingest(settings)
    # The line that repeats the title is a headline, never quoted: no token vectors.
    assert tokens_by_text() == {"The gliders of Lyon": False, "The gliders of Lyon are built by hand.": True,
                                "Each one flies for nine hours.": True}
    page.write_text("---\ntitle: Kites of Porto\n---\n" + body, encoding="utf-8")  # the same text, a new title
    ingest(settings)
    assert tokens_by_text()["The gliders of Lyon"] is True  # quotable now: embedded again, with its tokens


def test_ingesting_an_extra_file_adds_to_the_index(tmp_path: Path, corpus: Path) -> None:
    ingest(settings_for(tmp_path, corpus))
    extra = tmp_path / "extra.txt"
    extra.write_text("Extra article.\n\nThe extra page is about kites.\n", encoding="utf-8")
    report = ingest(settings_for(tmp_path, extra))
    assert report.files == 3
    assert set(live(settings_for(tmp_path, extra)).files) == {"alpha", "beta", "extra"}


def test_model_change_rebuilds_and_questions_refuse_a_mismatched_index(tmp_path: Path, corpus: Path) -> None:
    settings = settings_for(tmp_path, corpus)
    ingest(settings)
    rewrite_live(settings, model="some-other-model")
    with pytest.raises(IndexMismatchError, match="some-other-model"):
        Assistant.open(settings)
    warnings: list[str] = []
    report = ingest(settings, warn=warnings.append)
    assert report.changed == 2 and any("rebuilding" in w for w in warnings)
    Assistant.open(settings)


def test_an_index_of_an_older_format_is_rebuilt_by_the_next_ingest(tmp_path: Path, corpus: Path) -> None:
    settings = settings_for(tmp_path, corpus)
    # Format 2 kept its manifest and a generation folder beside Chroma.
    (settings.index_dir / "gen" / "g1").mkdir(parents=True)
    (settings.index_dir / "manifest.json").write_text(json.dumps({"format": 2, "files": {}}))
    with pytest.raises(IndexMismatchError, match="older version of the assistant: run `assistant ingest --rebuild`"):
        Assistant.open(settings)
    report = ingest(settings)
    assert report.changed == 2 and report.chunks_kept == 0
    assert sorted(p.name for p in settings.index_dir.iterdir()) == [".ingest.lock", "chroma"]
    rewrite_live(settings, format=2)
    with pytest.raises(IndexMismatchError, match="older version of the assistant: run `assistant ingest --rebuild`"):
        Assistant.open(settings)
    assert ingest(settings).changed == 2


@pytest.mark.parametrize("saved_by", ["a version without contrasts", "another version of contrasts.py"])
def test_a_lexicon_saved_without_the_sites_current_contrasts_is_built_again_without_embedding(
        tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch, saved_by: str) -> None:
    (corpus / "gamma.txt").write_text("Gamma article.\n\nOwls hunt either mice or voles.\n", encoding="utf-8")
    # "either mice or voles", and the titles "Alpha article", "Beta article" and "Gamma article" are siblings
    pairs = ["alpha beta", "alpha gamma", "beta gamma", "mice vole"]
    settings = settings_for(tmp_path, corpus)
    first = ingest(settings)
    assert Assistant.open(settings).index.lexicon.contrasts == pairs
    # Rewrite the live lexicon as that version saved it.
    store = Store.open(settings, create=False)
    manifest = live(settings)
    lexicon = store.lexicon(manifest)
    with monkeypatch.context() as patched:
        if saved_by == "a version without contrasts":
            lexicon.contrasts = None
        else:
            patched.setattr(lexicon_module, "CONTRASTS_VERSION", lexicon_module.CONTRASTS_VERSION - 1)
        data = base64.b64encode(lexicon.to_bytes()).decode("ascii")
    assert len(data) < 4_000_000  # one part
    store.put_state([f"lexicon:{manifest.generation}:0"],
                    [{"kind": "lexicon", "generation": manifest.generation, "data": data}])
    assert Assistant.open(settings).index.lexicon.contrasts is None
    again = ingest(settings)
    assert again.generation != first.generation and (again.changed, again.chunks_added) == (0, 0)
    assert Assistant.open(settings).index.lexicon.contrasts == pairs
    assert ingest(settings).generation == again.generation  # and then nothing more to do


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
    ingest(settings)
    rewrite_live(settings, files="{not a manifest")
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        Assistant.open(settings)
    warnings: list[str] = []
    assert ingest(settings, warn=warnings.append).changed == 2
    assert any("damaged" in w for w in warnings)
    assert "Lyon" in Assistant.open(settings).ask("Where does the alpha team build gliders?").answer


KILL_SCRIPT = """
import sys, time
from pathlib import Path
import assistant.store.writer as store
from assistant.config import Settings
from assistant.ingest.pipeline import ingest
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
    before = live(settings)
    (corpus / "alpha.txt").write_text(ARTICLE_A.replace("Lyon", "Nantes"), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(settings.index_dir), str(corpus)],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while proc.stdout.readline().strip() != "ADDED":  # killed mid-write, after Chroma has new rows
        assert time.monotonic() < deadline and proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    store = Store.open(settings, create=False)
    assert live(settings).generation == before.generation
    killed = [g for g, meta in store.generations().items() if meta["status"] == "writing"]
    assert len(killed) == 1 and store.collection(before.epoch, "chunks").get(where={"added": killed[0]})["ids"]
    answer = Assistant.open(settings).ask("Where does the alpha team build gliders?")
    assert "Lyon" in answer.answer

    report = ingest(settings)
    assert report.changed == 1
    assert "Nantes" in Assistant.open(settings).ask("Where does the alpha team build gliders?").answer
    assert sorted(store.generations()) == sorted({live(settings).generation, before.generation})
    for kind in ("chunks", "sentences", "articles"):  # nothing the killed ingest wrote is left
        assert not store.collection(before.epoch, kind).get(where={"added": killed[0]})["ids"]


def test_an_ingest_killed_between_going_live_and_collecting_is_collected_by_the_next(
        tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(tmp_path, corpus)
    ingest(settings)
    (corpus / "alpha.txt").write_text(ARTICLE_A.replace("Lyon", "Nantes"), encoding="utf-8")
    ingest(settings)  # retires the Lyon records, to be deleted by the next ingest

    def killed(*args: object) -> None:
        raise KeyboardInterrupt  # as a kill right after `commit()` would leave it

    monkeypatch.setattr("assistant.ingest.pipeline.collect_garbage", killed)
    (corpus / "beta.md").write_text(ARTICLE_B.replace("Porto", "Braga"), encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        ingest(settings)  # live, but the Lyon records were not deleted
    monkeypatch.undo()
    assert "Braga" in Assistant.open(settings).ask("Where does the beta team grow tomatoes?").answer

    (corpus / "beta.md").write_text(ARTICLE_B.replace("Porto", "Faro"), encoding="utf-8")
    ingest(settings)
    store = Store.open(settings, create=False)
    kept = [store.manifest(g) for g in store.generations()]
    assert len(kept) == 2  # the live one and the one readers may still be on
    for kind in ("chunks", "sentences", "articles"):
        records = store.collection(kept[0].epoch, kind).get(include=["documents", "metadatas"])
        texts = " ".join(str(d) for d in records["documents"]) \
            + " ".join(str(m.get("text")) for m in records["metadatas"])
        assert "Lyon" not in texts, kind  # no generation uses them any more
        assert "Nantes" in texts and "Braga" in texts and "Faro" in texts, kind


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


def test_an_unchanged_page_is_not_extracted_again(tmp_path: Path, corpus: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (corpus / "page.html").write_text("<html><body><main><h1>Delta</h1><p>The delta team sails from Brest to "
                                      "Cork every spring.</p></main></body></html>", encoding="utf-8")
    settings = settings_for(tmp_path, corpus)
    ingest(settings)

    def extract_again(html: str) -> object:
        raise AssertionError("an unchanged page was extracted again")

    monkeypatch.setattr("assistant.ingest.extract.html_text", extract_again)
    (corpus / "alpha.txt").write_text(ARTICLE_A.replace("Lyon", "Nantes"), encoding="utf-8")
    report = ingest(settings)
    assert (report.files, report.changed) == (3, 1)
    assert "Brest" in Assistant.open(settings).ask("Where does the delta team sail from?").answer
