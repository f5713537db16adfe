"""The eval runner: ask every case's questions (in-process, or over HTTP to a running server),
judge each answer against its `expect`, and aggregate the metrics evaluators read.

The same `Asker` interface (`ask(question, history) -> Answer`) covers our engine, the naive
llama-index baseline and a remote server, so every number is computed by one code path.
Reports (table, JSON, JUnit, Markdown) are written by `reports`; loading cases by `cases`.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from ..config import Settings
from ..errors import AssistantError, UserInputError
from ..types import CITATION_MARK, Answer, Turn
from .calibration import expected_error
from .cases import Case, CaseTurn, load_cases
from .results import CaseResult, Metrics, SuiteResult, TurnResult, with_confidence

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


class Asker(Protocol):
    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer: ...


class HttpAsker:
    """Asks a running server exactly as a user's browser or script would: POST /api/ask. When the
    server rate-limits the run (429), it waits as long as `Retry-After` says and asks again; the
    latency recorded (`timings_ms["round_trip"]`) is that of the request that was answered."""

    max_retries = 10

    def __init__(self, url: str, timeout: float = 60.0):
        import httpx

        self.url = url.rstrip("/")
        self._client = httpx.Client(timeout=timeout)
        self._warned = False

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        body = {"question": question, "history": [{"question": t.question, "answer": t.answer} for t in history]}
        for _ in range(self.max_retries):
            started = time.perf_counter()
            response = self._post(body)
            if response.status_code != 429:
                break
            wait = min(int(response.headers.get("retry-after", "5") or 5), 60)
            if not self._warned:
                self._warned = True
                print(f"{self.url} rate-limits this run (429): waiting {wait} s as it asks, and again when needed; "
                      "raise its limit (ASSISTANT_RATE_LIMIT_PER_MINUTE) for a faster run.", file=sys.stderr)
            time.sleep(wait)
        if response.status_code != 200:
            raise AssistantError(f"{self.url}/api/ask answered {response.status_code}: {_detail(response)}")
        answer = Answer.from_dict(response.json())
        answer.timings_ms["round_trip"] = (time.perf_counter() - started) * 1000
        return answer

    def _post(self, body: dict[str, Any]) -> Any:
        import httpx

        try:
            return self._client.post(f"{self.url}/api/ask", json=body)
        except httpx.HTTPError as exc:
            raise UserInputError(f"Cannot reach {self.url} ({type(exc).__name__}): is `assistant serve` running?") \
                from None

    def describe(self) -> dict[str, Any]:
        try:
            return {"url": self.url, "health": self._client.get(f"{self.url}/api/health").json()}
        except Exception as exc:  # the report still runs without the server's self-description
            return {"url": self.url, "health_error": str(exc)}


def _detail(response: Any) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text[:200]


def judge(turn: CaseTurn, answer: Answer, latency_ms: float) -> TurnResult:
    """Every check of `expect` on one answer, with the reason of each failure."""
    expect = turn.expect
    result = TurnResult(turn, answer, latency_ms, [])
    cited = [c.doc_id for c in answer.citations] if not answer.refused else []
    if expect.max_latency_ms and latency_ms > expect.max_latency_ms:
        result.failures.append(f"took {latency_ms:.0f} ms, limit {expect.max_latency_ms:.0f} ms")
    if expect.refused is True:
        if not answer.refused:
            result.failures.append(f"expected a refusal, got an answer citing {cited}")
        return result
    if expect.names_a_fact:
        result.answer_correct = False
    if answer.refused:
        if expect.refused is False or expect.sources or expect.phrases:
            wanted = f" from {', '.join(expect.sources)}" if expect.sources else ""
            result.failures.append(f"refused, expected an answer{wanted}")
        return result
    ranks = [i + 1 for i, doc in enumerate(cited) if doc in expect.sources]
    result.rank = ranks[0] if ranks else None
    missing = [s for s in expect.sources if s not in cited]
    if missing:
        result.failures.append(f"expected source {', '.join(missing)}, cited {cited}")
    limit = expect.sources_rank_at_most
    if limit and (result.rank is None or result.rank > limit):
        result.failures.append(f"expected source ranked at most {limit}, was {result.rank or 'absent'}")
    text = folded(answer_text(answer))
    haystack = text + " " + folded(" ".join(c.text for c in answer.citations))
    if expect.contains_any and not any(folded(p) in haystack for p in expect.contains_any):
        result.failures.append(f"none of {list(expect.contains_any)} in the answer or its passages")
    absent = [p for p in expect.contains_all if folded(p) not in haystack]
    if absent:
        result.failures.append(f"missing {absent} in the answer or its passages")
    states_any = not expect.answer_contains_any or any(folded(p) in text for p in expect.answer_contains_any)
    if not states_any:
        result.failures.append(f"the answer does not say any of {list(expect.answer_contains_any)}")
    unsaid = [p for p in expect.answer_contains_all if folded(p) not in text]
    if unsaid:
        result.failures.append(f"the answer does not say {unsaid}")
    if expect.names_a_fact:
        result.answer_correct = states_any and not unsaid
    present = [p for p in expect.not_contains if folded(p) in text]
    if present:
        result.failures.append(f"the answer contains {present}")
    result.citation_precision = _citation_precision(turn, answer)
    result.support = answer.support()
    return result


def answer_text(answer: Answer) -> str:
    """What the reader reads as the answer: its text without the `[n]` markers."""
    return CITATION_MARK.sub("", answer.answer)


def folded(text: str) -> str:
    """Case- and quote-insensitive form for phrase checks: ’ matches ', “ and ” match "."""
    return text.casefold().translate(_QUOTES)


