"""Eval reports: the terminal table, the side-by-side comparison, JSON, JUnit XML and Markdown,
plus the starter suite written from an article's FAQ. Formatting only: the numbers come from
`evaluate`."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from ..config import Settings
from ..errors import UserInputError
from ..types import Answer
from .calibration import calibration_table, risk_coverage
from .results import CaseResult, Metrics, SuiteResult

_METRIC_LABELS = {
    "pass_rate": "pass rate", "answer_accuracy": "answer accuracy", "hit_at_1": "hit@1", "hit_at_k": "hit@k",
    "mrr": "MRR", "refusal_precision": "refusal precision", "refusal_recall": "refusal recall",
    "false_refusal_rate": "false refusal rate", "confident_precision": "confident precision",
    "coverage": "coverage (confident)", "out_of_scope_confident": "out of scope, confident",
    "calibration_error": "calibration error", "conversations": "conversations passed",
    "citation_precision": "citation precision", "answer_support": "answer support",
    "latency_p50_ms": "latency p50 (ms)", "latency_p95_ms": "latency p95 (ms)", "latency_max_ms": "latency max (ms)",
}


def _value(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f}" if value >= 10 else f"{value:.2f}"


def _cited(result: CaseResult) -> str:
    """What each turn cited, in order ("refused" for a refusal, "-" for a turn that got no answer)."""
    def one(answer: Answer | None) -> str:
        if answer is None:
            return "-"
        return "refused" if answer.refused else ",".join(dict.fromkeys(c.doc_id for c in answer.citations))

    return " | ".join(one(t.answer) for t in result.turns) or "-"


def table(suite: SuiteResult) -> str:
    width = max([len(r.case.id) for r in suite.results] + [4])
    cited_width = max([len(_cited(r)) for r in suite.results] + [5])
    lines = [f"{'case':<{width}}  verdict  {'cited':<{cited_width}}  why"]
    for result in sorted(suite.results, key=lambda r: r.passed):
        verdict = "pass" if result.passed else "FAIL"
        lines.append(f"{result.case.id:<{width}}  {verdict:<7}  {_cited(result):<{cited_width}}  {result.reason}")
    lines.append("")
    lines.append(summary(suite))
    return "\n".join(lines) + "\n"


def summary(suite: SuiteResult) -> str:
    m = suite.metrics
    parts = [f"{m.passed}/{m.cases} cases passed ({suite.engine}, k={suite.k}, {suite.seconds:.1f} s)"]
    parts += [f"{label}: {_value(getattr(m, key))}" for key, label in _METRIC_LABELS.items()]
    return "\n".join(parts + confidence_tables(suite))


def confidence_tables(suite: SuiteResult) -> list[str]:
    """The calibration and risk-coverage tables of the suite's judged answers (none without confidences)."""
    judged = suite.judged()
    if not judged:
        return []
    lines = ["", f"calibration ({len(judged)} judged answers: turns naming a fact, or out of scope)",
             "  confidence   answers  mean conf.  share right"]
    lines += [f"  {b.low:.2f}-{b.high:.2f}  {b.answers:>9}  {_value(b.mean_confidence):>10}"
              f"  {_value(b.share_right):>11}" for b in calibration_table(judged)]
    lines += ["", "risk-coverage (answering only from a confidence cut)", "  cut   coverage  risk  answers"]
    lines += [f"  {o.cut:.2f}  {o.coverage:>8.2f}  {_value(o.risk):>4}  {o.kept:>7}" for o in risk_coverage(judged)]
    return lines


def comparison(suites: list[SuiteResult]) -> str:
    names = [s.engine for s in suites]
    w = max([10] + [len(n) + 2 for n in names])
    lines = [f"{'metric':<20}" + "".join(f"{n:>{w}}" for n in names)]
    for key, label in _METRIC_LABELS.items():
        lines.append(f"{label:<20}" + "".join(f"{_value(getattr(s.metrics, key)):>{w}}" for s in suites))
    lines.append(f"{'cases passed':<20}" + "".join(f"{f'{s.metrics.passed}/{s.metrics.cases}':>{w}}" for s in suites))
    lines.append(f"{'seconds':<20}" + "".join(f"{s.seconds:>{w}.1f}" for s in suites))
    verdicts = {r.case.id: [r.passed] for r in suites[0].results}
    for other in suites[1:]:
        for r in other.results:
            verdicts[r.case.id].append(r.passed)
    differing = [case_id for case_id, v in verdicts.items() if len(set(v)) > 1]
    lines.append("")
    lines.append(f"cases where they differ ({len(differing)}):")
    for case_id in differing:
        lines.append(f"  {case_id}: " + ", ".join(f"{n} {'pass' if p else 'FAIL'}" for n, p in
                                                   zip(names, verdicts[case_id], strict=True)))
    return "\n".join(lines) + "\n"


