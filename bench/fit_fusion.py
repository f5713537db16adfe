"""Fit the retrieval fusion weights (assistant/answering/retrieve.py WEIGHTS) on the tuning questions.

Each first turn of bench/tuning.yaml that names its sources and an answer phrase gives one ranking
example: its positives are the chunks of an expected article that contain the phrase. The weights
maximise the softmax probability of the positives over all chunks (a conditional logit, L2-
regularised), then are scaled to sum to 1 so a fused score stays on the cosines' scale. The script
prints the fitted weights, and the share of questions whose top chunk is a positive / from an
expected article, for the current weights and the fitted ones: on the tuning set itself, in
leave-one-out cross-validation, and (reported only, never fitted on) on the public suites.

    python bench/fit_fusion.py [--index DIR] [--l2 0.001]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bench_engine import ROOT, on_seed_index

sys.path.insert(0, str(ROOT))
from assistant.answering.retrieve import SIGNALS, WEIGHTS  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.engine import Assistant  # noqa: E402
from assistant.evals.cases import load_cases  # noqa: E402
from assistant.text.terms import terms  # noqa: E402

TUNING = [ROOT / "bench/dev-tuning.yaml", ROOT / "bench/tuning.yaml"]
REPORTED = [ROOT / "evals/seeds.yaml", ROOT / "evals/faq.yaml", ROOT / "evals/holdout.yaml"]


@dataclass(frozen=True)
class Example:
    signals: np.ndarray  # candidate chunks x SIGNALS
    positive: np.ndarray  # chunk contains an expected phrase and is from an expected article
    expected_article: np.ndarray


def examples(assistant: Assistant, files: list[Path]) -> list[Example]:
    """One example per question with expected sources, over the chunks retrieval ranks for it."""
    found = []
    for case in load_cases(files):
        turn = case.turns[0]
        if not turn.expect.sources:
            continue
        vector = assistant.index.embedder.embed([turn.question])[0]
        candidates, signals = assistant.retriever.signals(vector, terms(turn.question))
        chunks = assistant.index.chunks(candidates.tolist())
        phrases = [p.casefold() for p in turn.expect.phrases]
        in_article = np.array([c.doc_id in turn.expect.sources for c in chunks])
        positive = in_article & np.array([any(p in c.text.casefold() for p in phrases) for c in chunks])
        if not positive.any():
            positive = in_article
        if positive.any():  # else no candidate is from the expected article: nothing to learn from
            found.append(Example(signals.astype(np.float64), positive, in_article))
    return found


def gradient(w: np.ndarray, data: list[Example], l2: float) -> np.ndarray:
    """Of the mean -log(softmax probability of the positives) plus l2 * |w|^2."""
    grad = 2 * l2 * w
    for ex in data:
        z = ex.signals @ w
        p = np.exp(z - z.max())
        p /= p.sum()
        pos = p[ex.positive].sum()
        # d(-log sum_pos p)/dw = E_p[x] - E_{p | positive}[x]
        grad += (p @ ex.signals - (p[ex.positive] @ ex.signals[ex.positive]) / pos) / len(data)
    return grad


def fit(data: list[Example], l2: float, steps: int = 3000, normalise: bool = True) -> np.ndarray:
    """Adam on the convex loss, from zero; the result is scaled to sum to 1 unless not `normalise`."""
    w = np.zeros(data[0].signals.shape[1])
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        g = gradient(w, data, l2)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w -= 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return w / w.sum() if normalise else w


def top1(w: np.ndarray, data: list[Example]) -> tuple[float, float]:
    """Share of questions whose best chunk is a positive, and whose best chunk is from an expected article."""
    tops = [int(np.argmax(ex.signals @ w)) for ex in data]
    return (float(np.mean([ex.positive[i] for ex, i in zip(data, tops, strict=True)])),
            float(np.mean([ex.expected_article[i] for ex, i in zip(data, tops, strict=True)])))


def leave_one_out(data: list[Example], l2: float) -> tuple[float, float]:
    hits = [top1(fit(data[:i] + data[i + 1:], l2, steps=1000), [ex]) for i, ex in enumerate(data)]
    return float(np.mean([h[0] for h in hits])), float(np.mean([h[1] for h in hits]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="an index of seeds/ (default: build one in a temp folder)")
    parser.add_argument("--l2", type=float, default=0.001)
    parser.add_argument("--no-loo", action="store_true", help="skip the leave-one-out estimate (slow)")
    args = parser.parse_args()

    def run(index: Path) -> None:
        assistant = Assistant.open(Settings.load(overrides={"index_dir": index, "corpus": (ROOT / "seeds",)}))
        tuning, reported = examples(assistant, TUNING), examples(assistant, REPORTED)
        current = np.array([WEIGHTS[name] for name in SIGNALS])
        fitted = fit(tuning, args.l2)
        print(f"{len(tuning)} tuning questions, {len(reported)} reported (evals/, not fitted on); l2={args.l2}")
        print("fitted WEIGHTS = {" + ", ".join(f'"{n}": {w:.3f}' for n, w in zip(SIGNALS, fitted, strict=True)) + "}")
        print(f"{'top chunk is':32} {'current':>16} {'fitted':>16}")
        rows = [("tuning", tuning), ("evals/ (reported)", reported)]
        for label, data in rows:
            (cp, ca), (fp, fa) = top1(current, data), top1(fitted, data)
            print(f"{label:32} {f'{cp:.2f} / {ca:.2f}':>16} {f'{fp:.2f} / {fa:.2f}':>16}")
        if not args.no_loo:
            lp, la = leave_one_out(tuning, args.l2)
            print(f"{'tuning, leave-one-out':32} {'':>16} {f'{lp:.2f} / {la:.2f}':>16}")
        print("(each cell: the top chunk holds the expected phrase / is from an expected article)")

    on_seed_index(args.index, run)


if __name__ == "__main__":
    main()
