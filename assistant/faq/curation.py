"""The owner's FAQ workflow, from readers' ratings (feedback.py) to the curated FAQ (answering/curated.py) and
back out as a published FAQ and an eval suite:

- review: new rated questions grouped by meaning (cosine of their MiniLM vectors at least
  SAME_GROUP), the most asked first, then the worst rated;
- accept: a rating's answer (its wording editable, but every sentence must still be quoted from a
  passage it cites) becomes a curated FAQ entry; reject: dropped, or marked out of scope with the
  owner's reply;
- export: the articles' own FAQ entries, then the curated ones, as Markdown, HTML, JSON or an eval
  suite that guards them."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import yaml

from ..answering.curated import FAQ, OUT_OF_SCOPE, CuratedEntry
from ..engine import Assistant
from ..errors import NotFoundError, UserInputError
from ..types import CITATION_MARK, Answer, Citation, article_link
from .feedback import ACCEPTED, NEW, REJECTED, FeedbackStore, Rated
from .feedback import OUT_OF_SCOPE as MARKED_OUT_OF_SCOPE

# Looser than curated.SAME_QUESTION: a reviewer sees the group and decides.
SAME_GROUP = 0.8
_ANSWER_PREFIX = re.compile(r"^(?:A|Answer)\s*[:.)-]\s*", re.IGNORECASE)


@dataclass
class ReviewGroup:
    """Rated questions that mean the same thing."""

    id: int  # the group's most recent rating: what `faq accept` and `faq reject` take
    question: str  # its most asked wording
    ids: list[int] = field(default_factory=list)
    wordings: list[str] = field(default_factory=list)
    up: int = 0
    down: int = 0
    comments: list[str] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)  # the latest answer given

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "question": self.question, "asked": len(self.ids), "ids": self.ids,
                "wordings": self.wordings, "rating": {"up": self.up, "down": self.down},
                "comments": self.comments, "answer": self.answer}


def review(items: Sequence[Rated], embed: Callable[[list[str]], np.ndarray]) -> list[ReviewGroup]:
    """New ratings grouped by meaning: the most asked first, then the worst rated."""
    fresh = [i for i in items if i.status == NEW and i.question]
    if not fresh:
        return []
    vectors = embed([i.question for i in fresh])
    leaders: list[int] = []  # index in `fresh` of each group's first question
    members: list[list[Rated]] = []
    for position, item in enumerate(fresh):
        similar = [g for g, leader in enumerate(leaders) if float(vectors[position] @ vectors[leader]) >= SAME_GROUP]
        if similar:
            members[similar[0]].append(item)
        else:
            leaders.append(position)
            members.append([item])
    groups = []
    for rated in members:
        wordings = Counter(r.question for r in rated)
        latest = max(rated, key=lambda r: r.id)
        groups.append(ReviewGroup(latest.id, wordings.most_common(1)[0][0], [r.id for r in rated], list(wordings),
                                  sum(r.rating > 0 for r in rated), sum(r.rating < 0 for r in rated),
                                  [r.comment for r in rated if r.comment], latest.answer))
    return sorted(groups, key=lambda g: (-len(g.ids), g.up - g.down, g.id))


def group_of(store: FeedbackStore, assistant: Assistant, item_id: int) -> ReviewGroup:
    """The review group holding rating `item_id`."""
    for group in review(store.items(), assistant.index.embedder.embed):
        if item_id in group.ids:
            return group
    if any(i.id == item_id for i in store.items()):
        raise UserInputError(f"Rating {item_id} was already accepted or rejected: `assistant faq review` lists "
                             "the ones still to decide.")
    raise NotFoundError(f"There is no rating {item_id}: `assistant faq review` lists them with their ids.")


def accept(store: FeedbackStore, assistant: Assistant, item_id: int, question: str = "",
           answer_text: str = "") -> CuratedEntry:
    """Make rating `item_id`'s answer a curated FAQ entry (optionally reworded), and mark its group
    accepted."""
    group = group_of(store, assistant, item_id)
    given = Answer.from_dict(group.answer) if group.answer else None
    if given is None or given.refused or not given.citations:
        raise UserInputError(f"Rating {item_id}'s answer is a refusal: there is nothing to publish; reject it, "
                             "or mark it out of scope with `assistant faq reject --out-of-scope`.")
    answer = _renumbered(Answer(question or group.question, answer_text or given.quoted, False, given.citations,
                                confident=True))
    if answer_text and answer.support() < 1.0:
        raise UserInputError("Every sentence of --answer must be quoted, as written, from a passage it cites with "
                             "its [n] (the same check as the assistant's own answers).")
    entry = assistant.curated.add(FAQ, answer.question, group.id, answer=answer)
    store.mark(group.ids, ACCEPTED)
    return entry


def _renumbered(answer: Answer) -> Answer:
    """The answer citing only the passages its text uses, numbered [1], [2], … in reading order."""
    used = list(dict.fromkeys(int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)))
    by_n = {c.n: c for c in answer.citations}
    numbers = {old: new for new, old in enumerate((n for n in used if n in by_n), start=1)}
    text = re.sub(r"\[(\d+)\]", lambda m: f"[{numbers.get(int(m.group(1)), m.group(1))}]", answer.answer)
    citations = [replace(by_n[old], n=new) for old, new in numbers.items()]
    return Answer(answer.question, text, answer.refused, citations, confident=answer.confident)


def reject(store: FeedbackStore, assistant: Assistant, item_id: int, out_of_scope: bool = False,
           reply: str = "") -> CuratedEntry | None:
    """Drop rating `item_id`'s group, or mark its question out of scope (rewordings get `reply`)."""
    group = group_of(store, assistant, item_id)
    if reply and not out_of_scope:
        raise UserInputError("--reply goes with --out-of-scope: it is what readers asking that question are told.")
    entry = assistant.curated.add(OUT_OF_SCOPE, group.question, group.id, reply=reply) if out_of_scope else None
    store.mark(group.ids, MARKED_OUT_OF_SCOPE if out_of_scope else REJECTED)
    return entry