def _suite_dict(suite: SuiteResult) -> dict[str, Any]:
    return {
        "engine": suite.engine,
        "k": suite.k,
        "seconds": round(suite.seconds, 3),
        "about": suite.about,
        "metrics": asdict(suite.metrics),
        "calibration": [asdict(b) for b in calibration_table(suite.judged())],
        "risk_coverage": [asdict(o) for o in risk_coverage(suite.judged())],
        "cases": [
            {
                **r.case.to_dict(),
                "passed": r.passed,
                "reason": r.reason,
                "turns": [{
                    "question": t.turn.question,
                    "failures": t.failures,
                    "latency_ms": round(t.latency_ms, 2),
                    "rank": t.rank,
                    "citation_precision": t.citation_precision,
                    "answer_support": t.support,
                    "answer_correct": t.answer_correct,
                    "answer": t.answer.to_dict() if t.answer else None,
                } for t in r.turns],
            } for r in suite.results
        ],
    }


def write_json(suites: SuiteResult | list[SuiteResult], path: Path) -> None:
    data: Any = [_suite_dict(s) for s in suites] if isinstance(suites, list) else _suite_dict(suites)
    _write(path, json.dumps(data, indent=2, ensure_ascii=False))


def write_junit(suite: SuiteResult, path: Path) -> None:
    m = suite.metrics
    root = ElementTree.Element("testsuite", name=f"assistant-eval-{suite.engine}", tests=str(m.cases),
                               failures=str(m.cases - m.passed), time=f"{suite.seconds:.3f}")
    for result in suite.results:
        case = ElementTree.SubElement(root, "testcase", classname=result.case.where.rsplit(":", 1)[0] or "eval",
                                      name=result.case.id,
                                      time=f"{sum(t.latency_ms for t in result.turns) / 1000:.3f}")
        if not result.passed:
            failure = ElementTree.SubElement(case, "failure", message=result.reason[:500])
            failure.text = result.reason
    properties = ElementTree.Element("properties")
    for f in fields(Metrics):
        ElementTree.SubElement(properties, "property", name=f.name, value=str(getattr(m, f.name)))
    root.insert(0, properties)
    _write(path, ElementTree.tostring(root, encoding="unicode", xml_declaration=True))


def write_markdown(suite: SuiteResult, path: Path) -> None:
    m = suite.metrics
    lines = [f"# Eval report ({suite.engine})", "",
             f"**{m.passed}/{m.cases} cases passed** in {suite.seconds:.1f} s.", "",
             "| metric | value |", "|---|---|"]
    lines += [f"| {label} | {_value(getattr(m, key))} |" for key, label in _METRIC_LABELS.items()]
    lines += ["", "```", *confidence_tables(suite)[1:], "```"] if suite.judged() else []
    lines += ["", "## Cases (failures first)", "", "| case | verdict | cited | why |", "|---|---|---|---|"]
    for result in sorted(suite.results, key=lambda r: r.passed):
        why = result.reason.replace("|", "\\|")
        lines.append(f"| `{result.case.id}` | {'pass' if result.passed else '**FAIL**'} | {_cited(result)} | {why} |")
    _write(path, "\n".join(lines) + "\n")


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserInputError(f"Cannot write the report {path} ({exc.strerror or exc}).") from None


def write_starter_suite(article_path: Path, settings: Settings, output: Path | None) -> None:
    """A suite with one case per FAQ entry of the article: the expected source filled in, the
    question left as written (rewording it is the evaluator's job)."""
    import sys

    import yaml

    from ..ingest.articles import UnreadableArticle, discover, read_article
    from ..ingest.chunking import chunk_article

    if not article_path.is_file():
        raise UserInputError(f"{article_path} is not a file: give one article with a FAQ section.")
    # The id the index gives it: its path in the configured folder that holds it, else its name.
    resolved = article_path.resolve()
    roots = [r for r in settings.corpus if r.is_dir() and r.resolve() in resolved.parents]
    ids = {path.resolve(): doc_id for root in roots[:1] for doc_id, path in discover([root])}
    try:
        article = read_article(article_path, ids.get(resolved, ""))
    except UnreadableArticle as exc:
        raise UserInputError(f"{article_path} cannot be used: {exc}.") from None
    faq = [c for c in chunk_article(article, settings) if c.kind == "faq"]
    if not faq:
        raise UserInputError(f"{article_path} has no FAQ section (a 'Frequently Asked Questions' heading "
                             "or 'Q:' lines).")
    cases = []
    for i, chunk in enumerate(faq, start=1):
        answer = chunk.text.split("\n", 1)[-1].strip()
        phrase = " ".join(answer.split()[:4]).rstrip(".,;:")
        cases.append({"id": f"{article.doc_id[:12]}-faq-{i}", "question": chunk.section,
                      "expect": {"sources": [article.doc_id], "contains_any": [phrase]}, "tags": ["faq"]})
    header = (f"# Starter suite from the FAQ of {article_path.name}.\n"
              "# TODO: reword each question the way a reader would ask it; the FAQ's own wording is too easy.\n")
    text = header + yaml.safe_dump({"cases": cases}, sort_keys=False, allow_unicode=True, width=100)
    if output is None:
        sys.stdout.write(text)
    else:
        _write(output, text)
