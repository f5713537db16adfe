"""The HTTP API over real HTTP on loopback, against a real `assistant serve`."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from webserver import running_server

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
ALLOWED = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def server(seed_index: Path):
    limits = {"ASSISTANT_RATE_LIMIT_PER_MINUTE": "1000"}
    with running_server(seed_index, "--allowed-origins", ALLOWED, env=limits) as url:
        yield url


pytestmark = pytest.mark.server


def test_ask_returns_the_answer_contract(server: str) -> None:
    response = httpx.post(f"{server}/api/ask", json={"question": "Where is AMI Labs based?"}, timeout=30)
    assert response.status_code == 200
    data = response.json()
    assert set(data) >= {"question", "answer", "refused", "citations", "timings_ms"}
    assert "Paris" in data["answer"] and data["refused"] is False
    for c in data["citations"]:
        source = (SEEDS / f"{c['doc_id']}.txt").read_text(encoding="utf-8")
        assert source[c["start"]:c["end"]] == c["text"]
        assert f"[{c['n']}]" in data["answer"]


def test_a_follow_up_through_history(server: str) -> None:
    history = [{"question": "What did LeCun start after quitting Meta?",
                "answer": "The Turing Award winner left to start AMI Labs. [1]"}]
    data = httpx.post(f"{server}/api/ask", json={"question": "Where is it based?", "history": history},
                      timeout=30).json()
    assert "Paris" in data["answer"] and "AMI Labs" in data["search_query"]


def test_refusal_is_flagged(server: str) -> None:
    data = httpx.post(f"{server}/api/ask", json={"question": "Who won the 2022 World Cup?"}, timeout=30).json()
    assert data["refused"] is True and all(not c["answers"] for c in data["citations"])


@pytest.mark.parametrize(("body", "message"), [
    ({"question": ""}, "question: Value error, the question is empty."),
    ({"question": 42}, "question: Input should be a valid string."),
    ({}, "question: Field required."),
    ({"question": "x" * 2001}, "the limit is 2,000"),
    ({"question": "ok?", "history": [{"question": "a"}]}, "history.0.answer: Field required."),
    ({"question": "ok?", "history": "nope"}, "history: Input should be a valid list."),
])
def test_validation_errors_are_422_with_a_readable_message(server: str, body: dict, message: str) -> None:
    response = httpx.post(f"{server}/api/ask", json=body, timeout=30)
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_not_json_and_oversized_bodies(server: str) -> None:
    response = httpx.post(f"{server}/api/ask", content=b"\x00\xff garbage", timeout=30,
                          headers={"content-type": "application/json"})
    assert response.status_code == 422
    big = httpx.post(f"{server}/api/ask", json={"question": "q", "history": [{"question": "x" * 20000,
                                                                              "answer": "y"}] * 20}, timeout=30)
    assert big.status_code == 413


def test_origin_rule_and_cors(server: str) -> None:
    foreign = httpx.post(f"{server}/api/ask", json={"question": "Where is AMI Labs based?"},
                         headers={"Origin": "http://evil.example"}, timeout=30)
    assert foreign.status_code == 403 and "not allowed" in foreign.json()["detail"]
    allowed = httpx.post(f"{server}/api/ask", json={"question": "Where is AMI Labs based?"},
                         headers={"Origin": ALLOWED}, timeout=30)
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == ALLOWED
    preflight = httpx.options(f"{server}/api/ask", headers={"Origin": ALLOWED,
                                                            "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and "POST" in preflight.headers["access-control-allow-methods"]
    same = httpx.post(f"{server}/api/ask", json={"question": "Where is AMI Labs based?"},
                      headers={"Origin": server}, timeout=30)
    assert same.status_code == 200
    embed = httpx.get(f"{server}/embed")
    assert embed.headers["content-security-policy"] == f"frame-ancestors 'self' {ALLOWED}"


def test_health_docs_articles_and_widget(server: str) -> None:
    health = httpx.get(f"{server}/api/health").json()
    assert health["articles"] == 3 and health["chunks"] > 30 and health["model"] == "all-MiniLM-L6-v2"
    assert httpx.get(f"{server}/docs").status_code == 200
    assert "/api/ask" in httpx.get(f"{server}/openapi.json").json()["paths"]
    page = httpx.get(f"{server}/articles/001_27311eb9970b0850", params={"start": 56, "end": 216,
                                                                       "spans": "56-112"})
    assert page.status_code == 200 and 'id="56-216"' in page.text and "quote" in page.text
    assert httpx.get(f"{server}/articles/nope").status_code == 404
    assert "attachShadow" in httpx.get(f"{server}/widget.js").text


def test_rate_limit_answers_429_with_retry_after(seed_index: Path) -> None:
    with running_server(seed_index, env={"ASSISTANT_RATE_LIMIT_PER_MINUTE": "3"}) as url:
        codes = [httpx.post(f"{url}/api/ask", json={"question": "Where is AMI Labs based?"}, timeout=30)
                 for _ in range(4)]
    assert [r.status_code for r in codes] == [200, 200, 200, 429]
    assert int(codes[-1].headers["retry-after"]) > 0
