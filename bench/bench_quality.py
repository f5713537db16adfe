"""Answer quality, ours beside the naive llama-index pipeline (defaults: default chunking, dense only,
the same model, top 3), scored by the same runner and metrics on the same suite, and the time the
suite takes in each mode: in-process and over HTTP against a real `assistant serve`.

    python bench/bench_quality.py [SUITE ...]      (default: evals/dev-frozen.yaml, the honest figure)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench_engine import ROOT, seed_index
from bench_http import start_server, stop

sys.path.insert(0, str(ROOT))
from assistant.config import Settings  # noqa: E402
from assistant.evals import reports  # noqa: E402
from assistant.evals.cases import Case, load_cases  # noqa: E402
from assistant.evals.results import SuiteResult  # noqa: E402
from assistant.evals.runner import open_asker, run_suite  # noqa: E402

K = 3


def score(engine: str, settings: Settings, cases: list[Case], url: str | None = None) -> SuiteResult:
    asker, about = open_asker(engine, settings, url)
    asker.ask(cases[0].turns[0].question)  # warm-up, not timed (as `assistant eval` does)
    suite = run_suite(cases, asker, K, "ours over HTTP" if url else engine)
    suite.about = about
    return suite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suites", nargs="*", type=Path, default=[ROOT / "evals/dev-frozen.yaml"])
    args = parser.parse_args()
    cases = load_cases(args.suites)
    with seed_index() as index:
        settings = Settings.load(overrides={"index_dir": index, "corpus": (ROOT / "seeds",)})
        suites = [score("ours", settings, cases), score("naive", settings, cases)]
        proc, url, _ = start_server(index)
        try:
            suites.append(score("ours", settings, cases, url))
        finally:
            stop(proc)
    print(f"{len(cases)} cases from {', '.join(str(p.relative_to(ROOT)) for p in args.suites)}; k={K}\n")
    print(reports.comparison(suites), end="")
    print("\nseconds for the whole suite: " + ", ".join(f"{s.engine} {s.seconds:.1f} s" for s in suites))


if __name__ == "__main__":
    main()
