"""The dependency audit (.ci/audit.py) runs the real pip-audit over this environment. The public
advisory services are out of reach here, so an OSV service on loopback stands in for them: it reports
one advisory against the installed pytest, and nothing for any other package."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path

import pytest
from webserver import free_port

AUDIT = Path(__file__).resolve().parent.parent / ".ci" / "audit.py"
ADVISORY = {"id": "PYSEC-0000-1", "summary": "a test advisory", "details": "Reported by the test's OSV service.",
            "aliases": [], "published": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z",
            "affected": [{"package": {"name": "pytest", "ecosystem": "PyPI"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "999"}]}]}]}


class OSV(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        hit = query["package"]["name"].lower() == "pytest" and query["version"] == version("pytest")
        body = json.dumps({"vulns": [ADVISORY]} if hit else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def osv_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), OSV)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    server.shutdown()


def audit(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(AUDIT), "-s", "osv", "--osv-url", url],
                          capture_output=True, text=True, timeout=600)


def test_a_reported_vulnerability_fails_the_audit_and_names_the_package(osv_url: str) -> None:
    run = audit(osv_url)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"VULNERABLE: pytest {version('pytest')}: PYSEC-0000-1, fixed in 999" in run.stdout
    audited, total = run.stdout.split(" installed packages audited")[0].split("dependency audit: ")[1].split(" of ")
    assert audited == total and int(total) > 50
    assert "NOT AUDITED" not in run.stdout


def test_an_unreachable_service_says_the_audit_did_not_run() -> None:
    run = audit(f"http://127.0.0.1:{free_port()}/v1/query")
    assert run.returncode == 0
    assert run.stdout.startswith("dependency audit: NOT RUN, pip-audit failed:")
    assert "Traceback" not in run.stdout
