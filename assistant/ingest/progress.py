"""What a long ingest tells the site owner watching it: pages read of the total, then chunks
embedded of the total, each with its rate and the time left. On a terminal it is one line rewritten
in place; in a log (stderr not a terminal) a line every `every` seconds and at each stage's end.
It only reports; the ingest decides what happens."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    # A corpus of fewer pages than this is over before anyone would watch it: nothing is shown.
    least = 6

    def __init__(self, enabled: bool, stream: TextIO | None = None, every: float = 10.0):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.live = enabled and self.stream.isatty()
        self.every = 0.2 if self.live else every
        self.stage, self.unit, self.total, self.done = "", "", 0, 0
        self.started = self.shown = 0.0

    def begin(self, stage: str, total: int, unit: str) -> None:
        if not self.stage and total < self.least:
            self.enabled = self.live = False
        self.stage, self.unit, self.total, self.done = stage, unit, total, 0
        self.started = self.shown = time.monotonic()

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if self.enabled and now - self.shown >= self.every and self.done < self.total:
            self.shown = now
            self._show(now)

    def end(self) -> None:
        """The stage's last line, once its work is done: how much, and how long it took."""
        if self.enabled and self.total:
            self._show(time.monotonic())
            if self.live:
                self.stream.write("\n")
                self.stream.flush()

    def line(self, now: float) -> str:
        """"Embedding chunks 5,000/12,378 (40%), 31 chunks/s, about 4 min left"."""
        elapsed = max(now - self.started, 1e-6)
        rate = self.done / elapsed
        share = f" ({self.done / self.total:.0%})" if self.total else ""
        text = f"{self.stage} {self.done:,}/{self.total:,}{share}"
        if self.done and rate:
            text += f", {rate:,.0f} {self.unit}/s"
            left = (self.total - self.done) / rate
            text += f", about {_duration(left)} left" if self.done < self.total else f", in {_duration(elapsed)}"
        return text

    def _show(self, now: float) -> None:
        text = self.line(now)
        self.stream.write(f"\r{text}\033[K" if self.live else f"{text}\n")
        self.stream.flush()


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