def _citation_precision(turn: CaseTurn, answer: Answer) -> float | None:
    """Share of citations that belong to an expected source or contain an expected phrase."""
    expect = turn.expect
    if not answer.citations or not (expect.sources or expect.phrases):
        return None
    good = [c for c in answer.citations
            if c.doc_id in expect.sources or any(folded(p) in folded(c.text) for p in expect.phrases)]
    return len(good) / len(answer.citations)


def run_case(case: Case, asker: Asker) -> CaseResult:
    history: list[Turn] = []
    turns = []
    for turn in case.turns:
        started = time.perf_counter()
        try:
            answer = asker.ask(turn.question, history)
        except UserInputError:
            raise
        except AssistantError as exc:  # a server error fails this case, not the whole run
            turns.append(TurnResult(turn, None, 0.0, [f"error: {exc}"]))
            break
        latency = answer.timings_ms.get("round_trip", (time.perf_counter() - started) * 1000)
        turns.append(judge(turn, answer, latency))
        history.append(Turn(turn.question, answer.answer))
    return CaseResult(case, turns)


def run_suite(cases: list[Case], asker: Asker, k: int, engine: str, concurrency: int = 1,
              progress: bool = False) -> SuiteResult:
    started = time.perf_counter()
    bar = _progress_bar(len(cases), engine) if progress else None

    def one(case: Case) -> CaseResult:
        result = run_case(case, asker)
        if bar is not None:
            bar.update(1)
        return result

    if concurrency > 1:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            results = list(pool.map(one, cases))
    else:
        results = [one(case) for case in cases]
    if bar is not None:
        bar.close()
    return SuiteResult(engine, k, results, metrics(results, k), time.perf_counter() - started)


def _progress_bar(total: int, engine: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=f"eval ({engine})", unit="case", file=sys.stderr, leave=False)


def metrics(results: list[CaseResult], k: int) -> Metrics:
    turns = [t for r in results for t in r.turns]
    ranked = [t for t in turns if t.ranked]
    m = Metrics(cases=len(results), passed=sum(r.passed for r in results))
    m.pass_rate = m.passed / m.cases if m.cases else 0.0
    if ranked:
        m.hit_at_1 = sum(t.rank == 1 for t in ranked) / len(ranked)
        m.hit_at_k = sum(t.rank is not None and t.rank <= k for t in ranked) / len(ranked)
        m.mrr = sum(1 / t.rank for t in ranked if t.rank) / len(ranked)
    facts = [t.answer_correct for t in turns if t.answer_correct is not None]
    if facts:
        m.answer_accuracy = sum(facts) / len(facts)
    in_scope = [t for t in turns if t.answer is not None and t.turn.expect.refused is not True]
    if in_scope:
        m.false_refusal_rate = sum(t.answer is not None and t.answer.refused for t in in_scope) / len(in_scope)
    conversations = [r for r in results if len(r.turns) > 1 or len(r.case.turns) > 1]
    if conversations:
        m.conversations = sum(r.passed for r in conversations) / len(conversations)
    refused = [t for t in turns if t.answer is not None and t.answer.refused]
    expected = [t for t in turns if t.expected_refusal]
    if refused:
        m.refusal_precision = sum(t.expected_refusal for t in refused) / len(refused)
    if expected:
        m.refusal_recall = sum(t.answer is not None and t.answer.refused for t in expected) / len(expected)
        m.out_of_scope_confident = sum(t.answer is not None and t.answer.confident for t in expected) / len(expected)
    judged = [(t.answer, j) for t in turns if t.answer is not None and (j := t.judged) is not None]
    confident = [right for answer, (_, right) in judged if answer.confident]
    if confident:
        m.confident_precision = sum(confident) / len(confident)
    if facts:
        m.coverage = sum(t.answer is not None and t.answer.confident for t in turns
                         if t.answer_correct is not None) / len(facts)
    m.calibration_error = expected_error(with_confidence(j for _, j in judged))
    precisions = [t.citation_precision for t in turns if t.citation_precision is not None]
    supports = [t.support for t in turns if t.support is not None]
    m.citation_precision = statistics.fmean(precisions) if precisions else None
    m.answer_support = statistics.fmean(supports) if supports else None
    latencies = sorted(t.latency_ms for t in turns if t.answer is not None)
    if latencies:
        m.latency_p50_ms = _percentile(latencies, 50)
        m.latency_p95_ms = _percentile(latencies, 95)
        m.latency_max_ms = latencies[-1]
    return m


