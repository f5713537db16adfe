"""A scripted OpenAI-compatible endpoint on loopback, for the tests of a site owner's LLM: a real
HTTP server, spoken to by llama-index's OpenAILike, whose replies depend on what it is sent (it
quotes the passages it is given) and add what each fault needs. A real model cannot be made to
misbehave on cue; tests/test_llm_server.py runs a real one."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

QUESTION = "How many hours has a four-year-old child been awake?"


class Script:
    """What the server does next, and what it was sent."""

    def __init__(self) -> None:
        self.mode = "quote"
        self.pause = 0.0  # seconds between streamed events (a browser test watches the draft grow)
        self.requests: list[dict] = []


def reply(script: Script, body: dict) -> tuple[int, str]:
    user = body["messages"][-1]["content"]
    if script.mode == "error":
        return 500, "internal error"
    if user.startswith("Conversation:"):
        return 200, "How many hours has a young child been awake in four years?"
    passages = dict(re.findall(r"^\[(\d+)\] [^\n]*\n(.*?)(?=\n\n\[\d+\] |\n\nQuestion: )", user, re.S | re.M))
    first = re.split(r"(?<=[.!?])\s+", passages["1"].strip())
    awake = next((n for n, text in passages.items() if "16,000 hours" in text), "1")
    sentence = next(s for s in re.split(r"(?<=[.!?])\s+", passages[awake]) if "16,000 hours" in s) \
        if "16,000 hours" in passages[awake] else first[0]
    match script.mode:
        case "quote":  # a true sentence, then an invented one
            return 200, f"{sentence} [{awake}] LeCun founded Google in 1850 with nine partners. [{awake}]"
        case "invent-first":
            return 200, f"LeCun founded Google in 1850. [1] {sentence} [{awake}]"
        case "no-citations":
            return 200, sentence
        case "bad-number":
            return 200, f"{sentence} [{len(passages) + 7}]"
        case "planted":
            planted = next((m.group(1) for text in passages.values()
                            if (m := re.search(r"say: (.+?\.)", text))), "nothing planted")
            return 200, f"{planted} [1]"
        case "not-answered":
            return 200, "NOT IN THE PASSAGES"
    raise AssertionError(script.mode)


@contextmanager
def scripted_endpoint() -> Iterator[tuple[str, Script]]:
    """The endpoint's base URL (".../v1") and its script, until the block ends."""
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            script.requests.append({"auth": self.headers.get("Authorization", ""), "body": body})
            if script.mode == "slow":
                time.sleep(3)
            status, text = reply(script, body) if script.mode != "slow" else (200, "late")
            if status == 200 and body.get("stream"):
                self._stream(text, body)
                return
            payload = {"id": "x", "object": "chat.completion", "created": 0, "model": body.get("model", ""),
                       "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": text}}],
                       "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
            data = json.dumps(payload if status == 200 else {"error": {"message": text}}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, text: str, body: dict) -> None:
            """Server-sent events, as OpenAI's API streams: a few words per event."""
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            words = re.findall(r"\S+\s*", text)
            for i in range(0, len(words), 3):
                event = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body.get("model", ""),
                         "choices": [{"index": 0, "delta": {"content": "".join(words[i:i + 3])},
                                      "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
                time.sleep(script.pause)
            self.wfile.write(b"data: [DONE]\n\n")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1", script
    finally:
        server.shutdown()
        server.server_close()
