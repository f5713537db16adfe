"""Engine timings: ingest of seeds/ (cold and unchanged re-run), one-shot `assistant ask` wall time,
and warm per-question latency in the stdin mode. Prints medians and ratios against a baseline
measured in the same run; never fails on a timing.

    python bench/bench_engine.py [--runs 3] [--questions 100]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSISTANT = [sys.executable, "-m", "assistant.cli"]
QUESTIONS = [
    "Where is AMI Labs based?",
    "What exactly are world models?",
    "How many hours has a four-year-old been awake?",
    "What did LeCun tell students on X in 2024?",
    "Why does Meta keep investing in LLMs?",
    "How much does it cost to train a model like GPT-4?",
    "Who won the 2022 World Cup?",
    "What happens to LeCun's research team at Meta?",
    "How much text is a large language model trained on?",
    "What is the sunk cost fallacy in this context?",
]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def wall(command: list[str], **kwargs: object) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=ENV, cwd=ROOT, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - started


@contextmanager
def seed_index() -> Iterator[Path]:
    """An index of seeds/ built by `assistant ingest` in a temporary folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp())
    index = folder / "index"
    subprocess.run([*ASSISTANT, "ingest", "seeds", "--index", str(index)], check=True, env=ENV, cwd=ROOT,
                   capture_output=True)
    try:
        yield index
    finally:
        shutil.rmtree(folder)


def on_seed_index(index: Path | None, run: Callable[[Path], None]) -> None:
    """`run` on the given index, or on a temporary index of seeds/ built for it."""
    if index:
        run(index)
    else:
        with seed_index() as built:
            run(built)


def import_baseline(runs: int) -> float:
    """The unavoidable part of any command that embeds: importing torch and sentence-transformers."""
    return statistics.median(wall([sys.executable, "-c", "import torch, sentence_transformers"]) for _ in range(runs))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def warm_latencies(ask: Callable[[str], object], count: int) -> list[float]:
    """Milliseconds of `count` calls of `ask` over QUESTIONS in turn, after one warm-up round."""
    for q in QUESTIONS:
        ask(q)
    latencies = []
    for i in range(count):
        started = time.perf_counter()
        ask(QUESTIONS[i % len(QUESTIONS)])
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def bench_ingest(runs: int) -> str:
    cold, unchanged = [], []
    for _ in range(runs):
        index = Path(tempfile.mkdtemp()) / "index"
        cold.append(wall([*ASSISTANT, "ingest", "seeds", "--index", str(index)]))
        unchanged.append(wall([*ASSISTANT, "ingest", "seeds", "--index", str(index)]))
        shutil.rmtree(index.parent)
    baseline = import_baseline(runs)
    return (
        f"ingest seeds/ cold:       median {statistics.median(cold):6.2f} s  "
        f"({statistics.median(cold) / baseline:4.1f}x the bare torch+sentence-transformers import, {baseline:.2f} s)\n"
        f"ingest seeds/ unchanged:  median {statistics.median(unchanged):6.2f} s  "
        f"({statistics.median(unchanged) / baseline:4.1f}x that import)"
    )


NAIVE_ONE_SHOT = """
import sys
from pathlib import Path
from assistant.config import Settings
from assistant.evals.naive import NaiveAssistant
print(NaiveAssistant.open(Settings.load(overrides={"corpus": (Path("seeds"),)})).ask(sys.argv[1]).answer)
"""


def bench_one_shot(index: Path, runs: int) -> str:
    times = [wall([*ASSISTANT, "ask", QUESTIONS[i % len(QUESTIONS)], "--index", str(index)]) for i in range(runs)]
    naive = [wall([sys.executable, "-c", NAIVE_ONE_SHOT, QUESTIONS[i % len(QUESTIONS)]]) for i in range(runs)]
    help_times = [wall([*ASSISTANT, "--help"]) for _ in range(runs)]
    baseline = import_baseline(runs)
    return (
        f"one-shot `assistant ask`: median {statistics.median(times):6.2f} s  "
        f"({statistics.median(times) / baseline:4.1f}x the bare import, {baseline:.2f} s); naive llama-index "
        f"(VectorStoreIndex defaults, same MiniLM, its in-memory index of seeds/ built at start): median "
        f"{statistics.median(naive):.2f} s; `assistant --help` median {statistics.median(help_times) * 1000:.0f} ms"
    )


def bench_stdin(index: Path, count: int) -> str:
    proc = subprocess.Popen([*ASSISTANT, "ask", "--json", "-", "--index", str(index)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    assert proc.stdin is not None and proc.stdout is not None
    latencies, engine = [], []
    for i in range(count + 5):
        started = time.perf_counter()
        proc.stdin.write(QUESTIONS[i % len(QUESTIONS)] + "\n")
        proc.stdin.flush()
        answer = json.loads(proc.stdout.readline())
        if i >= 5:  # the first answers include the model load and warm-up
            latencies.append((time.perf_counter() - started) * 1000)
            engine.append(answer["timings_ms"]["total"])
    proc.stdin.close()
    proc.wait()
    return (
        f"stdin mode, warm, {count} questions: round trip p50 {percentile(latencies, 50):.1f} ms, "
        f"p95 {percentile(latencies, 95):.1f} ms; inside the engine p50 {percentile(engine, 50):.1f} ms, "
        f"p95 {percentile(engine, 95):.1f} ms"
    )


def bench_in_process(index: Path, count: int) -> str:
    sys.path.insert(0, str(ROOT))
    from assistant.answering.retrieve import CANDIDATES, SENTENCE_CANDIDATES
    from assistant.config import Settings
    from assistant.engine import Assistant

    assistant = Assistant.open(Settings.load(overrides={"index_dir": index}))
    embedder = assistant.index.embedder
    for q in QUESTIONS:
        assistant.ask(q)
    asks, embeds, searches = [], [], []
    for i in range(count):
        q = QUESTIONS[i % len(QUESTIONS)]
        started = time.perf_counter()
        vector = embedder.embed([q])[0]
        embeds.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        assistant.index.dense(vector, CANDIDATES)  # the two nearest-neighbour searches every question makes
        assistant.index.nearest_sentences(vector, SENTENCE_CANDIDATES)
        searches.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        assistant.ask(q)
        asks.append((time.perf_counter() - started) * 1000)
    from assistant.evals.naive import NaiveAssistant

    naive_asks = warm_latencies(NaiveAssistant.open(Settings.load(overrides={"corpus": (ROOT / "seeds",)})).ask,
                                count)
    ratio = statistics.median(asks) / statistics.median(embeds)
    return (
        f"in-process Assistant.ask, warm: p50 {percentile(asks, 50):.1f} ms, p95 {percentile(asks, 95):.1f} ms; "
        f"{ratio:.1f}x the bare query embedding (p50 {percentile(embeds, 50):.1f} ms) in the same process, "
        f"whose two bare Chroma searches take p50 {percentile(searches, 50):.1f} ms; "
        f"naive llama-index in the same process: p50 {percentile(naive_asks, 50):.1f} ms, "
        f"p95 {percentile(naive_asks, 95):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--questions", type=int, default=100)
    args = parser.parse_args()
    print(bench_ingest(args.runs), flush=True)
    with seed_index() as index:
        print(bench_one_shot(index, args.runs), flush=True)
        print(bench_stdin(index, args.questions), flush=True)
        print(bench_in_process(index, args.questions), flush=True)


if __name__ == "__main__":
    main()
