"""What a site owner watching a long ingest reads: pages, then chunks, done of the total, with the rate
and the time left; nothing for a corpus too small to watch; the FAQ units found per page at the end."""

from __future__ import annotations

import io

from assistant.ingest.pipeline import IngestReport
from assistant.ingest.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_log_gets_a_line_every_few_seconds_with_rate_and_time_left_and_one_when_the_stage_ends(
        monkeypatch) -> None:
    clock = Clock()
    monkeypatch.setattr("assistant.ingest.progress.time.monotonic", clock)
    out = io.StringIO()
    progress = Progress(enabled=True, stream=out, every=10)
    progress.begin("Embedding chunks", 12_000, "chunks")
    for _ in range(120):  # 100 chunks a second for two minutes
        clock.now += 1
        progress.advance(100)
    progress.end()
    lines = out.getvalue().splitlines()
    assert lines[0] == "Embedding chunks 1,000/12,000 (8%), 100 chunks/s, about 2 min left"
    assert lines[10] == "Embedding chunks 11,000/12,000 (92%), 100 chunks/s, about 10 s left"
    assert lines[-1] == "Embedding chunks 12,000/12,000 (100%), 100 chunks/s, in 2 min"
    assert len(lines) == 12  # every 10 s, then the last


def test_a_small_corpus_shows_nothing_and_a_terminal_line_is_rewritten_in_place(monkeypatch) -> None:
    quiet = io.StringIO()
    small = Progress(enabled=True, stream=quiet)
    small.begin("Reading pages", 3, "pages")
    small.advance(3)
    small.begin("Embedding chunks", 40, "chunks")
    small.advance(40)
    small.end()
    assert quiet.getvalue() == ""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    shown = Progress(enabled=True, stream=screen)
    shown.begin("Reading pages", 10, "pages")
    shown.advance(10)
    shown.end()
    assert screen.getvalue().startswith("\rReading pages 10/10 (100%)") and screen.getvalue().endswith("\n")


def test_the_faq_summary_names_the_pages_with_units_and_counts_the_others() -> None:
    report = IngestReport(files=12, faq_units={"faq/general": 20, "faq/library": 31, "guide": 1})
    assert report.faq_summary() == "FAQ units: 52 (31 in faq/library, 20 in faq/general, 1 in guide); none in the " \
                                   "other 9 files."
    assert IngestReport(files=4).faq_summary() == "FAQ units: none found in the 4 files."
    many = IngestReport(files=9, faq_units={f"p{i}": 9 - i for i in range(8)})
    assert many.faq_summary(listed=2) == "FAQ units: 44 (9 in p0, 8 in p1, 27 in 6 more); none in the other file."
