"""Load and soak, over loopback only, bounded in time: 1, 10 and 50 concurrent clients against a real
`assistant serve` on the seed index, each client taking turns at a single question (`POST
/api/ask`), a follow-up with its history (`POST /api/ask`), and the chat page's own route (Gradio's
queue, as a browser takes it, streamed to its end). Per kind: answers/s, p50/p95/p99 latency, errors; the server's peak
RSS. Then a soak: 10 clients for --soak seconds, the server's RSS sampled every 10 s. Prints
figures; never fails on a timing.

    python bench/bench_load.py [--clients 1,10,50] [--seconds 30] [--soak 600]
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import defaultdict
from collections.abc import Callable

import httpx
from bench_engine import QUESTIONS, percentile, seed_index
from bench_http import start_server, stop
from bench_scale import rss_mb
from webserver import ask_on_the_page

FOLLOW_UP = {"history": [{"question": "What did LeCun start after quitting Meta?",
                          "answer": "The Turing Award winner left to start AMI Labs. [1]"}],
             "question": "Where is it based?"}


def single(http: httpx.Client, n: int) -> bool:
    return http.post("/api/ask", json={"question": QUESTIONS[n % len(QUESTIONS)]}).status_code == 200


def follow_up(http: httpx.Client, n: int) -> bool:
    return http.post("/api/ask", json=FOLLOW_UP).status_code == 200


def chat_page(http: httpx.Client, n: int) -> bool:
    status, completed = ask_on_the_page(http, QUESTIONS[n % len(QUESTIONS)])
    return status == 200 and bool(completed.get("success"))


KINDS: dict[str, Callable[[httpx.Client, int], bool]] = {"question": single, "follow-up": follow_up,
                                                         "chat page": chat_page}


def load(url: str, clients: int, seconds: float) -> tuple[dict[str, list[float]], dict[str, int], float]:
    """Latencies (ms) and error counts per kind, and the wall seconds taken."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(i: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            n = i
            while time.monotonic() < deadline:
                kind = list(KINDS)[n % len(KINDS)]
                started = time.perf_counter()
                try:
                    ok = KINDS[kind](http, n)
                except httpx.HTTPError:
                    ok = False
                with lock:
                    latencies[kind].append((time.perf_counter() - started) * 1000)
                    errors[kind] += not ok
                n += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.monotonic() - started


def report(clients: int, latencies: dict[str, list[float]], errors: dict[str, int], elapsed: float) -> str:
    lines = [f"== {clients} client{'s' if clients > 1 else ''}, {elapsed:.0f} s =="]
    for kind, values in latencies.items():
        lines.append(f"{kind:10s}: {len(values) / elapsed:6.1f}/s, p50 {percentile(values, 50):7.1f} ms, "
                     f"p95 {percentile(values, 95):7.1f} ms, p99 {percentile(values, 99):7.1f} ms, "
                     f"{errors[kind]} errors of {len(values)}")
    return "\n".join(lines)


def soak(url: str, pid: int, seconds: float) -> str:
    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        started = time.monotonic()
        while not done.wait(10):
            samples.append((time.monotonic() - started, rss_mb(pid)))

    sampler = threading.Thread(target=sample)
    sampler.start()
    latencies, errors, elapsed = load(url, 10, seconds)
    done.set()
    sampler.join()
    minute = max(1, len(samples) // max(1, int(seconds / 60)))
    first, last = samples[:minute], samples[-minute:]
    start_mb, end_mb = (sum(mb for _, mb in s) / len(s) for s in (first, last))
    answers = sum(len(v) for v in latencies.values())
    return (f"== soak: 10 clients, {elapsed:.0f} s, {answers} answers, {sum(errors.values())} errors ==\n"
            f"server RSS, mean of the first minute {start_mb:.0f} MB, of the last {end_mb:.0f} MB "
            f"({end_mb - start_mb:+.0f} MB); samples every 10 s: "
            + " ".join(f"{mb:.0f}" for _, mb in samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="1,10,50")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--soak", type=float, default=600, help="seconds of the soak; 0 skips it")
    args = parser.parse_args()
    with seed_index() as index:
        proc, url, _ = start_server(index)
        try:
            for clients in (int(c) for c in args.clients.split(",")):
                print(report(clients, *load(url, clients, args.seconds)), flush=True)
                print(f"server RSS {rss_mb(proc.pid):.0f} MB, peak {rss_mb(proc.pid, 'VmHWM'):.0f} MB", flush=True)
            if args.soak:
                print(soak(url, proc.pid, args.soak), flush=True)
        finally:
            stop(proc)


if __name__ == "__main__":
    main()