@dataclass(frozen=True)
class Published:
    """One FAQ entry as published: from an article or curated."""

    question: str
    answer: str
    citations: list[Citation]
    source: str  # "article" or "curated"


def published(assistant: Assistant) -> list[Published]:
    """The articles' own FAQ entries (in the order they are suggested), then the curated answers."""
    entries = []
    for faq in assistant.faq():
        article = assistant.article(faq.doc_id)
        unit = article.text[faq.start:faq.end]
        reply = _ANSWER_PREFIX.sub("", " ".join(line.strip() for line in unit.split("\n")[1:] if line.strip()))
        citation = Citation(1, faq.doc_id, article.title, faq.question, unit, faq.start, faq.end, 1.0)
        entries.append(Published(faq.question, f"{reply} [1]", [citation], "article"))
    for entry in assistant.curated.entries():
        if entry.kind == FAQ and entry.answer is not None:
            entries.append(Published(entry.question, entry.answer.answer, entry.answer.citations, "curated"))
    return entries


def export(assistant: Assistant, kind: str, base_url: str = "") -> str:
    """The FAQ as `md`, `json` or an `eval` suite (curated entries and out-of-scope marks); as
    HTML it is a page of the web face (`web.pages.render_faq`)."""
    entries = published(assistant)

    def link(citation: Citation) -> str:
        return article_link(citation, base_url)

    if kind == "json":
        return json.dumps([{"question": e.question, "answer": e.answer, "source": e.source,
                            "citations": [{**c.to_dict(), "url": link(c)} for c in e.citations]} for e in entries],
                          indent=2, ensure_ascii=False) + "\n"
    if kind == "md":
        lines = ["# Frequently asked questions", ""]
        for source, heading in (("article", "From the articles"), ("curated", "From readers' questions")):
            chosen = [e for e in entries if e.source == source]
            if chosen:
                lines += [f"## {heading}", ""]
            for e in chosen:
                lines += [f"### {e.question}", "", _linked(e, link), ""]
        return "\n".join(lines)
    if kind == "eval":
        return _eval_suite(assistant.curated.entries())
    raise UserInputError(f"Unknown format {kind!r}: use md, json or eval (html: `assistant faq export --format html`).")


def _linked(entry: Published, link: Callable[[Citation], str]) -> str:
    """The answer in Markdown, each [n] a link to its passage."""
    by_n = {c.n: c for c in entry.citations}
    return re.sub(r"\[(\d+)\]", lambda m: f"[[{m.group(1)}]]({link(by_n[int(m.group(1))])})"
                  if int(m.group(1)) in by_n else m.group(0), entry.answer)


def _eval_suite(curated: list[CuratedEntry]) -> str:
    cases = []
    for entry in curated:
        if entry.kind == FAQ and entry.answer is not None:
            first = CITATION_MARK.sub("", re.split(r"(?<=\])\s+", entry.answer.answer.strip())[0]).strip()
            expect: dict[str, Any] = {"sources": sorted({c.doc_id for c in entry.answer.citations}),
                                      "answer_contains_any": [first]}
        else:
            expect = {"refused": True}
        cases.append({"id": f"curated-{entry.kind.replace('_', '-')}-{entry.feedback_id}", "question": entry.question,
                      "expect": expect, "tags": ["curated-faq"]})
    header = ("# The curated FAQ as eval cases, written by `assistant faq export --format eval`: each accepted\n"
              "# entry must keep its sources and its first sentence; each out-of-scope mark must stay refused.\n")
    return header + yaml.safe_dump({"cases": cases}, sort_keys=False, allow_unicode=True, width=1000)
