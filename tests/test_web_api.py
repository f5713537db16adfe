"""The HTTP API over real HTTP on loopback, against a real `assistant serve`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from webserver import ask_on_the_page, running_server

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
    ({"question": ""}, "The question is empty: type a question about the articles."),
    ({"question": "  "}, "The question is empty: type a question about the articles."),
    ({"question": 42}, "Question must be text."),
    ({}, "Question is missing."),
    ({"question": "x" * 2001}, "the limit is 2,000"),
    ({"question": "ok?", "history": [{"question": "a"}]}, "History.0.answer is missing."),
    ({"question": "ok?", "history": "nope"}, "History must be a list."),
    ({"question": "ok?", "history": [{"question": "q" * 15000, "answer": "a" * 6000}]}, "the limit is 20,000"),
    ({"question": "Where is AMI Labs \ud800based?"}, "lone surrogate"),
    ({"question": "ok?", "history": [{"question": "\udfff", "answer": "a"}]}, "lone surrogate"),
])
def test_validation_errors_are_422_with_a_readable_message(server: str, body: dict, message: str) -> None:
    # json.dumps escapes a lone surrogate as \\udXXX, as a hostile client would send it
    response = httpx.post(f"{server}/api/ask", content=json.dumps(body), timeout=30,
                          headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert "Value error" not in response.json()["detail"]


def test_not_json_and_oversized_bodies(server: str) -> None:
    response = httpx.post(f"{server}/api/ask", content=b"\x00\xff garbage", timeout=30,
                          headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["detail"] == "The body is not valid JSON."
    big = httpx.post(f"{server}/api/ask", json={"question": "q", "history": [{"question": "x" * 20000,
                                                                              "answer": "y"}] * 20}, timeout=30)
    assert big.status_code == 413 and "256,000 bytes" in big.json()["detail"]

    def chunks():  # no Content-Length: the limit must hold on what arrives, not on what is declared
        for _ in range(40):
            yield b"x" * 10_000

    streamed = httpx.post(f"{server}/api/ask", content=chunks(), timeout=30,
                          headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    chat = httpx.post(f"{server}/gradio_api/queue/join", content=chunks(), timeout=30,
                      headers={"content-type": "application/json"})
    assert chat.status_code == 413


def test_origin_rule_and_cors(server: str) -> None:
    foreign = httpx.post(f"{server}/api/ask", json={"question": "Where is AMI Labs based?"},
                         headers={"Origin": "http://evil.example"}, timeout=30)
    assert foreign.status_code == 403 and "not allowed" in foreign.json()["detail"]
    assert "access-control-allow-origin" not in foreign.headers
    allowed = httpx.post(f"{server}/api/ask", json={"question": "Where is AMI Labs based?"},
                         headers={"Origin": ALLOWED}, timeout=30)
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == ALLOWED
    preflight = httpx.options(f"{server}/api/ask", headers={"Origin": ALLOWED,
                                                            "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and "POST" in preflight.headers["access-control-allow-methods"]
    same = httpx.post(f"{server}/api/ask", json={"question": "Where is AMI Labs based?"},
                      headers={"Origin": server}, timeout=30)
    assert same.status_code == 200
    chat = httpx.post(f"{server}/gradio_api/queue/join", json={}, headers={"Origin": "http://evil.example"},
                      timeout=30)
    assert chat.status_code == 403  # the chat page's own routes follow the same rule


@pytest.mark.parametrize("path", ["/", "/embed", "/articles/001_27311eb9970b0850", "/api/health", "/docs",
                                  "/widget.js", "/config", "/articles/nope"])
def test_every_route_sends_the_security_headers(server: str, path: str) -> None:
    headers = httpx.get(f"{server}{path}", timeout=30).headers
    policy = headers["content-security-policy"]
    assert f"frame-ancestors 'self' {ALLOWED}" in policy
    assert "object-src 'none'" in policy and "base-uri 'self'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/gradio_api/upload"), ("GET", "/gradio_api/file=/etc/passwd"), ("GET", "/gradio_api/upload_progress"),
    ("GET", "/gradio_api/proxy=http://127.0.0.1:9/"), ("GET", "/monitoring"), ("POST", "/gradio_api/mcp/sse"),
    ("POST", "/gradio_api/call/respond"), ("POST", "/gradio_api/run/respond"), ("POST", "/gradio_api/api/respond"),
])
def test_gradio_routes_the_page_does_not_use_are_gone(server: str, method: str, path: str) -> None:
    response = httpx.request(method, f"{server}{path}", timeout=30)
    assert response.status_code == 404 and response.json()["detail"] == "There is nothing here."


def test_the_schema_describes_every_answer(server: str) -> None:
    from assistant.web.app import AnswerModel

    schema = httpx.get(f"{server}/openapi.json").json()
    ask = schema["paths"]["/api/ask"]["post"]["responses"]
    assert ask["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/AnswerModel")
    assert {"403", "413", "422", "429", "503"} <= set(ask)
    described = schema["components"]["schemas"]["AnswerModel"]["properties"]
    assert described["confident"]["type"] == "boolean" and "tentative" in described["confident"]["description"]
    assert "calibrated probability" in described["confidence"]["description"]
    for question in ["Where is AMI Labs based?", "Who won the 2022 World Cup?"]:
        answer = AnswerModel.model_validate(httpx.post(f"{server}/api/ask", json={"question": question},
                                                       timeout=30).json())
        assert answer.confidence is not None and not (answer.refused and answer.confident)


def test_extras_give_what_the_chat_page_shows_with_an_answer(server: str, seed_assistant) -> None:  # type: ignore[no-untyped-def]
    """The widget's "Copy answer", related questions and "These articles cover" line: the chat page's
    own (pages.plain_answer, the engine's related questions, pages.coverage)."""
    from assistant.types import Answer
    from assistant.web.pages import coverage, plain_answer

    answer = httpx.post(f"{server}/api/ask", json={"question": "Where is AMI Labs based?"}, timeout=30).json()
    extras = httpx.post(f"{server}/api/extras", json={"answer": answer}, timeout=30).json()
    assert extras["text"] == plain_answer(Answer.from_dict(answer)) and extras["text"].startswith(answer["answer"])
    assert 1 <= len(extras["related"]) <= 3 and answer["question"] not in extras["related"]
    assert extras["covers"] == ""
    asked = extras["related"][0]
    later = httpx.post(f"{server}/api/extras", json={"answer": answer, "history": [
        {"question": asked, "answer": "..."}]}, timeout=30).json()
    assert asked not in later["related"], "a question asked before is not suggested again"
    refusal = httpx.post(f"{server}/api/ask", json={"question": "Who won the 2022 World Cup?"}, timeout=30).json()
    covers = httpx.post(f"{server}/api/extras", json={"answer": refusal}, timeout=30).json()["covers"]
    assert covers == coverage(Answer.from_dict(refusal), seed_assistant.topics())
    assert covers.startswith("These articles cover: ") and all(t in covers for t in seed_assistant.topics())
    bad = httpx.post(f"{server}/api/extras", json={"answer": {"question": "x"}}, timeout=30)
    assert bad.status_code == 422 and "answer" in bad.json()["detail"].lower()


def test_health_docs_articles_and_widget(server: str) -> None:
    health = httpx.get(f"{server}/api/health").json()
    assert health["articles"] == 3 and health["chunks"] > 30 and health["model"] == "all-MiniLM-L6-v2"
    assert httpx.get(f"{server}/docs").status_code == 200
    assert "/api/ask" in httpx.get(f"{server}/openapi.json").json()["paths"]
    page = httpx.get(f"{server}/articles/001_27311eb9970b0850", params={"start": 56, "end": 216,
                                                                       "spans": "56-112"})
    assert page.status_code == 200 and 'id="56-216"' in page.text and "quote" in page.text
    missing = httpx.get(f"{server}/articles/nope")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "There is no article &#x27;nope&#x27; in the index." in missing.text and 'href="/"' in missing.text
    assert "attachShadow" in httpx.get(f"{server}/widget.js").text


def test_rate_limit_answers_429_with_retry_after(seed_index: Path) -> None:
    with running_server(seed_index, env={"ASSISTANT_RATE_LIMIT_PER_MINUTE": "3"}) as url:
        codes = [httpx.post(f"{url}/api/ask", json={"question": "Where is AMI Labs based?"}, timeout=30)
                 for _ in range(4)]
    assert [r.status_code for r in codes] == [200, 200, 200, 429]
    assert int(codes[-1].headers["retry-after"]) > 0


def test_rate_limits_per_site_and_behind_a_trusted_proxy(seed_index: Path) -> None:
    limits = {"ASSISTANT_RATE_LIMIT_PER_MINUTE": "2", "ASSISTANT_RATE_LIMIT_PER_ORIGIN_PER_MINUTE": "3",
              "ASSISTANT_TRUSTED_PROXIES": "127.0.0.1"}
    with running_server(seed_index, "--allowed-origins", ALLOWED, env=limits) as url:
        def ask(client: str, origin: str = "") -> httpx.Response:
            headers = {"X-Forwarded-For": f"203.0.113.9, {client}"} | ({"Origin": origin} if origin else {})
            return httpx.post(f"{url}/api/ask", json={"question": "Where is AMI Labs based?"}, headers=headers,
                              timeout=30)

        # Two readers behind the proxy are two clients: each gets its own two questions.
        assert [ask("198.51.100.1").status_code for _ in range(3)] == [200, 200, 429]
        assert ask("198.51.100.2").status_code == 200
        # The widget's site as a whole gets three a minute, whoever asks.
        codes = [ask(f"198.51.100.{n}", ALLOWED) for n in range(10, 14)]
        assert [r.status_code for r in codes] == [200, 200, 200, 429]
        assert int(codes[-1].headers["retry-after"]) > 0 and "Too many questions" in codes[-1].json()["detail"]


def test_the_chat_page_limits_each_reader_not_all_readers_together(seed_index: Path) -> None:
    limits = {"ASSISTANT_RATE_LIMIT_PER_MINUTE": "2", "ASSISTANT_TRUSTED_PROXIES": "127.0.0.1"}
    with running_server(seed_index, env=limits) as url, httpx.Client(base_url=url, timeout=60) as http:
        def ask(client: str) -> str:
            status, completed = ask_on_the_page(http, "Where is AMI Labs based?", {"X-Forwarded-For": client})
            assert status == 200 and completed, "the page's answer never completed"
            return str(completed["output"]["data"][0])

        first = [ask("198.51.100.1") for _ in range(3)]
        assert ["Paris" in page for page in first] == [True, True, False]
        assert "Too many questions" in first[2]
        assert "Paris" in ask("198.51.100.2")  # another reader behind the proxy has questions of their own


def test_an_unusable_index_answers_503_until_it_is_built(tmp_path: Path) -> None:
    index = tmp_path / "index"
    with running_server(index, healthy=False) as url:
        response = httpx.post(f"{url}/api/ask", json={"question": "Where is AMI Labs based?"}, timeout=30)
        assert response.status_code == 503
        assert response.json()["detail"] == f"No index at {index}: run `assistant ingest` first, or point --index " \
                                            "at an existing index."
        assert httpx.get(f"{url}/api/health", timeout=30).status_code == 503
        assert httpx.get(url, timeout=30).status_code == 200  # the page still loads
        from assistant.config import Settings
        from assistant.ingest.pipeline import ingest

        ingest(Settings.load(overrides={"index_dir": index, "corpus": (SEEDS,)}, environ={}))
        deadline = time.monotonic() + 30
        while (response := httpx.post(f"{url}/api/ask", json={"question": "Where is AMI Labs based?"},
                                      timeout=30)).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert response.status_code == 200 and "Paris" in response.json()["answer"]


def test_a_question_over_the_time_budget_is_a_429_not_a_hang(seed_index: Path) -> None:
    with running_server(seed_index, env={"ASSISTANT_REQUEST_SECONDS": "0"}) as url:
        response = httpx.post(f"{url}/api/ask", json={"question": "Where is AMI Labs based?"}, timeout=30)
        assert response.status_code == 429 and int(response.headers["retry-after"]) > 0
        assert response.json()["detail"].startswith("The question was not answered within 0 s")
        assert httpx.get(f"{url}/api/health", timeout=30).status_code == 200  # the server is fine
