"""MkDocs hook: writes the reference parts of the docs from the code at build time.

A page asks for a part with a marker line, `<!-- generated: NAME -->`, which on_page_markdown
replaces: the README's two commands, the command line (from the click group), the HTTP API (from
the FastAPI app's OpenAPI document), the answer JSON's fields, the answer's outcome cuts, the
settings, the eval case keys and the errors. Nothing generated is committed. An unknown marker, or
a setting or eval key that has no description, fails the build. This module only renders; it
changes nothing in the package.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any, **kwargs: Any) -> str:
    def generate(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PARTS:
            raise PluginError(f"{page.file.src_uri}: unknown marker 'generated: {name}'; known: {', '.join(PARTS)}.")
        return PARTS[name]()

    return MARKER.sub(generate, markdown)


# The README's commands: tests run them word for word, so the docs show them from there.

def _readme_line(starts: str) -> str:
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith(starts):
            return line.strip()
    raise PluginError(f"README.md has no line starting with {starts!r}.")


def readme_run_command() -> str:
    return f"```sh\n{_readme_line('    python3 -m venv .venv')}\n```"


def readme_test_command() -> str:
    return f"```sh\n{_readme_line('    bash tests/check.sh')}\n```"


# The command line, from the click group.

def _commands(command: click.Command, name: str, parent: click.Context | None) -> Iterator[click.Context]:
    ctx = click.Context(command, info_name=name, parent=parent)
    yield ctx
    if isinstance(command, click.Group):
        for sub, found in command.commands.items():  # in the order they are declared
            if not found.hidden:
                yield from _commands(found, sub, ctx)


def _anchor(ctx: click.Context) -> str:
    return "-".join(ctx.command_path.split()[1:]) or "assistant"


def cli_reference() -> str:
    from assistant.cli import main

    contexts = list(_commands(main, "assistant", None))
    lines = ["| Command | What it does |", "|---|---|"]
    lines += [f"| [`{c.command_path}`](#{_anchor(c)}) | {_cell(c.command.get_short_help_str(limit=200))} |"
              for c in contexts[1:]]
    for ctx in contexts:
        command = ctx.command
        paragraphs = inspect.cleandoc(command.help or "").split("\n\n")
        lines += ["", f"## {ctx.command_path} {{#{_anchor(ctx)}}}", "", "\n\n".join(map(_cell, paragraphs)), "",
                  "```text", command.get_usage(ctx), "```", ""]
        options = [p.get_help_record(ctx) for p in command.get_params(ctx) if isinstance(p, click.Option)]
        lines += [f"- `{names}`: {_cell(help_text)}" for names, help_text in filter(None, options)]
        if isinstance(command, click.Group):
            lines += ["", "Commands: " + ", ".join(f"[`{c.command_path}`](#{_anchor(c)})" for c in contexts
                                                   if c.parent is ctx) + "."]
    return "\n".join(lines)


# The HTTP API, from the app's OpenAPI document.

@functools.cache
def openapi() -> dict[str, Any]:
    """The app as `assistant serve` builds it, over an empty index folder: the routes and their
    types do not depend on the index, and no model loads while there is none."""
    from assistant.config import Settings
    from assistant.web.app import create_app

    with tempfile.TemporaryDirectory() as empty:
        return create_app(Settings(index_dir=Path(empty) / "index")).openapi()


def _schema_anchor(name: str) -> str:
    return name.lower()


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{_schema_anchor(name)})"
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " or ".join(f'`"{v}"`' if isinstance(v, str) else f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f'`"{schema["const"]}"`'
    kind = schema.get("type", "any")
    if kind == "object" and "properties" in schema:
        return "`{" + ", ".join(f'"{k}": {_plain_type(v)}' for k, v in schema["properties"].items()) + "}`"
    if kind == "array" and "prefixItems" in schema:
        return "[" + ", ".join(_type(s) for s in schema["prefixItems"]) + "]"
    if kind == "array":
        return "list of " + _type(schema.get("items", {}))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return "object of " + _type(schema["additionalProperties"])
    bounds = [f"≥ {schema['minimum']:g}" if "minimum" in schema else "",
              f"≤ {schema['maximum']:g}" if "maximum" in schema else ""]
    return kind + (f" ({', '.join(b for b in bounds if b)})" if any(bounds) else "")


def _plain_type(schema: dict[str, Any]) -> str:
    """A type inside a code span: no links, no nested marks."""
    return re.sub(r"\[([^]]+)\]\([^)]*\)|`", lambda m: m.group(1) or "", _type(schema))


def _cell(text: str) -> str:
    """Text from the code in a table cell: one line, and outside its code spans no character that
    Markdown would read as markup."""
    parts = re.split(r"(`[^`]*`)", " ".join(text.split()))
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("*", "\\*").replace("<", "&lt;").replace(">", "&gt;")
    return "".join(parts).replace("|", "\\|")


def _schema_table(name: str, schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    lines = [f"### {name} {{#{_schema_anchor(name)}}}", ""]
    if schema.get("description"):
        lines += [_cell(schema["description"]), ""]
    lines += ["| Field | Type | Required | Description |", "|---|---|---|---|"]
    for field, spec in schema.get("properties", {}).items():
        default = f" Default: `{json.dumps(spec['default'])}`." if spec.get("default") not in ([], None) else ""
        lines.append(f"| `{field}` | {_type(spec)} | {'yes' if field in required else 'no'} | "
                     f"{_cell(spec.get('description', ''))}{default} |")
    return lines + [""]


def _body(content: dict[str, Any]) -> str:
    return "; ".join(f"`{media}`" + (f": {_type(c['schema'])}" if c.get("schema") else "")
                     for media, c in content.items())


def http_reference() -> str:
    spec = openapi()
    lines: list[str] = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            anchor = f"{method}-{re.sub(r'[^a-z0-9]+', '-', path.lower()).strip('-')}"
            lines += [f"### {method.upper()} {path} {{#{anchor}}}", "", f"**{op.get('summary', '')}**", ""]
            if op.get("description"):
                lines += [op["description"], ""]
            for parameter in op.get("parameters", []):
                needed = "required" if parameter.get("required") else "optional"
                lines.append(f"- `{parameter['name']}` ({parameter['in']}, {_type(parameter['schema'])}, {needed})")
            if "requestBody" in op:
                lines.append(f"- Body: {_body(op['requestBody']['content'])}")
            said: dict[str, list[str]] = {}  # statuses with the same description and body share a line
            for status, response in op["responses"].items():
                body = _body(response.get("content", {}))
                said.setdefault(response.get("description", "") + (f" {body}" if body else ""), []).append(status)
            lines += [f"- {', '.join(f'`{s}`' for s in statuses)}: {text}" for text, statuses in said.items()]
            lines.append("")
    lines += ["## Schemas", ""]
    for name, schema in spec["components"]["schemas"].items():
        lines += _schema_table(name, schema)
    return "\n".join(lines)


def answer_fields() -> str:
    schemas = openapi()["components"]["schemas"]
    lines: list[str] = []
    for name in ("AnswerModel", "CitationModel", "GroundingModel"):
        lines += _schema_table(name, schemas[name])
    return "\n".join(lines)


# Settings, from the Settings dataclass and the comments above its fields.

# Fields whose comment in config.py is missing or belongs to the field above them.
SETTINGS_OWN = {
    "index_dir": "The index folder (Chroma's embedded store is kept in its `chroma/` folder).",
    "corpus": "What a bare `assistant ingest` reads: `./seeds`, relative to where it runs.",
    "max_question_chars": "The longest question accepted, in characters (longer: 422, or exit code 2).",
    "chunk_overlap_sentences": "Sentences a chunk repeats from the one before it.",
    "collection": "The name of the index's Chroma collection.",
    "max_body_bytes": "The largest request body, in bytes, counted as it arrives (larger: 413).",
}


def _default(field: dataclasses.Field[Any]) -> str:
    value = field.default
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) or "(none)"
    if isinstance(value, bool):
        return str(value).lower()
    return '""' if value == "" else str(value)


def settings_reference() -> str:
    from assistant import config

    source = inspect.getsource(config.Settings).splitlines()
    first = inspect.getsourcelines(config.Settings)[1]
    groups: list[tuple[str, list[dataclasses.Field[Any]]]] = []
    for field in dataclasses.fields(config.Settings):
        at = next(i for i, line in enumerate(source) if re.match(rf"\s+{field.name}:", line))
        comment = []
        for line in reversed(source[:at]):
            if not line.strip().startswith("#"):
                break
            comment.insert(0, line.strip().lstrip("#").strip())
        if field.name in SETTINGS_OWN or comment or not groups:
            described = SETTINGS_OWN.get(field.name) or " ".join(comment)
            if not described:
                raise PluginError(f"The setting {field.name} has no comment in assistant/config.py (line "
                                  f"{first + at}) and no entry in docs/hooks.py's SETTINGS_OWN: describe it.")
            groups.append((described, [field]))
        else:
            groups[-1][1].append(field)
    example = dataclasses.fields(config.Settings)[0].name
    lines = [f"Each setting's environment variable is its name in capitals after `{config.ENV_PREFIX}`: "
             f"`{example}` is `{config.ENV_PREFIX}{example.upper()}`.", "",
             "| Setting | Default | What it sets |", "|---|---|---|"]
    for described, fields in groups:
        names = "<br>".join(f"`{f.name}`" for f in fields)
        defaults = "<br>".join(f"`{_default(f)}`" for f in fields)
        lines.append(f"| {names} | {defaults} | {_cell(described)} |")
    return "\n".join(lines)


# Eval cases, from the loader's keys and the Expect dataclass.

CASE_KEYS = {
    "id": "The case's name, unique across every file of a run (`--only` picks it).",
    "question": "The question, for a one-turn case (with `expect`).",
    "expect": "What the answer must do (the keys below).",
    "turns": "Instead of `question`: a list of `{question, expect}` read as one conversation.",
    "tags": "Labels for `--tags`; a suite's `defaults:` tags are added.",
}
EXPECT_KEYS = {
    "sources": "Each listed article (its id) must be cited.",
    "contains_any": "One of these phrases is in the answer or its cited passages.",
    "contains_all": "All of these phrases are in the answer or its cited passages.",
    "answer_contains_any": "One of these phrases is in the answer text itself (what a reader reads).",
    "answer_contains_all": "All of these phrases are in the answer text itself.",
    "not_contains": "None of these phrases is in the answer text.",
    "refused": "`true`: the answer must be a refusal; `false`: it must not be.",
    "sources_rank_at_most": "The first expected article is cited at this rank or better (`1`: it is `[1]`).",
    "max_latency_ms": "The answer takes at most this many milliseconds.",
}
TYPES = {"tuple[str, ...]": "list of text", "bool | None": "true or false", "int | None": "integer",
         "float | None": "number"}


def eval_case_keys() -> str:
    from assistant.evals import cases

    expect = list(dataclasses.fields(cases.Expect))
    for what, described, accepted in (("case", CASE_KEYS, cases._CASE_KEYS),
                                      ("expect", EXPECT_KEYS, {f.name for f in expect})):
        if set(described) != set(accepted):
            raise PluginError(f"The eval loader's {what} keys ({', '.join(sorted(accepted))}) differ from those "
                              f"docs/hooks.py describes ({', '.join(sorted(described))}): update it.")
    lines = ["A case:", "", "| Key | What it is |", "|---|---|"]
    lines += [f"| `{key}` | {text} |" for key, text in CASE_KEYS.items()]
    lines += ["", "Under `expect` (every key optional):", "", "| Key | Type | What it checks |", "|---|---|---|"]
    lines += [f"| `{f.name}` | {TYPES.get(str(f.type), str(f.type))} | {EXPECT_KEYS[f.name]} |" for f in expect]
    return "\n".join(lines)


# The answer's outcome cuts and the costs they were chosen by, from answer.py.

def answer_cuts() -> str:
    from assistant.answering import answer

    costs = answer.COSTS
    return "\n".join([
        "| The answer is | when |", "|---|---|",
        f"| refused | the refusal model's probability is below {answer.REFUSE_BELOW:g}, "
        f"or the confidence below {answer.UNSURE_BELOW:g} |",
        f"| confident | otherwise, from a confidence of {answer.CONFIDENT_FROM:g} |",
        "| tentative | otherwise |", "",
        f"The costs they were chosen by, in units of a tentative answer ({costs['tentative']:g}): a confident "
        f"wrong answer {costs['confident_wrong']:g}, an answerable question refused {costs['false_refusal']:g}.",
    ])


# Errors, from the core's exceptions.

def errors_reference() -> str:
    from assistant import errors

    lines = ["| Error | When | Exit code | HTTP status |", "|---|---|---|---|"]
    for name, value in vars(errors).items():
        if inspect.isclass(value) and issubclass(value, errors.AssistantError) and value is not errors.AssistantError:
            lines.append(f"| `{name}` | {_cell(inspect.getdoc(value) or '')} | {value.exit_code} | "
                         f"{value.http_status} |")
    return "\n".join(lines)


PARTS: dict[str, Callable[[], str]] = {
    "run-command": readme_run_command,
    "test-command": readme_test_command,
    "cli": cli_reference,
    "http": http_reference,
    "answer-fields": answer_fields,
    "settings": settings_reference,
    "eval-case-keys": eval_case_keys,
    "answer-cuts": answer_cuts,
    "errors": errors_reference,
}
