"""Ingest speed on a real site, ours beside a baseline revision's and beside the naive llama-index
pipeline, in the same run: the Python docs that `apt-get install python3.11-doc` puts in
/usr/share/doc/python3.11/html (never downloaded), the five folders bench_site.py reads.

Each round builds a fresh index with each pipeline, in that order, each in a process of its own
(the baseline's code exported from git into a temporary folder): a machine whose CPU is shared now
and then slows every pipeline of a round alike, and medians over the rounds are printed, with the
ratios. For ours and the baseline, where the time went, summed over threads: extraction of the
pages, chunking, chunk vectors, sentence vectors (with their token vectors), sentence terms, the
lexicon, store reads and writes, the model's loading, and the rest. Never fails on a timing.

    python bench/bench_ingest.py [--baseline 7c21cfd] [--rounds 3] [--folders faq,tutorial,...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = Path("/usr/share/doc/python3.11/html")
FOLDERS = ("faq", "tutorial", "howto", "reference", "using")
BASELINE = "7c21cfd"  # main before #22's ingest work
PARTS = ("extract", "chunk", "chunk vectors", "sentence vectors", "terms", "lexicon", "store", "model load")
# Where each part is timed: (module, class or "", function, part). Only those a revision has are timed.
# The baseline revision has the flat layout (assistant/ingest.py, store.py), ours the parts' folders.
_FLAT = {"extract": "extract", "pipeline": "ingest", "writer": "store"}
_TIMED_PARTS = [
    ("ingest.extract", "", "html_text", "extract"),
    ("ingest.extract", "", "markdown_text", "extract"),
    ("ingest.pipeline", "", "chunk_article", "chunk"),
    ("ingest.pipeline", "", "chunk_sentences", "chunk"),
    ("ingest.pipeline", "", "_dropped", "chunk"),
    ("ingest.pipeline", "", "_chunk_vectors", "chunk vectors"),
    ("ingest.pipeline", "", "_sentence_vectors", "sentence vectors"),
    ("ingest.pipeline", "", "embed_by_length", "vectors"),  # the baseline's: sentence vectors when tokens=True
    ("ingest.pipeline", "", "terms", "terms"),
    ("ingest.pipeline", "", "build_lexicon", "lexicon"),
    *[("store.writer", "IndexWriter", method, "store")
      for method in ("__init__", "existing", "ids_of", "add_chunks", "add_sentences", "add_articles", "commit")],
    ("ingest.pipeline", "", "collect_garbage", "store"),
    ("ingest.pipeline", "", "sweep_killed", "store"),
    ("ingest.pipeline", "", "load_fast_embedder", "model load"),
    ("ingest.pipeline", "", "load_ingest_embedder", "model load"),
    ("ingest.pipeline", "", "_export_query_model", "model load"),
]
TIMED = [(f"assistant.{module}", owner, name, part) for module, owner, name, part in _TIMED_PARTS] \
    + [(f"assistant.{_FLAT[module.split('.')[1]]}", owner, name, part) for module, owner, name, part in _TIMED_PARTS]


class Timers:
    """Exclusive seconds per part: time inside a timed call nested in another counts once, for
    the inner one; each thread keeps its own stack."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(PARTS, 0.0)
        self._local = threading.local()
        self._lock = threading.Lock()

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            stack = self._local.__dict__.setdefault("stack", [])
            part = name
            if name == "vectors":
                part = stack[-1][0] if stack and stack[-1][0].endswith(" vectors") \
                    else "sentence vectors" if kwargs.get("tokens") else "chunk vectors"
            now = time.perf_counter()
            if stack:
                self._add(stack[-1][0], now - stack[-1][1])
            stack.append([part, now])
            try:
                return function(*args, **kwargs)
            finally:
                done = time.perf_counter()
                self._add(part, done - stack.pop()[1])
                if stack:
                    stack[-1][1] = done

        return timed

    def _add(self, part: str, seconds: float) -> None:
        with self._lock:
            self.seconds[part] += seconds


def install(timers: Timers) -> None:
    import importlib

    for module, owner, name, part in TIMED:
        try:
            target: Any = importlib.import_module(module)
        except ModuleNotFoundError:
            continue  # the other layout's
        target = getattr(target, owner, None) if owner else target
        if target is not None and callable(getattr(target, name, None)):
            setattr(target, name, timers.wrap(part, getattr(target, name)))


