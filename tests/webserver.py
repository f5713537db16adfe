"""Starting a real `assistant serve` on a loopback port for tests, and stopping it."""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(index: Path, *extra: str, env: dict[str, str] | None = None, healthy: bool = True
                   ) -> Iterator[str]:
    """`assistant serve` on `index`, yielded once /api/health answers 200 (or answers at all, when
    the index is expected to be unusable)."""
    port = free_port()
    command = [sys.executable, "-m", "assistant.cli", "serve", "--index", str(index), "--host", "127.0.0.1",
               "--port", str(port), *extra]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200 or not healthy:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                output = proc.stdout.read() if proc.stdout else ""
                raise RuntimeError(f"assistant serve did not start:\n{output}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def ask_on_the_page(http: httpx.Client, question: str, headers: dict[str, str] | None = None
                    ) -> tuple[int, dict]:
    """The chat page's Ask button, as a reader's browser takes it: a new page session joins Gradio's
    queue, then reads the answer streamed word by word until it completes. The join's status, and
    the completing message ({} when the join failed or the stream ended first)."""
    session = uuid.uuid4().hex[:11]
    fn_index, trigger = _ask_button(http)
    joined = http.post("/gradio_api/queue/join", headers=headers,
                       json={"data": [question, []], "fn_index": fn_index, "trigger_id": trigger,
                             "session_hash": session, "event_data": None})
    if joined.status_code != 200:
        return joined.status_code, {}
    with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as stream:
        for line in stream.iter_lines():
            message = json.loads(line[5:]) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed":
                return joined.status_code, message
    return joined.status_code, {}


@functools.cache
def _ask_button(http: httpx.Client) -> tuple[int, int]:
    """The page's Ask button and the event it triggers, from the page's config."""
    config = http.get("/config").json()
    button = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "ask")
    event = next(i for i, d in enumerate(config["dependencies"]) if [button, "click"] in d["targets"])
    return event, button
