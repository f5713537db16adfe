"""`assistant eval --url` against a real `assistant serve` on loopback, through the real command line:
every question goes over HTTP, multi-turn cases send their history, and the exit codes, JUnit and
JSON reports are what CI reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from webserver import free_port, running_server

pytestmark = pytest.mark.server
A001 = "001_27311eb9970b0850"
SUITE = f"""defaults:
  tags: [http]
cases:
  - id: must-pass
    question: Where is AMI Labs based?
    expect: {{sources: [{A001}], contains_any: [Paris], max_latency_ms: 20000}}
  - id: must-fail-wrong-source
    question: Where is AMI Labs based?
    expect: {{sources: [002_a318584a81d60ca3]}}
  - id: refuses
    question: Who won the 2022 World Cup?
    expect: {{refused: true}}
  - id: follow-up-over-http
    turns:
      - question: What did LeCun start after quitting Meta?
        expect: {{sources: [{A001}], contains_any: [AMI Labs]}}
      - question: Where is it based?
        expect: {{sources: [{A001}], contains_any: [Paris]}}
"""


@pytest.fixture(scope="module")
def server(seed_index: Path):
    with running_server(seed_index, env={"ASSISTANT_RATE_LIMIT_PER_MINUTE": "1000"}) as url:
        yield url


def assistant_eval(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant.cli", "eval", *args], capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300)


def test_a_suite_against_a_live_server_with_reports(server: str, tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    result = assistant_eval(str(suite), "--url", server, "--junit", str(junit), "--json", str(report),
                            "--concurrency", "2")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "3/4 cases passed" in result.stdout
    assert f"expected source 002_a318584a81d60ca3, cited ['{A001}'" in result.stdout

    tree = ElementTree.parse(junit).getroot()
    assert tree.get("tests") == "4" and tree.get("failures") == "1"
    failures = {tc.get("name"): tc.find("failure") for tc in tree.iter("testcase")}
    assert [name for name, failure in failures.items() if failure is not None] == ["must-fail-wrong-source"]
    assert "expected source 002_a318584a81d60ca3" in failures["must-fail-wrong-source"].get("message")

    data = json.loads(report.read_text())
    assert data["about"]["engine"] == "remote" and data["about"]["url"] == server
    assert data["about"]["health"]["model"] == "all-MiniLM-L6-v2"  # the deployed instance describes itself
    by_id = {c["id"]: c for c in data["cases"]}
    follow = by_id["follow-up-over-http"]
    assert follow["passed"] and "AMI Labs" in follow["turns"][1]["answer"]["search_query"]
    assert by_id["refuses"]["turns"][0]["answer"]["refused"] is True
    assert data["metrics"]["hit_at_1"] < 1.0 and data["metrics"]["refusal_recall"] == 1.0

    passing = assistant_eval(str(suite), "--url", server, "--only", "must-pass,refuses,follow-up-over-http")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert assistant_eval(str(suite), "--url", server, "--min-pass-rate", "0.75").returncode == 0


def test_an_unreachable_url_is_one_clear_sentence_and_exit_2(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE, encoding="utf-8")
    result = assistant_eval(str(suite), "--url", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert "Cannot reach http://127.0.0.1:" in result.stderr and "is `assistant serve` running?" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_rate_limited_server_is_waited_for_not_failed(seed_index: Path, tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(f"cases:\n  - id: after-the-wait\n    question: Where is AMI Labs based?\n"
                     f"    expect: {{sources: [{A001}], max_latency_ms: 20000}}\n", encoding="utf-8")
    report = tmp_path / "report.json"
    # One question a minute: the runner's warm-up uses it, so the case's question gets a 429 first.
    with running_server(seed_index, env={"ASSISTANT_RATE_LIMIT_PER_MINUTE": "1"}) as url:
        result = assistant_eval(str(suite), "--url", url, "--json", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rate-limits this run (429): waiting" in result.stderr
    turn = json.loads(report.read_text())["cases"][0]["turns"][0]
    assert turn["latency_ms"] < 20000  # the answered request's time, not the wait before it
    assert abs(turn["answer"]["timings_ms"]["round_trip"] - turn["latency_ms"]) < 0.01
