"""Fit the answerer's two models (assistant/answering/answer.py) on the tuning questions only.

The tuning questions are bench/dev-tuning.yaml, bench/tuning.yaml and the two public suites that
were already read while tuning (evals/seeds.yaml, evals/faq.yaml): their figures are optimistic.

1. The sentence model: for each in-scope tuning turn, the candidate sentences of its retrieved
   passages are one example; its positives are the candidates that state the fact (hold one of
   the turn's answer phrases). A conditional logit (bench/fit_fusion.py's) over SENTENCE_FEATURES.
2. The refusal model: for every tuning turn, in scope or not, the row `refusal_row` builds from
   the lead sentence the fitted sentence model picks; a logistic regression on in/out labels, with
   a false refusal and a false answer costing the same (no class weights).

3. The confidence model: for every tuning turn whose rightness is known (in scope with answer
   phrases, or out of scope) and that gets a lead sentence, `confidence_row` of the engine's choice;
   a logistic regression (Platt scaling) on whether the answer as composed holds a phrase (never,
   out of scope). Then the two cuts (refusal, confident) with the least cost (answer.COSTS) on the
   5-fold held-out confidences, and the calibration table of those.

Turns are asked through the real engine, conversations with the engine's own earlier answers as
history. It prints the fitted dicts (paste them into answer.py) and, for each model, its figure
on the tuning turns and in 5-fold cross-validation. The frozen sets (evals/dev-frozen.yaml,
evals/holdout.yaml, evals/fresh-frozen.yaml) are never read here.

    python bench/fit_answer.py [--index DIR] [--l2 0.001] [--part all|refusal|confidence]

`--part refusal` keeps the sentence weights in answer.py and fits the refusal and confidence models
on top of them; `--part confidence` keeps both and fits the confidence model and the cuts.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from bench_engine import ROOT, on_seed_index
from fit_fusion import Example, fit

sys.path.insert(0, str(ROOT))
from assistant.answering.answer import CONFIDENCE_FEATURES, COSTS, REFUSAL_FEATURES, refusal_row  # noqa: E402
from assistant.answering.answertype import STRICT, expected_type  # noqa: E402
from assistant.answering.features import SENTENCE_FEATURES  # noqa: E402
from assistant.answering.retrieve import Retrieval  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.engine import Assistant  # noqa: E402
from assistant.evals.calibration import calibration_table  # noqa: E402
from assistant.evals.cases import load_cases  # noqa: E402
from assistant.evals.runner import folded  # noqa: E402
from assistant.types import Turn  # noqa: E402

# Every suite already read while tuning; evals/dev-frozen.yaml and evals/holdout.yaml never are.
TUNING = [ROOT / "bench/dev-tuning.yaml", ROOT / "bench/tuning.yaml",
          ROOT / "evals/seeds.yaml", ROOT / "evals/faq.yaml"]


@dataclass
class Asked:
    """One tuning turn as the engine saw it."""

    question: str
    retrieval: Retrieval
    in_scope: bool
    phrases: tuple[str, ...]
    sources: tuple[str, ...]


def asked_turns(assistant: Assistant) -> list[Asked]:
    turns = []
    for case in load_cases(TUNING):
        history: list[Turn] = []
        for turn in case.turns:
            retrieval = assistant.retrieve(turn.question, history)
            expect = turn.expect
            turns.append(Asked(turn.question, retrieval, expect.refused is not True,
                               expect.answer_contains_any or expect.answer_contains_all or expect.phrases,
                               expect.sources))
            history.append(Turn(turn.question, assistant.answerer.answer(turn.question, retrieval).answer))
    return turns


def sentence_examples(assistant: Assistant, turns: list[Asked]) -> tuple[list[Example], int]:
    """One example per in-scope turn with a candidate that states its fact; and how many had none."""
    examples, missing = [], 0
    for t in turns:
        if not t.in_scope or not t.phrases:
            continue
        candidates = assistant.answerer.features.candidates(t.question, t.retrieval, expected_type(t.question))
        positive = np.array([any(folded(p) in folded(c.text) for p in t.phrases) for c in candidates], dtype=bool)
        if not positive.any():
            missing += 1
            continue
        signals = np.stack([c.features for c in candidates]).astype(np.float64)
        examples.append(Example(signals, positive, positive))
    return examples, missing


def lead_hits(w: np.ndarray, data: list[Example]) -> float:
    return float(np.mean([ex.positive[int(np.argmax(ex.signals @ w))] for ex in data]))


def refusal_data(assistant: Assistant, turns: list[Asked]) -> tuple[np.ndarray, np.ndarray, int]:
    """Rows and labels (1: in scope) for the turns that get a lead sentence; and how many of the
    out-of-scope ones the asked-for-type rule already refuses."""
    rows, labels, by_rule = [], [], 0
    for t in turns:
        choice = assistant.answerer.choose(t.question, t.retrieval)
        if not choice.chosen:
            by_rule += not t.in_scope and expected_type(t.question) in STRICT
            continue
        lead = choice.chosen[0]
        score = float(choice.scores[choice.candidates.index(lead)])
        rows.append(refusal_row(t.retrieval, choice.candidates, lead, score))
        labels.append(float(t.in_scope))
    return np.array(rows), np.array(labels), by_rule


@dataclass
class Judged:
    """The tuning turns as the confidence model sees them."""

    rows: np.ndarray  # confidence_row per turn that got a lead sentence
    refusal_rows: np.ndarray  # refusal_row of the same turns
    right: np.ndarray  # its answer holds the fact
    answerable: np.ndarray  # the refusal model's probability
    in_scope: np.ndarray
    unled_in_scope: int  # turns without a lead sentence (refused by rule) that were in scope
    unled_out: int


def confidence_data(assistant: Assistant, turns: list[Asked]) -> Judged:
    rows, refusal_rows, right, answerable, in_scope, unled = [], [], [], [], [], []
    for t in turns:
        if t.in_scope and not t.phrases:
            continue  # whether its answer is right is not known
        choice = assistant.answerer.choose(t.question, t.retrieval)
        if not choice.chosen or choice.signals is None:
            unled.append(t.in_scope)
            continue
        text = folded(" ".join(c.text for c in choice.chosen))
        rows.append(choice.signals)
        lead = choice.chosen[0]
        refusal_rows.append(refusal_row(t.retrieval, choice.candidates, lead,
                                        float(choice.scores[choice.candidates.index(lead)])))
        right.append(t.in_scope and any(folded(p) in text for p in t.phrases))
        answerable.append(choice.answerable)
        in_scope.append(t.in_scope)
    return Judged(np.array(rows), np.array(refusal_rows), np.array(right, dtype=bool), np.array(answerable),
                  np.array(in_scope, dtype=bool), sum(unled), len(unled) - sum(unled))


def outcomes(data: Judged, confidence: np.ndarray, refuse_below: float, unsure_below: float,
             confident_from: float) -> dict[str, float]:
    """What readers get at these cuts: the cost (answer.COSTS) and the issue's figures."""
    refused = (data.answerable < refuse_below) | (confidence < unsure_below)
    confident = ~refused & (confidence >= confident_from)
    tentative = ~refused & ~confident
    in_scope, out = data.in_scope, ~data.in_scope
    cost = (COSTS["false_refusal"] * ((refused & in_scope).sum() + data.unled_in_scope)
            + COSTS["confident_wrong"] * (confident & ~data.right).sum() + COSTS["tentative"] * tentative.sum())
    n_in, n_out = in_scope.sum() + data.unled_in_scope, out.sum() + data.unled_out
    return {
        "cost": float(cost),
        "confident precision": float(data.right[confident].mean()) if confident.any() else float("nan"),
        "coverage": float(confident[in_scope].sum() / n_in),
        "fact in text": float((data.right & ~refused).sum() / n_in),
        "out of scope confident": float(confident[out].sum() / n_out),
        "out of scope refused": float((refused[out].sum() + data.unled_out) / n_out),
        "false refusals": float(((refused & in_scope).sum() + data.unled_in_scope) / n_in),
    }


