"""A real site: the Python 3.11 documentation as Debian's `python3.11-doc` installs it (never
downloaded: `apt-get install python3.11-doc`). Ingests its faq/, tutorial/, howto/, reference/ and
using/ folders into a fresh index and reports what a site owner would check:

- pages found and skipped (with why), chunks, FAQ units;
- the site's own FAQ questions (every `<h3>` ending in "?" under faq/), asked word for word: the
  share answered from their own entry (the lead cites that entry and quotes it);
- the share of answers holding a fragment: a quoted sentence that starts mid-sentence (lowercase,
  punctuation) or ends without closing punctuation;
- the time of the first question of the process, then warm p50/p95;
- sample answers to questions of our own, as a reader sees them.

    python bench/bench_site.py [--docs /usr/share/doc/python3.11/html] [--folders faq,tutorial,...] [--index DIR]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from assistant.config import Settings  # noqa: E402
from assistant.engine import Assistant  # noqa: E402
from assistant.evals.runner import answer_text  # noqa: E402
from assistant.ingest.pipeline import ingest  # noqa: E402
from assistant.render import render_answer  # noqa: E402
from assistant.types import Answer  # noqa: E402

DOCS = Path("/usr/share/doc/python3.11/html")
FOLDERS = ("faq", "tutorial", "howto", "reference", "using")
SAMPLES = (
    "How do I make a copy of a list?",
    "what is the difference between a tuple and a list",
    "How can I read a file line by line?",
    "What does the global statement do?",
    "how do i install python on windows",
    "Why are default argument values shared between calls?",
    "What is a virtual environment for?",
    "How do I sort a list of objects by an attribute?",
    "What happens when an exception is not handled?",
    "Who is the mayor of Paris?",
)
_BAD_START = re.compile(r"[a-z,;:)\]]")
_CODE_NAME = re.compile(r"[a-z_][\w]*(?:\.\w+)*\(|[a-z_]+\.[a-z_]|[a-z]+_")
_ENDS_WELL = re.compile(r"[.!?][\"”’')\]]*$|\)$")


def faq_questions(docs: Path) -> list[tuple[str, str]]:
    """(page id, question) for every question heading of the site's FAQ pages."""
    found = []
    for page in sorted((docs / "faq").glob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for heading in soup.find_all(["h2", "h3", "h4"]):
            text = " ".join(heading.get_text("").replace("¶", "").split())
            if text.endswith("?"):
                found.append((f"faq/{page.stem}", text))
    return found


def fragments(answer: Answer, assistant: Assistant) -> list[str]:
    """The quoted sentences a reader sees as cut: starting with a lowercase word (not a code name such
    as "list.copy()") or punctuation, or ending on ",", ";", ":" or without closing punctuation
    unless they are a whole list item or table row."""
    found = []
    for citation in answer.citations if not answer.refused else []:
        text = assistant.article(citation.doc_id).text
        for start, end in citation.spans:
            sentence = text[start:end]
            line_start = text.rfind("\n", 0, start) + 1
            item = text[line_start:start].strip() in ("-", "*", "•") or sentence.startswith("|")
            whole_item = item and (end == len(text) or text[end] == "\n")
            starts_badly = bool(_BAD_START.match(sentence)) and not _CODE_NAME.match(sentence)
            ends_badly = sentence[-1] in ",;:" or not (_ENDS_WELL.search(sentence) or whole_item)
            if starts_badly or ends_badly:
                found.append(sentence)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=Path, default=DOCS)
    parser.add_argument("--folders", default=",".join(FOLDERS))
    parser.add_argument("--samples", type=int, default=len(SAMPLES))
    parser.add_argument("--index", type=Path, help="Keep the index here (re-runs ingest only what changed).")
    args = parser.parse_args()
    if not args.docs.is_dir():
        sys.exit(f"{args.docs} is missing: install Debian's python3.11-doc (apt-get install python3.11-doc).")
    folders = [f.strip() for f in args.folders.split(",") if f.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(overrides={"index_dir": args.index or Path(tmp) / "index", "corpus": (args.docs,),
                                            "include": tuple(f"{f}/*" for f in folders)})
        started = time.perf_counter()
        report = ingest(settings, warn=lambda message: None)
        seconds = time.perf_counter() - started
        pages = sum(len(list((args.docs / f).rglob("*.html"))) for f in folders)
        assistant = Assistant.open(settings)
        chunks = len(assistant.index.lexicon.chunk_ids)
        faq_units = int(assistant.index.lexicon.chunk_faq.sum())
        print(f"site: {args.docs} ({', '.join(folders)}): {pages} pages")
        print(f"ingest: {report.files} articles, {len(report.skipped)} skipped, {chunks} chunks, "
              f"{faq_units} FAQ units, {seconds:.0f} s ({chunks / seconds:.0f} chunks/s)")
        for line in report.skipped:
            print(f"  {line}")

        questions = faq_questions(args.docs) if "faq" in folders else []
        answered, page_first, broken, asked = 0, 0, 0, 0
        misses: list[str] = []
        latencies = []
        for page, question in questions:
            began = time.perf_counter()
            answer = assistant.ask(question)
            latencies.append((time.perf_counter() - began) * 1000)
            asked += 1
            lead = answer.citations[0] if answer.citations and not answer.refused else None
            own = lead is not None and lead.doc_id == page and lead.section == question and bool(lead.spans)
            answered += own
            page_first += lead is not None and lead.doc_id == page
            broken += bool(fragments(answer, assistant))
            if not own and len(misses) < 8:
                misses.append(f"  {question} -> {answer_text(answer)[:100]!r}")
        if asked:
            print(f"FAQ questions asked word for word: {asked}; answered from their own entry: "
                  f"{answered / asked:.2f} (citing their own page first: {page_first / asked:.2f}); "
                  f"answers holding a fragment: {broken / asked:.3f}")
            warm = sorted(latencies[1:])
            print(f"latency: first question of the process {latencies[0]:.0f} ms; then p50 "
                  f"{statistics.median(warm):.1f} ms, p95 {warm[int(0.95 * (len(warm) - 1))]:.1f} ms")
            print("some misses:\n" + "\n".join(misses))
        print("\nsample answers:")
        for question in SAMPLES[:args.samples]:
            answer = assistant.ask(question)
            broken_here = fragments(answer, assistant)
            flag = f"  (fragment: {broken_here})" if broken_here else ""
            print(f"\n> {question}{flag}\n{render_answer(answer, sources=False)}")


if __name__ == "__main__":
    main()
