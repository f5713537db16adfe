"""HTTP timings: `POST /api/ask` on loopback, warm, beside the engine's in-process latency measured in
the same run (same questions), and the time from starting `assistant serve` to its first
successful answer (index already built). Prints medians and percentiles; never fails on a timing.

    python bench/bench_http.py [--requests 200] [--starts 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from bench_engine import ASSISTANT, ENV, QUESTIONS, ROOT, import_baseline, percentile, seed_index, warm_latencies

sys.path.insert(0, str(ROOT / "tests"))
from webserver import free_port  # noqa: E402

SERVE_ENV = {**ENV, "ASSISTANT_RATE_LIMIT_PER_MINUTE": "1000000"}


def start_server(index: Path) -> tuple[subprocess.Popen[bytes], str, float]:
    """A running `assistant serve`, its URL, and the seconds until its first answer."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    proc = subprocess.Popen([*ASSISTANT, "serve", "--index", str(index), "--port", str(port)], env=SERVE_ENV,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            if httpx.post(f"{url}/api/ask", json={"question": QUESTIONS[0]}, timeout=30).status_code == 200:
                return proc, url, time.perf_counter() - started
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("assistant serve exited before answering")
        time.sleep(0.02)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def bench_startup(index: Path, starts: int) -> str:
    times = []
    for _ in range(starts):
        proc, _, seconds = start_server(index)
        times.append(seconds)
        stop(proc)
    baseline = import_baseline(starts)
    return (f"`assistant serve` to first answer: median {statistics.median(times):5.2f} s over {starts} starts "
            f"({statistics.median(times) / baseline:4.1f}x the bare torch+sentence-transformers import, "
            f"{baseline:.2f} s)")


def bench_requests(index: Path, count: int) -> str:
    """HTTP first, then in-process, in separate blocks: two processes alternating would each find
    the other's torch threads still spinning on the two cores."""
    proc, url, _ = start_server(index)
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            for q in QUESTIONS:
                client.post("/api/ask", json={"question": q}).raise_for_status()
            http, overhead = [], []
            for i in range(count):
                started = time.perf_counter()
                response = client.post("/api/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]})
                response.raise_for_status()
                http.append((time.perf_counter() - started) * 1000)
                overhead.append(http[-1] - response.json()["timings_ms"]["total"])
    finally:
        stop(proc)
    sys.path.insert(0, str(ROOT))
    from assistant.config import Settings
    from assistant.engine import Assistant

    local = warm_latencies(Assistant.open(Settings.load(overrides={"index_dir": index})).ask, count)
    return (
        f"POST /api/ask, warm, {count} sequential requests: p50 {percentile(http, 50):.1f} ms, "
        f"p95 {percentile(http, 95):.1f} ms; HTTP overhead per request (round trip minus the engine's own "
        f"time in the server) p50 {percentile(overhead, 50):.1f} ms, p95 {percentile(overhead, 95):.1f} ms\n"
        f"in-process Assistant.ask, same questions: p50 {percentile(local, 50):.1f} ms, "
        f"p95 {percentile(local, 95):.1f} ms (HTTP p50 is {percentile(http, 50) / percentile(local, 50):.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    with seed_index() as index:
        print(bench_startup(index, args.starts), flush=True)
        print(bench_requests(index, args.requests), flush=True)

if __name__ == "__main__":
    main()
