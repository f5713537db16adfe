"""The eval case format (design.md), read and checked before anything runs.

A suite is a YAML file with `cases:` (and optional `defaults:` merged into every case's `expect`
and `tags`), or a JSONL file with one case per line. A case has an `id` and either a `question`
with `expect`, or `turns` (each a question with its own `expect`). Every mistake is reported as
`FILE:LINE: what is wrong` through `UserInputError`. This module does not run anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UserInputError

SUFFIXES = {".yaml", ".yml", ".jsonl"}
_LIST_KEYS = ("sources", "contains_any", "contains_all", "answer_contains_any", "answer_contains_all", "not_contains")
_EXPECT_KEYS = {*_LIST_KEYS, "refused", "sources_rank_at_most", "max_latency_ms"}
_CASE_KEYS = {"id", "question", "expect", "turns", "tags"}


@dataclass(frozen=True)
class Expect:
    sources: tuple[str, ...] = ()
    contains_any: tuple[str, ...] = ()
    contains_all: tuple[str, ...] = ()
    # Judged on the answer text alone (what a reader reads), not on the cited passages.
    answer_contains_any: tuple[str, ...] = ()
    answer_contains_all: tuple[str, ...] = ()
    not_contains: tuple[str, ...] = ()
    refused: bool | None = None
    sources_rank_at_most: int | None = None
    max_latency_ms: float | None = None

    @property
    def phrases(self) -> tuple[str, ...]:
        return self.contains_any + self.contains_all + self.answer_phrases

    @property
    def answer_phrases(self) -> tuple[str, ...]:
        return self.answer_contains_any + self.answer_contains_all

    @property
    def names_a_fact(self) -> bool:
        """The turn says what its answer text must state: it counts toward answer accuracy."""
        return bool(self.answer_phrases) and self.refused is not True


@dataclass(frozen=True)
class CaseTurn:
    question: str
    expect: Expect


@dataclass(frozen=True)
class Case:
    id: str
    turns: tuple[CaseTurn, ...]
    tags: tuple[str, ...] = ()
    where: str = ""  # FILE:LINE, for reports

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "tags": list(self.tags), "where": self.where,
                "turns": [{"question": t.question, "expect": _expect_dict(t.expect)} for t in self.turns]}


def _expect_dict(expect: Expect) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in _EXPECT_KEYS:
        value = getattr(expect, key)
        if value not in (None, ()):
            data[key] = list(value) if isinstance(value, tuple) else value
    return data


def suite_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise UserInputError(f"{path} does not exist: give eval files (.yaml, .jsonl) or folders of them.")
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()))
        else:
            files.append(path)
    if not files:
        raise UserInputError(f"No eval files (.yaml, .yml, .jsonl) in {', '.join(map(str, paths))}.")
    return files


def load_cases(paths: list[Path]) -> list[Case]:
    """Every case of every suite, checked; ids must be unique across all files."""
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for path in suite_files(paths):
        for case in load_file(path):
            if case.id in seen:
                raise UserInputError(f"{case.where}: duplicate case id {case.id!r} (first at {seen[case.id]}).")
            seen[case.id] = case.where
            cases.append(case)
    return cases


def load_file(path: Path) -> list[Case]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserInputError(f"{path}: cannot be read as UTF-8 text ({exc}).") from None
    if path.suffix == ".jsonl":
        return _load_jsonl(path, text)
    return _load_yaml(path, text)


def _load_jsonl(path: Path, text: str) -> list[Case]:
    cases = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserInputError(f"{path}:{number}: not valid JSON ({exc.msg}).") from None
        cases.append(_case(raw, {}, f"{path}:{number}"))
    return cases


def _load_yaml(path: Path, text: str) -> list[Case]:
    import yaml

    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise UserInputError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)}).") from None
    if root is None or not isinstance(root, yaml.MappingNode):
        raise UserInputError(f"{path}:1: expected a mapping with a `cases:` list.")
    data = yaml.safe_load(text)
    nodes = {key.value: value for key, value in root.value}
    unknown = set(data) - {"cases", "defaults"}
    if unknown:
        raise UserInputError(f"{path}:1: unknown top-level key(s) {sorted(unknown)}; use `cases:` and `defaults:`.")
    cases_node = nodes.get("cases")
    if not isinstance(data.get("cases"), list) or cases_node is None:
        raise UserInputError(f"{path}:1: expected `cases:` to be a list of cases.")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict) or set(defaults) - {"expect", "tags"}:
        raise UserInputError(f"{path}:1: `defaults:` may hold `expect:` and `tags:` only.")
    return [_case(raw, defaults, f"{path}:{node.start_mark.line + 1}")
            for raw, node in zip(data["cases"], cases_node.value, strict=True)]


def _case(raw: Any, defaults: dict[str, Any], where: str) -> Case:
    if not isinstance(raw, dict):
        raise UserInputError(f"{where}: a case must be a mapping with `id` and `question` or `turns`.")
    unknown = set(raw) - _CASE_KEYS
    if unknown:
        raise UserInputError(f"{where}: unknown key(s) {sorted(unknown)}; a case has {sorted(_CASE_KEYS)}.")
    case_id = raw.get("id")
    if not isinstance(case_id, str) or not case_id.strip():
        raise UserInputError(f"{where}: every case needs a non-empty string `id`.")
    if ("question" in raw) == ("turns" in raw):
        raise UserInputError(f"{where}: case {case_id!r} needs exactly one of `question` or `turns`.")
    tags = [*_strings(raw.get("tags", []), "tags", where), *_strings(defaults.get("tags", []), "tags", where)]
    default_expect = defaults.get("expect") or {}
    if "question" in raw:
        turns = [_turn(raw, default_expect, where, case_id)]
    else:
        if not isinstance(raw["turns"], list) or not raw["turns"]:
            raise UserInputError(f"{where}: case {case_id!r}: `turns` must be a non-empty list.")
        turns = [_turn(t, default_expect, where, case_id) for t in raw["turns"]]
    return Case(id=case_id, turns=tuple(turns), tags=tuple(dict.fromkeys(tags)), where=where)


def _turn(raw: Any, default_expect: dict[str, Any], where: str, case_id: str) -> CaseTurn:
    if not isinstance(raw, dict) or set(raw) - {"question", "expect", "id", "tags"}:
        raise UserInputError(f"{where}: case {case_id!r}: a turn is a mapping with `question` and `expect`.")
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        raise UserInputError(f"{where}: case {case_id!r}: `question` must be non-empty text.")
    expect = raw.get("expect", {})
    if not isinstance(expect, dict):
        raise UserInputError(f"{where}: case {case_id!r}: `expect` must be a mapping.")
    return CaseTurn(question=question.strip(), expect=_expect({**default_expect, **expect}, where, case_id))


def _expect(raw: dict[str, Any], where: str, case_id: str) -> Expect:
    unknown = set(raw) - _EXPECT_KEYS
    if unknown:
        raise UserInputError(f"{where}: case {case_id!r}: unknown expect key(s) {sorted(unknown)}; "
                             f"known: {sorted(_EXPECT_KEYS)}.")
    values: dict[str, Any] = {key: tuple(_strings(raw[key], key, where)) for key in _LIST_KEYS if key in raw}
    if "refused" in raw:
        if not isinstance(raw["refused"], bool):
            raise UserInputError(f"{where}: case {case_id!r}: `refused` must be true or false.")
        values["refused"] = raw["refused"]
    for key, kind in (("sources_rank_at_most", int), ("max_latency_ms", (int, float))):
        if key in raw:
            if isinstance(raw[key], bool) or not isinstance(raw[key], kind) or raw[key] <= 0:
                raise UserInputError(f"{where}: case {case_id!r}: `{key}` must be a positive number.")
            values[key] = raw[key]
    return Expect(**values)


def _strings(value: Any, key: str, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) and str(v).strip() for v in value):
        raise UserInputError(f"{where}: `{key}` must be a list of non-empty strings.")
    return [str(v) for v in value]
