"""FAQs in the shapes real projects write them: the FAQ pages and files Debian installs under
/usr/share/doc (never downloaded; gzipped ones are unpacked into a temp folder), ingested together.
For each page: the FAQ units found beside the questions a shape-blind count finds in it (lines or
HTML blocks that end with "?"); then every unit's question asked word for word, as a reader would
paste it: the share answered from the unit's own entry, the answers that say a question back (a
sentence holding the question's words and nothing else), and the share holding a fragment.

    python bench/bench_faq.py [--docs FILE_OR_FOLDER ...] [--index DIR]
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from bench_site import fragments

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from assistant.config import Settings  # noqa: E402
from assistant.engine import Assistant  # noqa: E402
from assistant.evals.runner import answer_text  # noqa: E402
from assistant.ingest.pipeline import ingest  # noqa: E402
from assistant.text.terms import terms  # noqa: E402

DEBIAN_FAQS = [
    "/usr/share/doc/valgrind/html/faq.html", "/usr/share/doc/libxslt1-dev/html/FAQ.html",
    "/usr/share/doc/zlib1g-dev/FAQ.gz", "/usr/share/doc/xz-utils/faq.txt.gz", "/usr/share/doc/procps/FAQ.gz",
    "/usr/share/doc/man-db/FAQ", "/usr/share/doc/lsof/00FAQ.gz", "/usr/share/doc/sed/sedfaq.txt.gz",
]


def gather(sources: list[Path], folder: Path) -> list[Path]:
    """Copies of the FAQ files under readable names (`package-file.txt` or `.html`), unpacked."""
    copies = []
    for source in sources:
        if not source.is_file():
            print(f"  (missing: {source})")
            continue
        package = source.parts[4] if len(source.parts) > 4 else source.parent.name
        html = ".htm" in source.name.lower()
        name = re.sub(r"\.(gz|txt|html?)$", "", re.sub(r"\.gz$", "", source.name))
        target = folder / f"{package}-{name}{'.html' if html else '.txt'}"
        data = gzip.decompress(source.read_bytes()) if source.suffix == ".gz" else source.read_bytes()
        target.write_bytes(data)
        copies.append(target)
    return copies


def question_count(path: Path) -> int:
    """Questions a shape-blind reader counts: lines (text) or tag contents (HTML) ending with "?"."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        return len(set(re.findall(r">\s*([^<>]{8,300}\?)\s*<", text)))
    return len({line.strip() for line in text.splitlines() if 8 <= len(line.strip()) <= 300
                and line.rstrip().endswith("?")})


def says_it_back(question: str, answer: str) -> bool:
    """A sentence of the answer that holds every word of the question and no word of its own."""
    asked = set(terms(question))
    for sentence in re.split(r"(?<=[.!?])\s+", answer):
        said = set(terms(sentence))
        if len(asked) >= 3 and asked <= said and not said - asked:
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=Path, nargs="*", default=[Path(p) for p in DEBIAN_FAQS])
    parser.add_argument("--index", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pages = Path(tmp) / "pages"
        pages.mkdir()
        copies = gather(args.docs, pages)
        if not copies:
            sys.exit("None of the FAQ files is installed here.")
        index = args.index or Path(tmp) / "index"
        if args.index is not None:
            shutil.rmtree(index, ignore_errors=True)
        settings = Settings.load(overrides={"index_dir": index, "corpus": (pages,)})
        started = time.perf_counter()
        report = ingest(settings)
        seconds = time.perf_counter() - started
        assistant = Assistant.open(settings)
        lexicon = assistant.index.lexicon
        units = [(lexicon.doc_ids[lexicon.chunk_doc[p]], lexicon.chunk_section[p])
                 for p in np.flatnonzero(lexicon.chunk_faq)]
        found = Counter(doc for doc, _ in units)
        print(f"ingest: {report.files} files, {len(lexicon.chunk_ids)} chunks, {len(units)} FAQ units, {seconds:.0f} s")
        print(f"{'page':32} {'units':>6} {'lines/blocks ending in ?':>25}")
        for copy in copies:
            print(f"{copy.stem:32} {found.get(copy.stem, 0):>6} {question_count(copy):>25}")
        own = back = broken = 0
        misses = []
        for doc, question in units:
            answer = assistant.ask(question)
            lead = answer.citations[0] if answer.citations and not answer.refused else None
            hit = lead is not None and (lead.doc_id, lead.section) == (doc, question)
            own += hit
            back += says_it_back(question, answer_text(answer))
            broken += bool(fragments(answer, assistant))
            if not hit and len(misses) < 8:
                misses.append(f"  {doc}: {question[:70]!r} -> {answer_text(answer)[:90]!r}")
        print(f"asked word for word: {len(units)}; answered from their own entry {own / len(units):.3f}; "
              f"answers saying a question back {back}; answers holding a fragment {broken / len(units):.3f}")
        print("some misses:\n" + "\n".join(misses))


if __name__ == "__main__":
    main()
