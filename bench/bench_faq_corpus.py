"""FAQ recognition over every FAQ shape Debian ships (bench/data/faqs: the manifest of sites, each a
package's FAQ with the manual pages around it, and an annotator's labels of its entries).

For each site of the chosen split: its files are read and chunked as ingest does (no embedding), and
the FAQ entries found (`faq` chunks) are matched to the labelled questions. Recall is the share of
labelled entries found; precision the share of entries found that are labelled entries, counted in
the files an annotator labelled whole (a manual page labelled with no entries counts every entry
found in it as false). Figures per site, per shape (format and generator) and pooled.

    python bench/bench_faq_corpus.py [--split tune|frozen|all] [--corpus /work/faqcorpus] [--site ID ...]

The corpus is rebuilt with `python bench/data/faqs/fetch.py` (Debian packages, never installed).
The frozen split is reported once, at the end of a piece of work; nothing is chosen on it.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

import yaml

from assistant.config import Settings
from assistant.ingest.articles import read_articles
from assistant.ingest.chunking import chunk_article

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
    """A question as compared: no number or "Q:" before it, lowercase, words only."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("tune", "frozen", "all"), default="tune")
    parser.add_argument("--corpus", type=Path, default=Path("/work/faqcorpus"))
    parser.add_argument("--site", nargs="*", default=[])
    parser.add_argument("--show", type=int, default=4, help="misses and false entries shown per site")
    args = parser.parse_args()
    sites = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))["sites"]
    chosen = [s for s in sites if (args.split == "all" or s["split"] == args.split)
              and (not args.site or s["id"] in args.site) and (DATA / "labels" / f"{s['id']}.yaml").exists()]
    settings = Settings()
    pooled, shapes, met = Score(), defaultdict(Score), 0
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
    print(f"\nper shape ({args.split}):")
    for name, score in sorted(shapes.items()):
        print(score.line(name))
    print(f"\n{pooled.line(f'pooled, {len(chosen)} sites')}")
    print(f"sites at the floors (recall >= 0.90, false <= 0.05): {met} of {len(chosen)}")


if __name__ == "__main__":
    main()
