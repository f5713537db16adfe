"""The eval runner: case files, judging, metrics, reports, and the CLI's exit codes."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.errors import UserInputError
from assistant.evals.cases import load_cases
from assistant.evals.reports import confidence_tables
from assistant.evals.results import CaseResult, SuiteResult
from assistant.evals.runner import judge, metrics
from assistant.types import TENTATIVE, Answer, Citation

ROOT = Path(__file__).resolve().parent.parent
A001 = "001_27311eb9970b0850"
SUITE = f"""cases:
  - id: must-pass
    question: Where is AMI Labs based?
    expect: {{sources: [{A001}], contains_any: [Paris]}}
    tags: [smoke]
  - id: must-fail-wrong-source
    question: Where is AMI Labs based?
    expect: {{sources: [002_a318584a81d60ca3]}}
  - id: refuse
    question: Who won the 2022 World Cup?
    expect: {{refused: true}}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "message"), [
    ("cases:\n  - id: a\n    question: q\n    expect: {sources: x, colour: red}\n",
     "x.yaml:2: case 'a': unknown expect key"),
    ("cases:\n  - id: a\n    question: q\n  - id: a\n    question: r\n", "x.yaml:4: duplicate case id 'a'"),
    ("cases:\n  - id: a\n    question: q\n    turns: []\n", "x.yaml:2: case 'a' needs exactly one of"),
    ("cases:\n  - question: q\n", "x.yaml:2: every case needs a non-empty string `id`"),
    ("cases: [\n", "x.yaml:2: not valid YAML"),
    ("cases:\n  - id: a\n    question: q\n    expect: {refused: maybe}\n", "`refused` must be true or false"),
    ("cases:\n  - id: a\n    question: q\n    expect: {sources_rank_at_most: 0}\n", "must be a positive number"),
    ("tests: []\n", "x.yaml:1: unknown top-level key"),
])
def test_malformed_yaml_is_rejected_with_file_line_and_reason(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserInputError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_cases([write(tmp_path, "x.yaml", text)])


def test_jsonl_cases_and_a_bad_line(tmp_path: Path) -> None:
    good = write(tmp_path, "s.jsonl", '{"id": "a", "question": "q", "expect": {"refused": true}}\n\n'
                                      '{"id": "b", "turns": [{"question": "q1"}, {"question": "q2"}]}\n')
    cases = load_cases([good])
    assert [c.id for c in cases] == ["a", "b"] and len(cases[1].turns) == 2
    bad = write(tmp_path, "bad.jsonl", '{"id": "a", "question": "q"}\n{"id": \n')
    with pytest.raises(UserInputError, match="bad.jsonl:2: not valid JSON"):
        load_cases([bad])


def test_defaults_merge_into_every_case(tmp_path: Path) -> None:
    path = write(tmp_path, "d.yaml", "defaults:\n  tags: [nightly]\n  expect: {max_latency_ms: 500}\n"
                                     "cases:\n  - id: a\n    question: q\n    expect: {refused: true}\n")
    (case,) = load_cases([path])
    assert case.tags == ("nightly",)
    assert case.turns[0].expect.max_latency_ms == 500 and case.turns[0].expect.refused is True


def citation(n: int, doc_id: str, text: str) -> Citation:
    return Citation(n=n, doc_id=doc_id, title="t", section="", text=text, start=0, end=len(text), score=0.5)


def test_judging_and_metrics_on_hand_made_answers(tmp_path: Path) -> None:
    cases = load_cases([write(tmp_path, "m.yaml", f"""cases:
  - id: right
    question: q1
    expect: {{sources: [{A001}], contains_all: [Paris, AMI]}}
  - id: second-rank
    question: q2
    expect: {{sources: [{A001}], sources_rank_at_most: 1}}
  - id: false-refusal
    question: q3
    expect: {{sources: [{A001}]}}
  - id: oos
    question: q4
    expect: {{refused: true}}
""")])
    answers = [
        Answer("q1", "AMI Labs is in Paris. [1]", False, [citation(1, A001, "AMI Labs is in Paris. More.")]),
        Answer("q2", "Other. [1] AMI Labs is in Paris. [2]", False,
               [citation(1, "other", "Other."), citation(2, A001, "AMI Labs is in Paris.")]),
        Answer("q3", "The articles don't answer that question.", True, []),
        Answer("q4", "The articles don't answer that question.", True, []),
    ]
    pairs = zip(cases, answers, strict=True)
    results = [CaseResult(case, [judge(case.turns[0], answer, 10.0)]) for case, answer in pairs]
    assert [r.passed for r in results] == [True, False, False, True]
    assert "ranked at most 1, was 2" in results[1].reason
    assert "refused, expected an answer" in results[2].reason
    m = metrics(results, k=3)
    # A refused in-scope question is a miss at every rank: the reader got no passage.
    assert (m.hit_at_1, m.hit_at_k) == (pytest.approx(1 / 3), pytest.approx(2 / 3))
    assert m.mrr == pytest.approx((1 + 1 / 2 + 0) / 3)
    assert (m.refusal_precision, m.refusal_recall) == (0.5, 1.0)
    assert m.citation_precision == pytest.approx((1 + 0.5) / 2)


def test_answer_expectations_judge_the_answer_text_not_its_passages(tmp_path: Path) -> None:
    """A fact in the cited passage but not in the quoted sentence is a wrong answer for a reader."""
    cases = load_cases([write(tmp_path, "a.yaml", f"""cases:
  - id: stated
    question: q1
    expect: {{sources: [{A001}], answer_contains_any: [Paris, Lyon]}}
  - id: only-in-passage
    question: q2
    expect: {{sources: [{A001}], answer_contains_any: [Paris]}}
  - id: all-needed
    question: q3
    expect: {{sources: [{A001}], answer_contains_all: ["LeCun’s lab", Paris]}}
  - id: refused-in-scope
    question: q4
    expect: {{answer_contains_any: [Paris]}}
  - id: oos
    question: q5
    expect: {{refused: true}}
  - id: conversation
    turns:
      - {{question: q6, expect: {{answer_contains_any: [AMI Labs]}}}}
      - {{question: q7, expect: {{answer_contains_any: [Paris]}}}}
""")])
    passage = citation(1, A001, "LeCun left Meta. AMI Labs is in Paris.")
    answers = [
        [Answer("q1", "AMI Labs is in paris. [1]", False, [passage])],
        [Answer("q2", "LeCun left Meta. [1]", False, [passage])],  # the passage says Paris; the answer does not
        [Answer("q3", "LeCun's lab [1] is in Paris [1].", False, [passage])],  # straight quote matches curly
        [Answer("q4", "The articles don't answer that question.", True, [])],
        [Answer("q5", "The articles don't answer that question.", True, [])],
        [Answer("q6", "AMI Labs is in Paris. [1]", False, [passage]),
         Answer("q7", "LeCun left Meta. [1]", False, [passage])],
    ]
    results = [CaseResult(case, [judge(t, a, 10.0) for t, a in zip(case.turns, turn_answers, strict=True)])
               for case, turn_answers in zip(cases, answers, strict=True)]
    assert [r.passed for r in results] == [True, False, True, False, True, False]
    assert "the answer does not say any of ['Paris']" in results[1].reason
    assert "turn 2: the answer does not say any of ['Paris']" in results[5].reason
    m = metrics(results, k=3)
    # Facts named by q1, q2, q3, q4 (refused), q6 and q7: right in q1, q3 and q6.
    assert m.answer_accuracy == pytest.approx(3 / 6)
    assert m.false_refusal_rate == pytest.approx(1 / 6)  # q4, of six in-scope turns
    assert m.conversations == 0.0


def test_confidence_metrics_judge_confident_answers_on_their_text_and_count_out_of_scope_ones_wrong(
        tmp_path: Path) -> None:
    cases = load_cases([write(tmp_path, "c.yaml", """cases:
  - {id: sure-right, question: q1, expect: {answer_contains_any: [Paris]}}
  - {id: sure-wrong, question: q2, expect: {answer_contains_any: [Paris]}}
  - {id: unsure-right, question: q3, expect: {answer_contains_any: [Paris]}}
  - {id: refused, question: q4, expect: {answer_contains_any: [Paris]}}
  - {id: oos-sure, question: q5, expect: {refused: true}}
  - {id: oos-unsure, question: q6, expect: {refused: true}}
  - {id: oos-refused, question: q7, expect: {refused: true}}
""")])
    passage = citation(1, A001, "LeCun left Meta. AMI Labs is in Paris.")

    def said(text: str, confidence: float, confident: bool) -> Answer:
        return Answer("q", text, False, [passage], confidence=confidence, confident=confident)

    no = Answer("q", "The articles don't answer that question.", True, [], confidence=0.1)
    answers = [said("AMI Labs is in Paris. [1]", 0.97, True), said("LeCun left Meta. [1]", 0.96, True),
               said(f"{TENTATIVE} AMI Labs is in Paris. [1]", 0.6, False), no,
               said("LeCun left Meta. [1]", 0.95, True), said(f"{TENTATIVE} LeCun left Meta. [1]", 0.3, False), no]
    results = [CaseResult(case, [judge(case.turns[0], a, 1.0)]) for case, a in zip(cases, answers, strict=True)]
    m = metrics(results, k=3)
    assert m.confident_precision == pytest.approx(1 / 3)  # right: q1; wrong: q2, and q5 (out of scope)
    assert m.coverage == pytest.approx(2 / 4)  # q1, q2 of the four turns naming a fact
    assert m.answer_accuracy == pytest.approx(2 / 4)  # q1 and the tentative q3 say it
    assert m.out_of_scope_confident == pytest.approx(1 / 3) and m.refusal_recall == pytest.approx(1 / 3)
    suite = SuiteResult("ours", 3, results, m, 1.0)
    judged = sorted(suite.judged())
    assert judged == [(0.3, False), (0.6, True), (0.95, False), (0.96, False), (0.97, True)]  # refusals are not judged
    table = confidence_tables(suite)
    assert "  0.95-1.00          3        0.96         0.33" in table
    assert "  0.50      0.80  0.50        4" in table  # from 0.5 up: 4 of 5 answers kept, 2 of them wrong


def test_answer_support_checks_each_sentence_against_its_citation() -> None:
    passage = citation(1, A001, "AMI Labs is in Paris. It was founded by LeCun.")
    assert Answer("q", "AMI Labs is in Paris. [1]", False, [passage]).support() == 1.0
    assert Answer("q", "AMI Labs is in Paris. [1] It is in Lyon. [1]", False, [passage]).support() == 0.5
    assert Answer("q", "AMI Labs is in Paris. [2]", False, [passage]).support() == 0.0


def test_cli_pass_fail_reports_and_exit_codes(tmp_path: Path, seed_index: Path) -> None:
    suite = write(tmp_path, "suite.yaml", SUITE)
    junit, report = tmp_path / "out" / "junit.xml", tmp_path / "report.json"
    markdown = tmp_path / "report.md"
    runner = CliRunner()
    result = runner.invoke(main, ["eval", str(suite), "--index", str(seed_index), "--json", str(report),
                                  "--junit", str(junit), "--markdown", str(markdown)])
    assert result.exit_code == 1, result.output
    assert "must-fail-wrong-source  FAIL" in result.output
    assert f"expected source 002_a318584a81d60ca3, cited ['{A001}'" in result.output
    assert "2/3 cases passed" in result.output

    tree = ElementTree.parse(junit).getroot()
    assert tree.get("tests") == "3" and tree.get("failures") == "1"
    failures = {tc.get("name"): tc.find("failure") for tc in tree.iter("testcase")}
    assert failures["must-pass"] is None and failures["refuse"] is None
    assert "expected source 002_a318584a81d60ca3" in failures["must-fail-wrong-source"].get("message")

    data = json.loads(report.read_text())
    assert data["about"]["index"]["model"] == "all-MiniLM-L6-v2" and data["about"]["assistant"]
    assert data["about"]["index"]["generation"] and data["about"]["index"]["chunks"] > 30
    by_id = {c["id"]: c for c in data["cases"]}
    assert by_id["must-pass"]["passed"] and not by_id["must-fail-wrong-source"]["passed"]
    assert by_id["must-pass"]["turns"][0]["answer"]["citations"][0]["doc_id"] == A001
    assert data["metrics"]["refusal_recall"] == 1.0
    assert markdown.read_text().index("must-fail-wrong-source") < markdown.read_text().index("`must-pass`")

    assert runner.invoke(main, ["eval", str(suite), "--index", str(seed_index), "--only", "must-pass,refuse"]
                         ).exit_code == 0
    assert runner.invoke(main, ["eval", str(suite), "--index", str(seed_index), "--tags", "smoke"]).exit_code == 0
    assert runner.invoke(main, ["eval", str(suite), "--index", str(seed_index), "--min-pass-rate", "0.6"]
                         ).exit_code == 0
    bad = write(tmp_path, "bad.yaml", "cases:\n  - id: x\n")
    usage = runner.invoke(main, ["eval", str(bad), "--index", str(seed_index)])
    assert usage.exit_code == 2 and "bad.yaml:2:" in usage.output and "Traceback" not in usage.output
    assert runner.invoke(main, ["eval", str(suite), "--only", "nope", "--index", str(seed_index)]).exit_code == 2


def test_the_readmes_first_eval_command_passes(seed_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README promises its first eval command passes on a fresh clone once the index is built."""
    command = next(line.split("#")[0].strip() for line in (ROOT / "README.md").read_text().splitlines()
                   if line.strip().startswith("assistant eval evals/"))
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, [*shlex.split(command)[1:], "--index", str(seed_index)])
    assert result.exit_code == 0, result.output[-3000:]
    assert "answer accuracy" in result.output


def test_naive_engine_through_the_same_runner_and_compare(tmp_path: Path, seed_index: Path) -> None:
    suite = write(tmp_path, "suite.yaml", SUITE)
    runner = CliRunner()
    naive = runner.invoke(main, ["eval", str(suite), "--index", str(seed_index), "--engine", "naive",
                                 "--only", "refuse"])
    assert naive.exit_code == 1 and "expected a refusal" in naive.output  # the baseline never refuses
    compared = runner.invoke(main, ["eval", str(suite), "--index", str(seed_index), "--compare"])
    assert "metric" in compared.output and "ours" in compared.output and "naive" in compared.output
    assert "refuse: ours pass, naive FAIL" in compared.output


def test_starter_suite_from_the_faq(tmp_path: Path) -> None:
    out = tmp_path / "starter.yaml"
    result = CliRunner().invoke(main, ["eval", "--from-faq", str(ROOT / "seeds" / f"{A001}.txt"), "--output", str(out)])
    assert result.exit_code == 0, result.output
    cases = load_cases([out])
    assert len(cases) == 5 and all(c.turns[0].expect.sources == (A001,) for c in cases)
    assert "TODO: reword" in out.read_text()
    no_faq = CliRunner().invoke(main, ["eval", "--from-faq", str(ROOT / "seeds" / "000_4a2ecb609e50952c.txt")])
    assert no_faq.exit_code == 2 and "has no FAQ section" in no_faq.output
    # A page of a site: the expected source is the id the index gives it, its path in the site's folder.
    site = ROOT / "tests" / "site"
    nested = CliRunner().invoke(main, ["eval", "--from-faq", str(site / "docs" / "faq" / "index.html")],
                                env={"ASSISTANT_CORPUS": str(site)})
    assert nested.exit_code == 0 and "- docs/faq/index" in nested.output and "How do I find the user" in nested.output


def test_the_pytest_plugin_collects_cases_only_when_asked(pytester: pytest.Pytester, seed_index: Path) -> None:
    pytester.makefile(".yaml", suite=SUITE)
    plain = pytester.runpytest_subprocess()
    assert "no tests ran" in plain.stdout.str()
    result = pytester.runpytest_subprocess("--assistant-evals",
                                           "--assistant-index", str(seed_index), "-q")
    result.assert_outcomes(passed=2, failed=1)
    assert "expected source 002_a318584a81d60ca3" in result.stdout.str()
