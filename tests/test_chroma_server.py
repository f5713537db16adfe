"""Server mode against a real `chroma run` on loopback, started by the test."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.engine import Assistant
from assistant.errors import StoreUnavailableError
from assistant.ingest import ingest

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
CHROMA = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "chroma"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path: Path):
    port = free_port()
    executable = str(CHROMA) if CHROMA.exists() else "chroma"
    proc = subprocess.Popen([executable, "run", "--path", str(tmp_path / "chroma-data"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "chroma run did not start"
            time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(timeout=30)


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
    assert names == [f"articles_{report.generation}"]


@pytest.mark.server
def test_an_unreachable_chroma_server_is_one_clear_error(tmp_path: Path) -> None:
    settings = Settings.load(overrides={"index_dir": tmp_path / "index", "corpus": (SEEDS,),
                                        "chroma_host": "127.0.0.1", "chroma_port": free_port()}, environ={})
    with pytest.raises(StoreUnavailableError, match="check that it is running"):
        ingest(settings)
