"""The runtime-only smoke: the install a user gets, proven with nothing from the dev tools.

Run by tests/check.sh with the system's python3 (stdlib only). It builds a new virtual environment
with the install part of the README's run command, word for word (its `.venv` replaced by a
temporary folder), as on a stock machine: this machine's pip configuration off (no local wheel
folder, no mirror: PyPI itself), PyTorch's CPU index stood in for on loopback. Then in it:

- checks that no dev tool is installed and that pip finds every requirement met;
- ingests HTML, Markdown and text (tests/site and seeds/) into a new index;
- asks over HTTP, through a real `assistant serve` on loopback, questions each answered by one
  kind of page, and one through `assistant ask --json`;
- uninstalls lxml and ingests again: one sentence naming the package and the command
  that installs it, exit 1, no traceback, and the served index unchanged.

Any failure ends the run with exit 1 and says what differed; a missing runtime dependency fails CI.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_TOOLS = {"pytest", "ruff", "mypy", "schemathesis", "playwright", "pip-audit", "uv", "hypothesis"}
# (question, the article that answers it, a word the answer's own text must hold)
OVER_HTTP = [
    ("Is pathkit thread-safe?", "docs/guide/index", "immutable"),  # Markdown
    ("What was the first release of pathkit called?", "blog/index", "Pebble"),  # HTML
    ("Where is AMI Labs based?", "001_27311eb9970b0850", "Paris"),  # text
]
WITH_ASK = ("Does pathkit work on Windows?", "docs/faq/index", "backslashes")  # HTML


# The run's own user cache (made by main, removed at its end): named here, so that importing this module
# (the bench and tests read its helpers) creates nothing.
CACHE = Path(tempfile.gettempdir()) / f"runtime-smoke-cache-{os.getpid()}"


class SmokeFailure(Exception):
    pass


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="runtime-smoke-"))
    CACHE.mkdir()
    server = None
    try:
        venv = work / "venv"
        install(venv)
        bin_ = venv / "bin"
        index = work / "index"
        step("ingest tests/site and seeds/ (HTML, Markdown, text)")
        out = run([bin_ / "assistant", "ingest", "--index", index, ROOT / "tests" / "site", ROOT / "seeds"])
        say(out.stdout.strip().splitlines()[-1])
        server, url = serve(bin_, index)
        for question, doc_id, word in OVER_HTTP:
            answer = post_json(url + "/api/ask", {"question": question})
            check_answer("POST /api/ask", question, answer, doc_id, word)
        question, doc_id, word = WITH_ASK
        answer = json.loads(run([bin_ / "assistant", "ask", "--index", index, "--json", question]).stdout)
        check_answer("assistant ask --json", question, answer, doc_id, word)
        missing_package(bin_, index, url)
        say("runtime smoke passed")
        return 0
    except SmokeFailure as exc:
        print(f"runtime smoke FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(CACHE, ignore_errors=True)


def readme_run_command(readme: str) -> list[str]:
    """The README's run command, split at its `assistant` calls: [install, "ingest", "serve"]."""
    for line in readme.splitlines():
        if line.startswith("    python3 -m venv .venv"):
            return line.strip().split(" && .venv/bin/assistant ")
    raise SmokeFailure("README.md has no run command starting with 'python3 -m venv .venv'")


def install(venv: Path) -> None:
    """The README's install, as on a stock machine: this machine's pip configuration (its local wheel
    folder and package mirror) switched off, PyPI itself, and PyTorch's CPU index stood in for by a
    loopback server laid out as download.pytorch.org/whl/cpu is, serving the CPU wheel."""
    command = readme_run_command((ROOT / "README.md").read_text(encoding="utf-8"))[0].replace(".venv", str(venv))
    if TORCH_INDEX not in command:
        raise SmokeFailure(f"the README's run command does not install torch from {TORCH_INDEX}")
    with torch_index() as stand_in:
        command = command.replace(TORCH_INDEX, stand_in)
        step(f"install, as the README's run command does, off this machine's pip configuration: {command}")
        started = time.monotonic()
        stock = {k: v for k, v in environment().items() if not k.startswith("PIP_") or k == "PIP_CERT"}
        run(["bash", "-c", command], env={**stock, "PIP_CONFIG_FILE": os.devnull})
    packages = {normal(p["name"]) for p in json.loads(run([venv / "bin" / "pip", "list", "--format", "json"]).stdout)}
    if dev := sorted(packages & DEV_TOOLS):
        raise SmokeFailure(f"dev tools in the runtime venv: {', '.join(dev)}")
    run([venv / "bin" / "pip", "check"])
    say(f"installed in {time.monotonic() - started:.0f} s: {len(packages)} packages, {tree_mb(venv):,.0f} MB, "
        "no dev tool among them, pip check clean")


TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_WHEELS = Path("/opt/wheels")  # where this machine keeps the CPU wheel


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass


@contextlib.contextmanager
def torch_index() -> Iterator[str]:
    """A loopback simple index in PyTorch's layout (`<url>/torch/` lists the wheel with its sha256),
    serving this machine's torch CPU wheel; yields its URL."""
    wheels = sorted(TORCH_WHEELS.glob("torch-*+cpu-*.whl"))
    if not wheels:
        raise SmokeFailure(f"no torch CPU wheel in {TORCH_WHEELS} to serve as PyTorch's index")
    with tempfile.TemporaryDirectory(prefix="torch-index-") as root:
        project = Path(root) / "whl" / "cpu" / "torch"
        project.mkdir(parents=True)
        links = []
        for wheel in wheels:
            (project.parent / wheel.name).symlink_to(wheel)
            with wheel.open("rb") as file:
                digest = hashlib.file_digest(file, "sha256").hexdigest()
            links.append(f'<a href="/whl/cpu/{urllib.parse.quote(wheel.name)}#sha256={digest}">{wheel.name}</a><br>')
        (project / "index.html").write_text("<!DOCTYPE html><html><body>" + "".join(links) + "</body></html>")
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietFiles, directory=root))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/whl/cpu"
        finally:
            server.shutdown()
            server.server_close()


def serve(bin_: Path, index: Path) -> tuple[subprocess.Popen[str], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    step(f"assistant serve on {url}")
    server = subprocess.Popen([bin_ / "assistant", "serve", "--index", index, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=environment())
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            said = server.stderr.read() if server.stderr else ""
            raise SmokeFailure(f"serve ended with {server.returncode}: {said[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/api/health", timeout=5) as response:
                if response.status == 200:
                    return server, url
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SmokeFailure("serve did not answer /api/health within 120 s")


def check_answer(how: str, question: str, answer: dict, doc_id: str, word: str) -> None:
    cited = [c["doc_id"] for c in answer.get("citations", [])]
    if answer.get("refused") or not cited or cited[0] != doc_id or word.lower() not in answer["answer"].lower():
        raise SmokeFailure(f"{how} {question!r}: expected an answer from {doc_id} saying {word!r}, "
                           f"got {json.dumps(answer)[:600]}")
    say(f"{how} {question!r} -> {answer['answer']!r} (cites {doc_id})")


def missing_package(bin_: Path, index: Path, url: str) -> None:
    step("lxml uninstalled: ingest --rebuild must say so and change nothing")
    before = get_json(url + "/api/health")
    run([bin_ / "pip", "uninstall", "-q", "-y", "lxml"])
    result = subprocess.run([bin_ / "assistant", "ingest", "--rebuild", "--index", index, ROOT / "tests" / "site"],
                            capture_output=True, text=True, env=environment())
    lines = result.stderr.strip().splitlines()
    if result.returncode != 1 or len(lines) != 1 or "Traceback" in result.stderr \
            or "lxml" not in lines[0] or "pip install" not in lines[0]:
        raise SmokeFailure(f"expected exit 1 and one line naming lxml and pip install, got exit "
                           f"{result.returncode}: {result.stderr[-2000:]}")
    say(f"exit 1: {lines[0]}")
    time.sleep(1.5)  # a server looks for a newer generation once a second
    after = get_json(url + "/api/health")
    if after != before:
        raise SmokeFailure(f"the index changed: {before} -> {after}")
    question, doc_id, word = OVER_HTTP[0]
    check_answer("then POST /api/ask", question, post_json(url + "/api/ask", {"question": question}), doc_id, word)


def run(command: list, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, env=env or environment(),
                            cwd=ROOT)
    if result.returncode != 0:
        raise SmokeFailure(f"`{' '.join(map(str, command))}` exited {result.returncode}:\n"
                           f"{result.stdout[-2000:]}{result.stderr[-3000:]}")
    return result


def environment() -> dict[str, str]:
    # A cache of its own: the model's ONNX export is made in this venv (torch, onnx), as a user's first ingest does.
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "XDG_CACHE_HOME": str(CACHE)}


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def tree_mb(path: Path) -> float:
    """Megabytes of the files under `path` (links not followed)."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def step(text: str) -> None:
    print(f"runtime smoke: {text}", flush=True)


def say(text: str) -> None:
    print(f"  {text}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
