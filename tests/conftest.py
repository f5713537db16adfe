"""Shared fixtures: every test gets its own index folder; one seed index is built per session
(real packaged model, real embedded Chroma) for tests that only read it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scripted_llm import Script, scripted_endpoint
from webserver import free_port

from assistant.config import Settings

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CHROMA = ROOT / ".venv" / "bin" / "chroma"


@pytest.fixture(autouse=True)
def isolated_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test touches ./index or another test's leftovers; nothing reaches a model hub."""
    index = tmp_path / "index"
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("ASSISTANT_CHROMA_HOST", raising=False)
    monkeypatch.delenv("ASSISTANT_CONFIG", raising=False)
    return index


@pytest.fixture
def endpoint() -> Iterator[tuple[str, Script]]:
    """A scripted OpenAI-compatible LLM endpoint on loopback (tests/scripted_llm.py): URL and script."""
    with scripted_endpoint() as got:
        yield got


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of seeds/ built once per session, for tests that only read it."""
    from assistant.ingest.pipeline import ingest

    index = tmp_path_factory.mktemp("seed") / "index"
    ingest(Settings.load(overrides={"index_dir": index, "corpus": (SEEDS,)}, environ={}))
    return index


@pytest.fixture(scope="session")
def seed_settings(seed_index: Path) -> Settings:
    return Settings.load(overrides={"index_dir": seed_index, "corpus": (SEEDS,)}, environ={})


@pytest.fixture(scope="session")
def seed_assistant(seed_settings: Settings):
    from assistant.engine import Assistant

    return Assistant.open(seed_settings)


@pytest.fixture
def chroma_server(tmp_path: Path):
    """A real `chroma run` on a loopback port, its data in the test's folder; yields the port."""
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


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server (Debian's, which tests/check.sh installs) started for this session on a
    loopback port, its cluster in a temp folder the postgres user can reach; yields its SQLAlchemy URL."""
    binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not binaries:
        pytest.fail("PostgreSQL is missing: `apt-get install postgresql` (tests/check.sh does).")
    bin_dir = binaries[-1].parent
    data = Path(tempfile.mkdtemp(prefix="assistant-postgres-"))
    shutil.chown(data, "postgres", "postgres")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*as_postgres, str(bin_dir / "initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "postgres"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    subprocess.run([*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-l", str(data / "log"), "-w",
                    "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"],
                   check=True, stdout=subprocess.DEVNULL)
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    subprocess.run([*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "stop"],
                   check=False, stdout=subprocess.DEVNULL)
    shutil.rmtree(data, ignore_errors=True)
