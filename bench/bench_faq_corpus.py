"""FAQ recognition over every FAQ shape Debian ships (bench/data/faqs: the manifest of sites, each a
package's FAQ with the manual pages around it, and an annotator's labels of its entries).

For each site of the chosen split: its files are read and chunked as ingest does (no embedding), and
the FAQ entries found (`faq` chunks) are matched to the labelled questions. Recall is the share of
labelled entries found; precision the share of entries found that are labelled entries, counted in
the files an annotator labelled whole (a manual page labelled with no entries counts every entry
found in it as false). Figures per site, per shape (format and generator) and pooled.

    python bench/bench_faq_corpus.py [--split tune|frozen|fresh|fresh2..fresh6|all] [--corpus /work/faqcorpus]
                                     [--site ID ...] [--ask N]

With `--ask N`, each site is also ingested (real model, real Chroma, a temporary index) and up to N
of its labelled questions (every k-th, in document order) are asked word for word, as a reader pastes
them: the share answered from their own entry (the first citation's quoted sentence lies between the
entry's question and the next labelled question, in its file), the share whose page is cited first, the share of
answers quoting a "sentence" that is not one (no word of prose: a bare term or a synopsis), and the
site's ingest chunks per second.

The corpus is rebuilt with `python bench/data/faqs/fetch.py` (Debian packages, never installed).
The frozen split is reported once, at the end of a piece of work; nothing is chosen on it.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

import yaml

from assistant.config import Settings
from assistant.engine import Assistant
from assistant.errors import UserInputError
from assistant.ingest.articles import read_articles
from assistant.ingest.chunking import chunk_article, is_prose
from assistant.ingest.pipeline import ingest
from assistant.types import Article

DATA = Path(__file__).resolve().parent / "data" / "faqs"


@dataclass
class Score:
    labelled: int = 0
    found: int = 0  # labelled entries found
    detected: int = 0  # entries found in files labelled whole
    false: int = 0  # of those, no labelled entry
    misses: list[str] = field(default_factory=list)
    falses: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        self.labelled += other.labelled
        self.found += other.found
        self.detected += other.detected
        self.false += other.false

    def line(self, name: str) -> str:
        recall = self.found / self.labelled if self.labelled else float("nan")
        precision = 1 - self.false / self.detected if self.detected else float("nan")
        return (f"{name:34} labelled {self.labelled:5}  found {self.found:5}  recall {recall:.3f}  "
                f"detected {self.detected:5}  false {self.false:4}  precision {precision:.3f}")


def normal(question: str) -> str:
    """A question as compared: no number or "Q:" before it, no Markdown link target (as read, not as
    written: "[`.RETURN()`](reference.md/#RETURN)" is ".RETURN()"), lowercase, words only."""
    question = re.sub(r"\]\([^)\s]*\)", "]", question)
    question = re.sub(r"^\s*(?:q(?:uestion)?\s*\d*\s*[:.)-]|\(?\d+(?:\.\d+)*[.):]?)\s*", "", question.lower())
    return " ".join(re.findall(r"\w+", question))


def same(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if a == b or (min(len(a), len(b)) >= 12 and (a in b or b in a)):
        return True
    return SequenceMatcher(None, a, b).ratio() >= 0.85


def score_site(site: dict, corpus: Path, settings: Settings) -> Score:
    labels = yaml.safe_load((DATA / "labels" / f"{site['id']}.yaml").read_text(encoding="utf-8"))
    folder = corpus / "sites" / site["id"]
    articles = {Path(a.path).resolve(): a for a in read_articles([folder], warn=lambda message: None)}
    score = Score()
    for labelled in labels["files"]:
        path = (folder / labelled["file"]).resolve()
        article = articles.get(path)
        questions = [normal(e["question"]) for e in labelled.get("entries") or []]
        detected = [c.section for c in chunk_article(article, settings) if c.kind == "faq"] if article else []
        found = [normal(q) for q in detected]
        score.labelled += len(questions)
        for question, shown in zip(questions, labelled.get("entries") or [], strict=True):
            if any(same(question, f) for f in found):
                score.found += 1
            else:
                score.misses.append(f"{labelled['file']}: {shown['question'][:90]}")
        if labelled.get("complete", True):
            score.detected += len(found)
            for question, shown in zip(found, detected, strict=True):
                if not any(same(question, q) for q in questions):
                    score.false += 1
                    score.falses.append(f"{labelled['file']}: {shown[:90]}")
    return score


@dataclass
class Asked:
    asked: int = 0
    own: int = 0
    page: int = 0
    not_prose: int = 0
    chunks: int = 0
    seconds: float = 0.0
    misses: list[str] = field(default_factory=list)

    def add(self, other: Asked) -> None:
        for name in ("asked", "own", "page", "not_prose", "chunks", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def line(self, name: str) -> str:
        n = max(self.asked, 1)
        return (f"{name:34} asked {self.asked:4}  own entry {self.own / n:.3f}  page first {self.page / n:.3f}  "
                f"not prose {self.not_prose / n:.3f}  ingest {self.chunks / max(self.seconds, 1e-9):.1f} chunks/s")


def _flat(text: str) -> tuple[str, list[int]]:
    """`text` lowercased with runs of non-word characters as one space, and each character's offset."""
    flat, where = [], []
    for i, ch in enumerate(text):
        if ch.isalnum():
            flat.append(ch.lower())
            where.append(i)
        elif flat and flat[-1] != " ":
            flat.append(" ")
            where.append(i)
    return "".join(flat), where


