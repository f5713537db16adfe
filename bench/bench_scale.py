"""Scale: what a growing index costs, on real text Debian ships (never downloaded): the Python 3.11
HTML docs (`apt-get install python3.11-doc`), then the READMEs, text docs and changelogs of every
package under /usr/share/doc, taken in a fixed order until the corpus reaches each size.

For each size, in the embedded store (and with --server, against a `chroma run` this script starts
on loopback):
- ingest: wall time, chunks/s, peak RSS; then one changed file re-ingested (wall time);
- a fresh process: time to open the index, its first question, the other questions asked once (p50),
  then all of them asked again (warm p50/p95);
- `assistant serve`: seconds to its first answer, RSS after the questions; with --clients N,
  N concurrent clients over POST /api/ask for --seconds: answers/s, errors, and the CPU time the
  server and the clients spent per answer (which bounds answers/s on this machine's cores).
Prints figures; never fails on a timing.

    python bench/bench_scale.py [--sizes 1000,10000] [--server] [--clients 32 --seconds 60] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from webserver import free_port  # noqa: E402

PYTHON_DOCS = Path("/usr/share/doc/python3.11/html")
DEBIAN_DOCS = Path("/usr/share/doc")
ASSISTANT = [sys.executable, "-m", "assistant.cli"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ASSISTANT_RATE_LIMIT_PER_MINUTE": "1000000"}
QUESTIONS = [
    "How do I make a copy of a list?",
    "What does the global statement do?",
    "How can I read a file line by line?",
    "What is a virtual environment for?",
    "Why are default argument values shared between calls?",
    "How do I sort a list of objects by an attribute?",
    "What happens when an exception is not handled?",
    "How do I report a bug in a Debian package?",
    "What license is this package distributed under?",
    "What changed in the latest upload?",
    "Who is the mayor of Paris?",
    "How do I format a number with thousands separators?",
]


def sources() -> list[tuple[str, Path]]:
    """(article path in the corpus, source file), in a fixed order: Python docs first."""
    found = [(f"python/{p.relative_to(PYTHON_DOCS)}", p) for p in sorted(PYTHON_DOCS.rglob("*.html"))
             if not any(part.startswith(("_", ".")) for part in p.relative_to(PYTHON_DOCS).parts)]
    for package in sorted(DEBIAN_DOCS.iterdir()):
        if package.name.startswith("python3.11") or not package.is_dir():
            continue
        for p in sorted(package.rglob("*")):
            name = p.name.lower()
            if p.is_file() and (name.startswith(("readme", "changelog", "news")) or name.endswith((".txt", ".md"))):
                found.append((f"debian/{p.relative_to(DEBIAN_DOCS)}", p))
    return found


def build_corpus(folder: Path, size: int) -> int:
    """Copy sources into `folder` until their chunks reach `size`; returns the chunk count."""
    from assistant.config import Settings
    from assistant.ingest.articles import UnreadableArticle, read_article
    from assistant.ingest.chunking import chunk_article

    settings = Settings.load(environ={})
    total = 0
    for relative, source in sources():
        data = gzip.decompress(source.read_bytes()) if source.suffix == ".gz" else source.read_bytes()
        target = folder / relative
        if source.suffix == ".gz":
            target = target.with_suffix("")
        if target.suffix not in {".html", ".md", ".txt"}:
            target = target.with_name(target.name + ".txt")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        try:
            total += len(chunk_article(read_article(target, target.relative_to(folder).with_suffix("").as_posix()),
                                       settings))
        except UnreadableArticle:
            target.unlink()
        if total >= size:
            return total
    return total


def run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a command run to completion."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{err}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - started, usage.ru_maxrss / 1024


PROBE = """
import json, resource, sys, time
t = time.perf_counter()
from assistant.config import Settings
from assistant.engine import Assistant
assistant = Assistant.open(Settings.load(overrides={"index_dir": sys.argv[1]}))
opened = time.perf_counter() - t
questions = json.loads(sys.argv[2])
times = []
for q in questions * 4:
    s = time.perf_counter(); assistant.ask(q); times.append((time.perf_counter() - s) * 1000)
