"""How far an answerer's confidence can be trusted, from judged answers: each a (confidence, right)
pair, right meaning the answer text holds the asked-for fact (an answer to an out-of-scope
question is never right).

- the calibration table: per confidence bucket, how many answers fell in it and the share right
  (a calibrated answerer's share is close to the bucket's mean confidence);
- the risk-coverage table: answering only from a confidence cut, the share of answers kept
  (coverage) and the share of those that are wrong (risk).

The eval runner reports both; bench/fit_answer.py reads them while fitting. Pure arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EDGES = (0.0, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 1.0)
CUTS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95)

Judged = tuple[float, bool]  # (confidence, right)


@dataclass(frozen=True)
class Bucket:
    low: float
    high: float
    answers: int
    mean_confidence: float | None
    share_right: float | None


@dataclass(frozen=True)
class Operating:
    cut: float  # answers at or above this confidence are kept
    coverage: float  # the share of all judged answers kept
    risk: float | None  # the share of kept answers that are wrong
    kept: int


def calibration_table(judged: Sequence[Judged], edges: Sequence[float] = EDGES) -> list[Bucket]:
    buckets = []
    for i, (low, high) in enumerate(zip(edges, edges[1:], strict=False)):
        last = i == len(edges) - 2
        inside = [(c, r) for c, r in judged if low <= c < high or last and c == high]
        buckets.append(Bucket(low, high, len(inside),
                              sum(c for c, _ in inside) / len(inside) if inside else None,
                              sum(r for _, r in inside) / len(inside) if inside else None))
    return buckets


def risk_coverage(judged: Sequence[Judged], cuts: Sequence[float] = CUTS) -> list[Operating]:
    table = []
    for cut in cuts:
        kept = [r for c, r in judged if c >= cut]
        table.append(Operating(cut, len(kept) / len(judged) if judged else 0.0,
                               1 - sum(kept) / len(kept) if kept else None, len(kept)))
    return table


def expected_error(judged: Sequence[Judged]) -> float | None:
    """Expected calibration error: the answers' mean gap between confidence and rightness, by bucket."""
    if not judged:
        return None
    return sum(b.answers * abs(b.mean_confidence - b.share_right) for b in calibration_table(judged)
               if b.mean_confidence is not None and b.share_right is not None) / len(judged)
