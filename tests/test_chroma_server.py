"""Server mode against a real `chroma run` on loopback, started by the test."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
import pytest
from webserver import free_port, running_server

from assistant.config import Settings
from assistant.engine import Assistant
from assistant.errors import StoreUnavailableError
from assistant.ingest.pipeline import ingest

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.mark.server
def test_ingest_and_ask_through_a_chroma_server(tmp_path: Path, chroma_server: int) -> None:
    settings = Settings.load(overrides={"index_dir": tmp_path / "index", "corpus": (SEEDS,),
                                        "chroma_host": "127.0.0.1", "chroma_port": chroma_server}, environ={})
    report = ingest(settings)
    assert report.files == 3 and report.chunks_added > 30
    assert not (tmp_path / "index" / "chroma").exists()  # vectors live in the server, not on local disk
    answer = Assistant.open(settings).ask("Where is AMI Labs based?")
    assert "Paris" in answer.answer and answer.citations[0].doc_id == "001_27311eb9970b0850"
    assert ingest(settings).chunks_added == 0

    import chromadb

    names = [c.name for c in chromadb.HttpClient(host="127.0.0.1", port=chroma_server).list_collections()]
    epoch = report.generation  # the first ingest starts the epoch
    assert sorted(names) == sorted(["articles_state", *(f"articles_{epoch}_{kind}"
                                                        for kind in ("chunks", "sentences", "articles"))])


@pytest.mark.server
def test_readers_with_empty_folders_answer_from_the_server_and_follow_a_new_generation(
        tmp_path: Path, chroma_server: int) -> None:
    """One ingest, two `assistant serve` processes on other (empty) index folders, as on other
    machines; an article added by an ingest while they run is answered by both, with no restart."""
    corpus = tmp_path / "articles"
    shutil.copytree(SEEDS, corpus)
    server = {"chroma_host": "127.0.0.1", "chroma_port": chroma_server}
    ingest(Settings.load(overrides={"index_dir": tmp_path / "writer", "corpus": (corpus,), **server}, environ={}))
    env = {"ASSISTANT_CHROMA_HOST": "127.0.0.1", "ASSISTANT_CHROMA_PORT": str(chroma_server)}
    question = {"question": "Where does the Lyon team build its gliders?"}
    with (running_server(tmp_path / "reader-1", env=env) as first,
          running_server(tmp_path / "reader-2", env=env) as second):
        for url in (first, second):
            answer = httpx.post(f"{url}/api/ask", json={"question": "Where is AMI Labs based?"}, timeout=30).json()
            assert "Paris" in answer["answer"]
            assert httpx.post(f"{url}/api/ask", json=question, timeout=30).json()["refused"]
        (corpus / "gliders.txt").write_text("Gliders in Lyon.\n\nThe Lyon team builds its gliders in a hangar at "
                                            "Bron airfield.\n", encoding="utf-8")
        report = ingest(Settings.load(overrides={"index_dir": tmp_path / "writer", "corpus": (corpus,), **server},
                                      environ={}))
        assert report.changed == 1 and report.chunks_kept > 30
        time.sleep(1.5)  # a reader looks for a newer generation at most once a second
        for url in (first, second):
            answer = httpx.post(f"{url}/api/ask", json=question, timeout=30).json()
            assert not answer["refused"] and "Bron" in answer["answer"]
            assert answer["citations"][0]["doc_id"] == "gliders"
    assert not any((tmp_path / reader).exists() and any((tmp_path / reader).iterdir())
                   for reader in ("reader-1", "reader-2"))  # nothing was written on the readers' side


@pytest.mark.server
def test_an_unreachable_chroma_server_is_one_clear_error(tmp_path: Path) -> None:
    settings = Settings.load(overrides={"index_dir": tmp_path / "index", "corpus": (SEEDS,),
                                        "chroma_host": "127.0.0.1", "chroma_port": free_port()}, environ={})
    with pytest.raises(StoreUnavailableError, match="check that it is running"):
        ingest(settings)