n = len(questions)
print(json.dumps({"open_s": opened, "first_ms": times[0], "new_ms": times[1:n], "warm_ms": times[n:],
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def probe(index: Path, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", PROBE, str(index), json.dumps(QUESTIONS)], env=env, cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    data = json.loads(out)
    warm = sorted(data["warm_ms"])
    return {"open_s": data["open_s"], "first_ms": data["first_ms"], "new_p50": statistics.median(data["new_ms"]),
            "p50": statistics.median(warm), "p95": warm[int(0.95 * (len(warm) - 1))], "rss_mb": data["rss_mb"]}


def serve(index: Path, env: dict[str, str], clients: int, seconds: float) -> dict[str, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    proc = subprocess.Popen([*ASSISTANT, "serve", "--index", str(index), "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if httpx.post(f"{url}/api/ask", json={"question": QUESTIONS[0]}, timeout=30).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise SystemExit("assistant serve exited before answering")
            time.sleep(0.05)
        ready = time.perf_counter() - started
        for q in QUESTIONS:
            httpx.post(f"{url}/api/ask", json={"question": q}, timeout=30)
        figures = {"ready_s": ready, "rss_mb": rss_mb(proc.pid)}
        if clients:
            figures |= load(url, clients, seconds, proc.pid)
            figures["rss_after_load_mb"] = rss_mb(proc.pid)
        return figures
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory now (VmRSS) or at its peak (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(url: str, clients: int, seconds: float, server: int) -> dict[str, float]:
    """`clients` threads, each asking in turn for `seconds` (loopback only); with the CPU time the
    server (pid `server`) and these clients spent per answer: on this machine's cores, the most
    answers a second they can share."""
    answers, errors = [0] * clients, [0] * clients
    deadline = time.monotonic() + seconds

    def client(i: int) -> None:
        with httpx.Client(timeout=30) as http:
            n = i
            while time.monotonic() < deadline:
                try:
                    ok = http.post(f"{url}/api/ask", json={"question": QUESTIONS[n % len(QUESTIONS)]}).status_code
                    answers[i] += ok == 200
                    errors[i] += ok != 200
                except httpx.HTTPError:
                    errors[i] += 1
                n += 1

    started, server_cpu, own_cpu = time.monotonic(), cpu_seconds(server), cpu_seconds(os.getpid())
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed, done = time.monotonic() - started, max(sum(answers), 1)
    server_ms = (cpu_seconds(server) - server_cpu) * 1000 / done
    client_ms = (cpu_seconds(os.getpid()) - own_cpu) * 1000 / done
    return {"answers_per_s": sum(answers) / elapsed, "errors": sum(errors), "server_cpu_ms": server_ms,
            "client_cpu_ms": client_ms, "ceiling_per_s": 1000 * (os.cpu_count() or 1) / (server_ms + client_ms)}


def chroma_server(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    executable = str(Path(sys.executable).parent / "chroma")
    proc = subprocess.Popen([executable, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return proc, port
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("chroma run did not start")


def bench_size(size: int, work: Path, server_port: int | None, clients: int, seconds: float) -> None:
    corpus, index = work / f"corpus-{size}", work / f"index-{size}"
    chunks = build_corpus(corpus, size)
    env = dict(ENV)
    mode = "embedded"
    if server_port:
        env |= {"ASSISTANT_CHROMA_HOST": "127.0.0.1", "ASSISTANT_CHROMA_PORT": str(server_port),
                "ASSISTANT_COLLECTION": f"scale{size}"}
        mode = "chroma server"
    seconds_ingest, peak = run([*ASSISTANT, "ingest", str(corpus), "--index", str(index)], env)
    changed = next(p for p in sorted(corpus.rglob("*.html")))
    changed.write_text(changed.read_text(encoding="utf-8").replace("</body>", "<p>One more line.</p></body>"),
                       encoding="utf-8")
    seconds_changed, _ = run([*ASSISTANT, "ingest", str(corpus), "--index", str(index)], env)
    reader = work / f"reader-{size}" if server_port else index  # a reader with an empty folder, in server mode
    asked = probe(reader, env)
    served = serve(reader, env, clients, seconds)
    print(f"\n== {chunks:,} chunks, {mode} ==")
    print(f"ingest: {seconds_ingest:.0f} s ({chunks / seconds_ingest:.1f} chunks/s), peak RSS of the ingest "
          f"processes so far {peak:.0f} MB; one changed file re-ingested: {seconds_changed:.1f} s")
    print(f"fresh process: open {asked['open_s']:.2f} s; first question {asked['first_ms']:.1f} ms, the other "
          f"questions asked once p50 {asked['new_p50']:.1f} ms (first / that: "
          f"{asked['first_ms'] / asked['new_p50']:.1f}x); asked again (warm): p50 {asked['p50']:.1f} ms, "
          f"p95 {asked['p95']:.1f} ms; RSS {asked['rss_mb']:.0f} MB")
    line = f"serve: first answer {served['ready_s']:.2f} s after start, RSS {served['rss_mb']:.0f} MB"
    if clients:
        line += (f"; {clients} clients for {seconds:.0f} s: {served['answers_per_s']:.0f} answers/s, "
                 f"{served['errors']:.0f} errors, RSS after {served['rss_after_load_mb']:.0f} MB; CPU per answer: "
                 f"server {served['server_cpu_ms']:.1f} ms, clients {served['client_cpu_ms']:.1f} ms, so "
                 f"{os.cpu_count()} cores allow at most {served['ceiling_per_s']:.0f} answers/s")
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="chunk counts, comma-separated")
    parser.add_argument("--server", action="store_true", help="also against a `chroma run` on loopback")
    parser.add_argument("--clients", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    args = parser.parse_args()
    if not PYTHON_DOCS.exists():
        sys.exit(f"{PYTHON_DOCS} is missing: install Debian's python3.11-doc (apt-get install python3.11-doc).")
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            bench_size(size, work / "embedded", None, args.clients, args.seconds)
            if args.server:
                proc, port = chroma_server(work / "chroma-data")
                try:
                    bench_size(size, work / "server", port, args.clients, args.seconds)
                finally:
                    proc.terminate()
                    proc.wait(timeout=30)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