def _percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class EvalOptions:
    paths: list[Path]
    url: str | None = None
    k: int = 3
    json_out: Path | None = None
    junit_out: Path | None = None
    markdown_out: Path | None = None
    min_pass_rate: float | None = None
    only: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    concurrency: int = 1
    engine: str = "ours"
    compare: bool = False
    from_faq: Path | None = None
    output: Path | None = None

    @classmethod
    def from_cli(cls, paths: list[Path], **options: Any) -> EvalOptions:
        split = {key: [v.strip() for v in (options.get(key) or "").split(",") if v.strip()] for key in ("only", "tags")}
        return cls(paths=paths, **{**options, **split})


def select(cases: list[Case], only: list[str], tags: list[str]) -> list[Case]:
    unknown = set(only) - {c.id for c in cases}
    if unknown:
        raise UserInputError(f"No case with id {', '.join(sorted(unknown))} in the given files.")
    chosen = [c for c in cases if (not only or c.id in only) and (not tags or set(tags) & set(c.tags))]
    if not chosen:
        raise UserInputError("No case matches --only/--tags: check the ids and tags.")
    return chosen


def open_asker(engine: str, settings: Settings, url: str | None) -> tuple[Asker, dict[str, Any]]:
    from .. import __version__

    if url:
        http = HttpAsker(url)
        return http, {"assistant": __version__, "engine": "remote", **http.describe()}
    if engine == "naive":
        from .naive import NaiveAssistant

        return NaiveAssistant.open(settings), {"assistant": __version__, "engine": "naive", "model": settings.model}
    from ..engine import Assistant

    if engine == "extractive":  # ours, without the site owner's LLM
        settings = replace(settings, llm_url="")
    assistant = Assistant.open(settings)
    llm = {"llm": settings.llm_model or "default"} if settings.llm_url else {}
    return assistant, {"assistant": __version__, "engine": engine, "model": settings.model, **llm,
                       "index": assistant.health()}


def run(options: EvalOptions, settings: Settings) -> int:
    """The `assistant eval` command; returns its exit code."""
    from . import reports

    if options.from_faq is not None:
        reports.write_starter_suite(options.from_faq, settings, options.output)
        return 0
    if options.k < 1 or options.concurrency < 1:
        raise UserInputError("--k and --concurrency must be at least 1.")
    if not options.paths:
        raise UserInputError("Give eval files or folders, e.g. `assistant eval evals/`.")
    cases = select(load_cases(options.paths), options.only, options.tags)
    # --compare: with an LLM configured, its answers beside the extractive ones; else ours beside naive.
    engines = [options.engine] if not options.compare else ["llm", "extractive"] if settings.llm_url \
        else ["ours", "naive"]
    suites = []
    for engine in engines:
        asker, about = open_asker(engine, settings, options.url)
        asker.ask(cases[0].turns[0].question)  # warm-up (model load, first connection): not timed
        suite = run_suite(cases, asker, options.k, engine, options.concurrency,
                          progress=len(cases) > 10 and sys.stderr.isatty())
        suite.about = about
        suites.append(suite)
    out = sys.stdout
    if options.compare:
        out.write(reports.comparison(suites))
    else:
        out.write(reports.table(suites[0]))
    main = suites[0]
    if options.json_out:
        reports.write_json(main if not options.compare else suites, options.json_out)
    if options.junit_out:
        reports.write_junit(main, options.junit_out)
    if options.markdown_out:
        reports.write_markdown(main, options.markdown_out)
    threshold = options.min_pass_rate
    ok = main.metrics.pass_rate >= threshold if threshold is not None else main.metrics.passed == main.metrics.cases
    return 0 if ok else 1