def held_out_answerable(data: Judged, l2: float) -> Judged:
    """The turns with the refusal model's probability as a model fitted without each turn's fold
    gives it (stacking): the in-sample one is optimistic exactly where confidence matters."""
    p = np.zeros(len(data.right))
    for f in folds(len(data.right)):
        train = np.setdiff1d(np.arange(len(data.right)), f)
        fw, fb = fit_logistic(data.refusal_rows[train], data.in_scope[train].astype(float), l2, 2000)
        p[f] = 1 / (1 + np.exp(-(data.refusal_rows[f] @ fw + fb)))
    rows = data.rows.copy()
    rows[:, CONFIDENCE_FEATURES.index("answerable")] = np.log(np.clip(p, 1e-4, 1 - 1e-4) / np.clip(1 - p, 1e-4, 1))
    own = rows[:, CONFIDENCE_FEATURES.index("own_faq")] == 1
    rows[own] = data.rows[own]  # the entry's own question, asked word for word: answerable by rule
    p[own] = data.answerable[own]
    return replace(data, rows=rows, answerable=p)


def fit_confidence(data: Judged, l2: float) -> None:
    data = held_out_answerable(data, l2)
    w, b = fit_logistic(data.rows, data.right.astype(float), l2)
    held = np.zeros(len(data.right))
    for f in folds(len(data.right)):
        train = np.setdiff1d(np.arange(len(data.right)), f)
        fw, fb = fit_logistic(data.rows[train], data.right[train].astype(float), l2, 2000)
        held[f] = 1 / (1 + np.exp(-(data.rows[f] @ fw + fb)))
    grid = [(r, u, c) for r in np.arange(0.05, 0.75, 0.05) for u in np.arange(0.0, 0.5, 0.05)
            for c in np.arange(0.5, 0.99, 0.02) if u < c]
    refuse_below, unsure_below, confident_from = min(
        grid, key=lambda cuts: (outcomes(data, held, *cuts)["cost"], -cuts[0], -cuts[1], cuts[2]))
    print(f"confidence model on {len(data.right)} turns with a lead sentence ({int((~data.in_scope).sum())} out "
          f"of scope; {data.unled_in_scope + data.unled_out} more get none)")
    print(python_dict("CONFIDENCE_WEIGHTS", CONFIDENCE_FEATURES, w))
    print(f"CONFIDENCE_BIAS = {b:.3f}")
    print(f"REFUSE_BELOW = {refuse_below:.2f}\nUNSURE_BELOW = {unsure_below:.2f}\n"
          f"CONFIDENT_FROM = {confident_from:.2f}")
    figures = outcomes(data, held, refuse_below, unsure_below, confident_from)
    print("5-fold held-out, at those cuts: " + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()))
    print("calibration (5-fold held-out): confidence bucket, answers, mean confidence, share right")
    for bucket in calibration_table(list(zip(held.tolist(), data.right.tolist(), strict=True))):
        if bucket.answers:
            print(f"  {bucket.low:.2f}-{bucket.high:.2f}  {bucket.answers:>4}  {bucket.mean_confidence:.2f}  "
                  f"{bucket.share_right:.2f}")


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 4000) -> tuple[np.ndarray, float]:
    """Weights and bias of a logistic regression (Adam on the mean log loss plus l2 * |w|^2)."""
    w, b = np.zeros(x.shape[1]), 0.0
    m, v = np.zeros(x.shape[1] + 1), np.zeros(x.shape[1] + 1)
    for t in range(1, steps + 1):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        g = np.append(x.T @ (p - y) / len(y) + 2 * l2 * w, np.mean(p - y))
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        step = 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        w, b = w - step[:-1], b - step[-1]
    return w, float(b)