def child(kind: str, root: Path, docs: Path, folders: list[str], index: Path) -> dict[str, Any]:
    """One ingest in this process, of `root`'s code: seconds, chunks and (ours) the parts."""
    sys.path.insert(0, str(root))
    from assistant.config import Settings

    settings = Settings.load(overrides={"index_dir": index, "corpus": (docs,),
                                        "include": tuple(f"{f}/*" for f in folders)}, environ={})
    if kind == "naive":
        from assistant.evals.naive import NaiveAssistant

        started = time.perf_counter()
        naive = NaiveAssistant.open(settings)
        seconds = time.perf_counter() - started
        chunks = len(naive._retriever._index.docstore.docs)
        return {"seconds": seconds, "chunks": chunks, "cpu": cpu_seconds(), "parts": {}}
    timers = Timers()
    install(timers)
    try:
        from assistant.ingest.pipeline import ingest
    except ModuleNotFoundError:  # the baseline's flat layout
        from assistant.ingest import ingest  # type: ignore[attr-defined,no-redef]

    started = time.perf_counter()
    report = ingest(settings)
    seconds = time.perf_counter() - started
    parts = dict(timers.seconds)
    parts["rest"] = seconds - sum(parts.values())
    return {"seconds": seconds, "chunks": report.chunks_added, "cpu": cpu_seconds(), "parts": parts}


def cpu_seconds() -> float:
    """CPU time this process used on all its threads, imports included: what another load on the
    machine changes least."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(kind: str, root: Path, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as work:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(root)}
        run = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", kind, "--root", str(root),
                              "--docs", str(args.docs), "--folders", args.folders, "--index", str(Path(work) / "i")],
                             capture_output=True, text=True, env=env, cwd=work)
        if run.returncode:
            raise SystemExit(f"{kind} ({root}) failed:\n{run.stderr[-3000:]}")
        return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def export(revision: str, folder: Path) -> Path:
    """The baseline's code, as git has it at `revision`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "assistant"], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def report(results: dict[str, list[dict[str, Any]]]) -> None:
    def median(label: str, key: str) -> float:
        return statistics.median(r[key] for r in results[label])

    rate = {label: statistics.median(r["chunks"] / r["seconds"] for r in runs) for label, runs in results.items()}
    rounds = len(results['ours'])
    print(f"\n{'pipeline':<22}{'chunks':>8}{'seconds':>10}{'chunks/s':>10}{'CPU s':>10}   (medians of {rounds} rounds)")
    for label in results:
        print(f"{label:<22}{int(median(label, 'chunks')):>8}{median(label, 'seconds'):>10.1f}{rate[label]:>10.1f}"
              f"{median(label, 'cpu'):>10.1f}")
    base = next(label for label in results if label.startswith("baseline"))
    print(f"\nours / {base}: {rate['ours'] / rate[base]:.2f}x chunks/s")
    if "naive" in results:
        print(f"naive / {base}: {rate['naive'] / rate[base]:.2f}x; ours / naive: {rate['ours'] / rate['naive']:.2f}x "
              f"(naive's chunks are llama-index's SentenceSplitter nodes, not ours)")
    print(f"\nwhere the time went (median seconds, summed over threads){'':<4}{base:>22}{'ours':>10}")
    for part in [*PARTS, "rest"]:
        before = statistics.median(r["parts"].get(part, 0.0) for r in results[base])
        after = statistics.median(r["parts"].get(part, 0.0) for r in results["ours"])
        print(f"  {part:<58}{before:>20.1f}{after:>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default=BASELINE, help="the revision to measure beside the working tree")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--docs", type=Path, default=DOCS)
    parser.add_argument("--folders", default=",".join(FOLDERS))
    parser.add_argument("--no-naive", action="store_true", help="leave the naive pipeline out (it takes minutes)")
    parser.add_argument("--child", choices=("ours", "naive"), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--index", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    folders = [f.strip() for f in args.folders.split(",") if f.strip()]
    if args.child:
        print(json.dumps(child(args.child, args.root, args.docs, folders, args.index)))
        return
    if not args.docs.is_dir():
        sys.exit(f"{args.docs} is missing: install Debian's python3.11-doc (apt-get install python3.11-doc).")
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as folder:
        baseline = export(args.baseline, Path(folder))
        pipelines = [(f"baseline {args.baseline}", "ours", baseline), ("ours", "ours", ROOT)]
        pipelines += [] if args.no_naive else [("naive", "naive", ROOT)]
        results: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in pipelines}
        for n in range(args.rounds):
            for label, kind, root in pipelines:
                got = measure(kind, root, args)
                results[label].append(got)
                print(f"round {n + 1}: {label}: {got['chunks']} chunks in {got['seconds']:.1f} s "
                      f"({got['chunks'] / got['seconds']:.1f} chunks/s, {got['cpu']:.0f} CPU s)", flush=True)
        report(results)


if __name__ == "__main__":
    main()
