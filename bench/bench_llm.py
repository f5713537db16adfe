"""A site owner's LLM behind the grounding check, on real questions: every first question of the
seeds' suites, and the Python docs' own FAQ questions asked word for word (Debian's python3.11-doc,
never downloaded). For each answer: who wrote it, the sentences the LLM wrote, kept and dropped, and
every sentence shown checked again from scratch (`GroundingCheck.audit`: must be 0 failures).

    python bench/bench_llm.py --llm-url http://127.0.0.1:8080/v1 [--llm-model NAME] [--limit 40] [--show 10]

Start an endpoint first, e.g. the tests' (`python -m llama_cpp.server --model X.gguf --port 8080`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answering.grounding import GroundingCheck  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.engine import Assistant  # noqa: E402
from assistant.evals.cases import load_cases  # noqa: E402
from assistant.ingest.pipeline import ingest  # noqa: E402

DOCS = Path("/usr/share/doc/python3.11/html")


def run(label: str, assistant: Assistant, questions: list[str], show: int) -> None:
    check = GroundingCheck(assistant.index)
    rows, seconds, failures, shown = [], [], 0, 0
    for question in questions:
        started = time.perf_counter()
        answer = assistant.ask(question)
        seconds.append(time.perf_counter() - started)
        rows.append(answer)
        failures += len(check.audit(answer, assistant.retrieve(question))) if answer.grounding and \
            answer.grounding.answerer == "llm" else 0
        if shown < show and answer.grounding and answer.grounding.dropped:
            shown += 1
            print(f"  {question}\n    answer ({answer.grounding.answerer}): {answer.quoted[:200]}\n"
                  f"    dropped: {answer.grounding.dropped[:2]}")
    asked = [a for a in rows if not a.refused]
    llm = [a for a in rows if a.grounding and a.grounding.answerer == "llm"]
    generated = sum(a.grounding.generated for a in rows if a.grounding)
    kept = sum(a.grounding.kept for a in rows if a.grounding)
    print(f"\n{label}: {len(rows)} questions, {len(rows) - len(asked)} refused (LLM not asked), "
          f"{len(llm)} answered by the LLM, {len(asked) - len(llm)} fell back to the extractive answer")
    print(f"  sentences written {generated}, kept {kept} ({kept / generated if generated else 0:.2f}), "
          f"shown sentences failing a fresh check: {failures}")
    print(f"  seconds per question: median {statistics.median(seconds):.1f}, max {max(seconds):.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm-url", required=True)
    parser.add_argument("--llm-model", default="")
    parser.add_argument("--limit", type=int, default=40, help="questions per corpus at most")
    parser.add_argument("--show", type=int, default=5, help="answers with dropped sentences to print")
    args = parser.parse_args()
    llm = {"llm_url": args.llm_url, "llm_model": args.llm_model, "llm_timeout_seconds": 120, "llm_retries": 0}
    with tempfile.TemporaryDirectory() as tmp:
        seeds = Settings.load(overrides={"index_dir": Path(tmp) / "seeds", "corpus": (ROOT / "seeds",), **llm})
        ingest(seeds)
        cases = load_cases([ROOT / "evals" / "seeds.yaml", ROOT / "evals" / "faq.yaml"])
        run("seeds' suites", Assistant.open(seeds), [c.turns[0].question for c in cases][: args.limit], args.show)
        docs = Settings.load(overrides={"index_dir": Path(tmp) / "docs", "corpus": (DOCS,),
                                        "include": ("faq/*",), **llm})
        ingest(docs)
        assistant = Assistant.open(docs)
        run("python docs FAQ", assistant, [e.question for e in assistant.faq()][: args.limit], args.show)


if __name__ == "__main__":
    main()