def entry_regions(article: Article, entries: list[dict]) -> list[tuple[int, int] | None]:
    """Each labelled entry's span in the article's stored text: from its question (the last place
    the question is written before its answer's first words: a table of contents lists it earlier)
    to the next entry's; None where its answer is not found."""
    flat, where = _flat(article.text)
    starts: list[int | None] = []
    cursor = 0
    for entry in entries:
        answer = flat.find(normal(entry.get("answer", ""))[:60] or "\0", cursor)
        if answer < 0:
            starts.append(None)
            continue
        asked = flat.rfind(normal(entry["question"])[:80], cursor, answer + 1)
        begin = asked if asked >= 0 else answer
        starts.append(article.text.rfind("\n", 0, where[begin]) + 1)  # its line's start
        cursor = answer + 1
    regions: list[tuple[int, int] | None] = []
    for i, start in enumerate(starts):
        after = next((s for s in starts[i + 1:] if s is not None and start is not None and s > start), None)
        regions.append(None if start is None else (start, after if after is not None else len(article.text)))
    return regions


def ask_site(site: dict, corpus: Path, per_site: int, workdir: Path) -> Asked:
    labels = yaml.safe_load((DATA / "labels" / f"{site['id']}.yaml").read_text(encoding="utf-8"))
    folder = corpus / "sites" / site["id"]
    settings = Settings.load(overrides={"index_dir": workdir / site["id"], "corpus": (folder,)})
    started = time.perf_counter()
    try:
        report = ingest(settings)
    except UserInputError as error:  # no page of the site could be read: none of its questions answered
        labelled = sum(len(f.get("entries") or []) for f in labels["files"])
        return Asked(asked=min(per_site, labelled), misses=[f"site unread: {error}"])
    result = Asked(chunks=report.chunks_added, seconds=time.perf_counter() - started)
    assistant = Assistant.open(settings)
    articles = {Path(a.path).resolve(): a for a in read_articles([folder], warn=lambda message: None)}
    asked = []
    for labelled in labels["files"]:
        article = articles.get((folder / labelled["file"]).resolve())
        entries = labelled.get("entries") or []
        if article is not None:
            asked.extend((article, e, r) for e, r in zip(entries, entry_regions(article, entries), strict=True) if r)
    step = max(1, len(asked) // per_site)
    for article, entry, (start, end) in asked[::step][:per_site]:
        answer = assistant.ask(entry["question"][:2000])
        lead = answer.citations[0] if answer.citations and not answer.refused else None
        result.asked += 1
        result.page += lead is not None and lead.doc_id == article.doc_id
        quote = lead.spans[0][0] if lead is not None and lead.spans else (lead.start if lead is not None else -1)
        own = lead is not None and lead.doc_id == article.doc_id and start <= quote < end
        result.own += own
        if not own:
            result.misses.append(f"{entry['question'][:70]!r} -> {answer.answer[:110]!r}")
        quoted = [assistant.article(c.doc_id).text[a:b] for c in answer.citations for a, b in c.spans]
        result.not_prose += any(not is_prose(q) for q in quoted if q)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="tune",
                        choices=("tune", "frozen", "fresh", "fresh2", "fresh3", "fresh4", "fresh5", "fresh6", "all"))
    parser.add_argument("--corpus", type=Path, default=Path("/work/faqcorpus"))
    parser.add_argument("--site", nargs="*", default=[])
    parser.add_argument("--show", type=int, default=4, help="misses and false entries shown per site")
    parser.add_argument("--ask", type=int, default=0, help="questions asked per site (ingests each site)")
    args = parser.parse_args()
    sites = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))["sites"]
    chosen = [s for s in sites if (args.split == "all" or s["split"] == args.split)
              and (not args.site or s["id"] in args.site) and (DATA / "labels" / f"{s['id']}.yaml").exists()]
    settings = Settings()
    pooled, shapes, met, asked = Score(), defaultdict(Score), 0, Asked()
    for site in chosen:
        score = score_site(site, args.corpus, settings)
        met += score.found >= 0.90 * score.labelled and score.false <= 0.05 * max(score.detected, 1)
        print(score.line(site["id"]))
        for line in score.misses[:args.show]:
            print(f"    missed  {line}")
        for line in score.falses[:args.show]:
            print(f"    false   {line}")
        pooled.add(score)
        shapes[f"{site['format']}/{site['generator']}"].add(score)
        if args.ask:
            with tempfile.TemporaryDirectory() as workdir:
                result = ask_site(site, args.corpus, args.ask, Path(workdir))
            print(result.line(f"  {site['id']}"))
            for line in result.misses[:args.show]:
                print(f"    not own  {line}")
            asked.add(result)
    print(f"\nper shape ({args.split}):")
    for name, score in sorted(shapes.items()):
        print(score.line(name))
    print(f"\n{pooled.line(f'pooled, {len(chosen)} sites')}")
    print(f"sites at the floors (recall >= 0.90, false <= 0.05): {met} of {len(chosen)}")
    if args.ask:
        print(asked.line(f"asked word for word, {len(chosen)} sites"))


if __name__ == "__main__":
    main()
