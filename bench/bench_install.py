"""A user's first hour: the README's run command from a fresh clone, with an empty pip cache and no
ONNX export on the machine, timed phase by phase (install; ingest of the seeds, which makes the
export; `serve` until its first answer over HTTP), then the venv's size, package count and largest
packages. With --baseline REV, that revision's README command is measured the same way in the same
run, and the ratios printed. Each phase is one run (an install takes minutes); with --runs N, medians.
Never fails on a timing.

    python bench/bench_install.py [--baseline dcf2fff] [--runs 1]
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
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from smoke_runtime import readme_run_command, tree_mb  # noqa: E402
from webserver import free_port  # noqa: E402

PHASES = ["install", "ingest", "first answer", "total"]


def measure(revision: str, work: Path) -> tuple[dict[str, float], dict[str, object]]:
    clone = work / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", revision], check=True)
    # An empty pip cache and an empty user cache (no ONNX export): a machine that never ran it.
    env = {**os.environ, "PIP_CACHE_DIR": str(work / "pip-cache"), "XDG_CACHE_HOME": str(work / "cache"),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    install, ingest, serve = readme_run_command((clone / "README.md").read_text(encoding="utf-8"))
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    subprocess.run(["bash", "-c", install], cwd=clone, env=env, check=True, capture_output=True)
    seconds["install"] = time.perf_counter() - started
    mark = time.perf_counter()
    subprocess.run(["bash", "-c", f".venv/bin/assistant {ingest}"], cwd=clone, env=env, check=True,
                   capture_output=True)
    seconds["ingest"] = time.perf_counter() - mark
    mark = time.perf_counter()
    port = free_port()
    server = subprocess.Popen(["bash", "-c", f"exec .venv/bin/assistant {serve} --port {port}"], cwd=clone, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_answer(f"http://127.0.0.1:{port}")
        seconds["first answer"] = time.perf_counter() - mark
    finally:
        server.terminate()
        server.wait(timeout=30)
    seconds["total"] = time.perf_counter() - started
    return seconds, venv_facts(clone / ".venv")


def wait_for_answer(url: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            response = httpx.post(f"{url}/api/ask", json={"question": "Where is AMI Labs based?"}, timeout=30)
            if response.status_code == 200 and "Paris" in response.json()["answer"]:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("serve gave no answer within 300 s")


def venv_facts(venv: Path) -> dict[str, object]:
    site = next(venv.glob("lib/python*/site-packages"))
    sizes = {p.name: tree_mb(p) for p in site.iterdir() if p.is_dir() and not p.name.endswith(".dist-info")}
    listed = json.loads(subprocess.run([str(venv / "bin" / "pip"), "list", "--format", "json"], capture_output=True,
                                       text=True, check=True).stdout)
    return {"venv MB": round(tree_mb(venv)), "packages": len(listed),
            "largest": ", ".join(f"{n} {mb:.0f}" for n, mb in sorted(sizes.items(), key=lambda x: -x[1])[:6])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="a revision whose README run command to measure beside HEAD's")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    for label, revision in [("baseline " + args.baseline, args.baseline)] * bool(args.baseline) + [("HEAD", "HEAD")]:
        runs = []
        for _ in range(args.runs):
            work = Path(tempfile.mkdtemp(prefix="bench-install-"))
            try:
                seconds, facts = measure(revision, work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            runs.append(seconds)
        results[label] = {phase: statistics.median(r[phase] for r in runs) for phase in PHASES}
        print(f"== {label}: " + ", ".join(f"{p} {results[label][p]:.1f} s" for p in PHASES))
        print(f"   venv {facts['venv MB']:,} MB, {facts['packages']} packages; largest (MB): {facts['largest']}")
    if args.baseline:
        base, head = results["baseline " + args.baseline], results["HEAD"]
        print("HEAD / baseline: " + ", ".join(f"{p} {head[p] / base[p]:.2f}x" for p in PHASES))


if __name__ == "__main__":
    main()