def refusal_figures(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: float) -> str:
    answers = x @ w + b >= 0
    recall = float(np.mean(~answers[y == 0])) if (y == 0).any() else float("nan")
    false_refusals = float(np.mean(~answers[y == 1])) if (y == 1).any() else float("nan")
    return f"refusal recall {recall:.2f}, false refusal rate {false_refusals:.3f}"


def python_dict(name: str, keys: tuple[str, ...], values: np.ndarray) -> str:
    """`NAME = {...}` as source to paste, one line per few entries within the project's line length."""
    lines, line = [], "   "
    for key, value in zip(keys, values, strict=True):
        item = f' "{key}": {value:.3f},'
        if len(line) + len(item) > 116:
            lines.append(line)
            line = "   "
        line += item
    return f"{name} = {{\n" + "\n".join([*lines, line]) + "\n}"


def folds(n: int, k: int = 5) -> list[np.ndarray]:
    return np.array_split(np.random.default_rng(0).permutation(n), k)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="an index of seeds/ (default: build one in a temp folder)")
    parser.add_argument("--l2", type=float, default=0.001)
    parser.add_argument("--part", choices=("all", "refusal", "confidence"), default="all")
    args = parser.parse_args()

    def run(index: Path) -> None:
        assistant = Assistant.open(Settings.load(overrides={"index_dir": index, "corpus": (ROOT / "seeds",)}))
        turns = asked_turns(assistant)
        if args.part == "confidence":
            fit_confidence(confidence_data(assistant, turns), args.l2)
            return
        fitted = assistant.answerer.model
        if args.part == "all":
            examples, missing = sentence_examples(assistant, turns)
            w = fit(examples, args.l2, normalise=False)
            print(f"{len(turns)} tuning turns; sentence model on {len(examples)} in-scope turns "
                  f"({missing} others have no candidate stating the fact: a retrieval miss)")
            print(python_dict("SENTENCE_WEIGHTS", SENTENCE_FEATURES, w))
            held = [lead_hits(fit([e for j, e in enumerate(examples) if j not in set(f)], args.l2, 1500, False),
                              [examples[j] for j in f]) for f in folds(len(examples))]
            print(f"lead states the fact: tuning {lead_hits(w, examples):.2f}, 5-fold {np.mean(held):.2f}")
            fitted = replace(fitted, sentence=dict(zip(SENTENCE_FEATURES, w.tolist(), strict=True)))
            assistant.answerer.model = fitted
        x, y, by_rule = refusal_data(assistant, turns)
        rw, rb = fit_logistic(x, y, args.l2)
        print(f"refusal model on {len(y)} turns ({int((y == 0).sum())} out of scope; {by_rule} more refused "
              "by the asked-for-type rule)")
        print(python_dict("REFUSAL_WEIGHTS", REFUSAL_FEATURES, rw))
        print(f"REFUSAL_BIAS = {rb:.3f}")
        print(f"tuning: {refusal_figures(x, y, rw, rb)}")
        cv = np.zeros(len(y), dtype=bool)
        for f in folds(len(y)):
            train = np.setdiff1d(np.arange(len(y)), f)
            fw, fb = fit_logistic(x[train], y[train], args.l2, 2000)
            cv[f] = x[f] @ fw + fb >= 0
        print(f"5-fold: refusal recall {np.mean(~cv[y == 0]):.2f}, false refusal rate {np.mean(~cv[y == 1]):.3f}")
        assistant.answerer.model = replace(fitted, refusal=dict(zip(REFUSAL_FEATURES, rw.tolist(), strict=True)),
                                           refusal_bias=rb)
        fit_confidence(confidence_data(assistant, turns), args.l2)

    on_seed_index(args.index, run)


if __name__ == "__main__":
    main()
