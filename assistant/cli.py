"""The command line: `assistant ingest | ask | chat | serve | eval | faq`.

Only this module imports click. It builds the settings once, calls the engine, formats for a
terminal, and turns the core's exceptions into one-sentence messages and exit codes.

May import: anything.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .config import Settings
from .errors import AssistantError
from .packages import missing_import

F = TypeVar("F", bound=Callable[..., Any])


def _settings(ctx: click.Context, **overrides: Any) -> Settings:
    return Settings.load(overrides={**ctx.obj["overrides"], **overrides}, config_file=ctx.obj["config"])


def friendly_errors(func: F) -> F:
    """Show the core's errors as one line and exit with their code; never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AssistantError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except ImportError as exc:  # a package missing from a hand-made install
            click.echo(f"Error: {missing_import('the assistant', exc)}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


index_option = click.option(
    "--index", "index_dir", type=click.Path(path_type=Path), default=None,
    help="Index directory (default: ./index, or ASSISTANT_INDEX_DIR).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="A TOML settings file (an [assistant] table).")
@click.option("--model", default=None, help="Sentence-transformers model name or path.")
@click.option("--chroma-host", default=None, help="Use a Chroma server at this host instead of the embedded store.")
@click.option("--chroma-port", type=int, default=None, help="Port of the Chroma server.")
@click.option("--llm-url", default=None, help="An OpenAI-compatible base URL (e.g. http://127.0.0.1:11434/v1): "
              "your LLM writes the answers, every sentence held to the grounding check. Its key: "
              "ASSISTANT_LLM_API_KEY.")
@click.option("--llm-model", default=None, help="The model the LLM endpoint serves.")
@click.version_option(package_name="cited-assistant")
@click.pass_context
def main(ctx: click.Context, config: Path | None, model: str | None, chroma_host: str | None,
         chroma_port: int | None, llm_url: str | None, llm_model: str | None) -> None:
    """Answer questions about a folder of articles, citing every sentence."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config
    ctx.obj["overrides"] = {"model": model, "chroma_host": chroma_host, "chroma_port": chroma_port,
                            "llm_url": llm_url, "llm_model": llm_model}


@main.command(short_help="Read articles (.txt, .md, .html) into the index.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_option
@click.option("--rebuild", is_flag=True, help="Discard the index and build it again from scratch.")
@click.option("--include", multiple=True, help="Only files whose path in the folder matches this glob (repeatable).")
@click.option("--exclude", multiple=True, help="Skip files whose path in the folder matches this glob (repeatable).")
@click.pass_context
@friendly_errors
def ingest(ctx: click.Context, paths: tuple[Path, ...], index_dir: Path | None, rebuild: bool,
           include: tuple[str, ...], exclude: tuple[str, ...]) -> None:
    """Read articles (.txt, .md, .html) from PATHS, files or folders (default: ./seeds), into the index;
    unchanged files are skipped."""
    from .ingest.pipeline import ingest as run_ingest

    settings = _settings(ctx, index_dir=index_dir, corpus=paths or None, include=include or None,
                         exclude=exclude or None)
    report = run_ingest(settings, rebuild=rebuild, warn=lambda msg: click.echo(f"Warning: {msg}", err=True),
                        progress=True)
    click.echo(report.summary())
    click.echo(report.faq_summary())


@main.command()
@click.argument("question")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the answer JSON (one line per question).")
@click.option("--top-k", type=int, default=None, help="Passages to retrieve per question.")
@click.option("--sentences", type=int, default=None, help="Sentences in an answer.")
@click.pass_context
@friendly_errors
def ask(ctx: click.Context, question: str, index_dir: Path | None, as_json: bool, top_k: int | None,
        sentences: int | None) -> None:
    """Answer QUESTION; with `-` read one question per line from stdin."""
    from .engine import Assistant, validate_question
    from .render import render_answer

    settings = _settings(ctx, index_dir=index_dir, top_k=top_k, max_sentences=sentences)
    if question != "-":
        validate_question(question, settings.max_question_chars)  # before the seconds-long model load
    assistant = Assistant.open(settings)
    if question != "-":
        answer = assistant.ask(question)
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False) if as_json else render_answer(answer))
        return
    failed = False
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = assistant.ask(line)
        except AssistantError as exc:
            failed = True
            click.echo(json.dumps({"question": line.strip(), "error": str(exc)}) if as_json else f"Error: {exc}")
            continue
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False) if as_json else render_answer(answer))
    if failed:
        sys.exit(2)


@main.command()
@index_option
@click.pass_context
@friendly_errors
def chat(ctx: click.Context, index_dir: Path | None) -> None:
    """A conversation in the terminal: /sources, /reset, Ctrl-D to leave."""
    from .engine import Assistant
    from .render import render_answer, render_sources
    from .types import Turn

    assistant = Assistant.open(_settings(ctx, index_dir=index_dir))
    history: list[Turn] = []
    last = None
    click.echo("Ask about the articles. /sources shows the last answer's passages, /reset starts over, "
               "Ctrl-D leaves.")
    for entry in assistant.faq()[:3]:
        click.echo(f"  e.g. {entry.question}")
    piped = not sys.stdin.isatty()  # a terminal shows what is typed; piped questions are printed by us
    while True:
        try:
            line = input("\n> ")
        except EOFError:
            click.echo()
            return
        if piped:
            click.echo(line)
        command = line.strip().lower()
        if command in {"/quit", "/exit"}:
            return
        if command == "/reset":
            history, last = [], None
            click.echo("Conversation cleared.")
            continue
        if command == "/sources":
            click.echo(render_sources(last) if last else "No answer yet.")
            continue
        try:
            last = assistant.ask(line, history)
        except AssistantError as exc:
            click.echo(f"Error: {exc}")
            continue
        history.append(Turn(last.question, last.answer))
        click.echo(render_answer(last, sources=False))


@main.command()
@index_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=int, default=7860, show_default=True, help="The port to listen on.")
@click.option("--allowed-origins", default=None,
              help="Comma-separated origins allowed to embed the widget and call the API from a browser.")
@click.pass_context
@friendly_errors
def serve(ctx: click.Context, index_dir: Path | None, host: str, port: int, allowed_origins: str | None) -> None:
    """Serve the chat page, the HTTP API and the embeddable widget."""
    from .web.app import serve as run_server

    run_server(_settings(ctx, index_dir=index_dir, allowed_origins=allowed_origins), host=host, port=port)


@main.command(name="eval", short_help="Run Q&A suites and report.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_option
@click.option("--url", default=None, help="Ask a running server (POST URL/api/ask) instead of in-process.")
@click.option("--k", "k", type=int, default=3, show_default=True, help="The k of hit@k.")
@click.option("--json", "json_out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the results as JSON to this file (with --compare: every run).")
@click.option("--junit", "junit_out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the results as JUnit XML to this file, for CI.")
@click.option("--markdown", "markdown_out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the report as Markdown to this file.")
@click.option("--min-pass-rate", type=float, default=None, help="Exit 0 when at least this share passes.")
@click.option("--only", default=None, help="Comma-separated case ids to run.")
@click.option("--tags", default=None, help="Comma-separated tags; run cases carrying any of them.")
@click.option("--concurrency", type=int, default=1, show_default=True, help="Cases run at once.")
@click.option("--engine", type=click.Choice(["ours", "naive"]), default="ours", show_default=True,
              help="Whose answers to judge: ours, or the naive baseline (llama-index defaults).")
@click.option("--compare", is_flag=True, help="Run ours and the naive pipeline side by side; with --llm-url, the "
              "LLM's answers beside the extractive ones.")
@click.option("--from-faq", "from_faq", type=click.Path(path_type=Path), default=None,
              help="Write a starter suite from ARTICLE's FAQ section to stdout (or --output).")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="With --from-faq: the file to write.")
@click.pass_context
@friendly_errors
def eval_command(ctx: click.Context, paths: tuple[Path, ...], index_dir: Path | None, **options: Any) -> None:
    """Run Q&A suites (YAML or JSONL files, or folders of them) and report."""
    from .evals.runner import EvalOptions, run

    settings = _settings(ctx, index_dir=index_dir)
    sys.exit(run(EvalOptions.from_cli(list(paths), **options), settings))


@main.group(short_help="Curate readers' rated questions into the FAQ.")
def faq() -> None:
    """Curate readers' rated questions into the FAQ: review, accept, reject, list, remove, export."""


def _curation(ctx: click.Context, index_dir: Path | None) -> tuple[Any, Any]:
    from .engine import Assistant
    from .faq.feedback import FeedbackStore

    settings = _settings(ctx, index_dir=index_dir)
    return FeedbackStore(settings), Assistant.open(settings)


@faq.command(name="review", short_help="Rated questions still to decide, grouped.")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the groups as JSON.")
@click.pass_context
@friendly_errors
def faq_review(ctx: click.Context, index_dir: Path | None, as_json: bool) -> None:
    """Rated questions still to decide, grouped by meaning: most asked, then worst rated, first."""
    from .faq.curation import review

    store, assistant = _curation(ctx, index_dir)
    groups = review(store.items(), assistant.index.embedder.embed)
    if as_json:
        click.echo(json.dumps([g.to_dict() for g in groups], indent=2, ensure_ascii=False))
        return
    if not groups:
        click.echo("No rated questions to review.")
    for g in groups:
        others = f" (also: {'; '.join(w for w in g.wordings if w != g.question)})" if len(g.wordings) > 1 else ""
        click.echo(f"[{g.id}] {g.question}{others}\n    asked {len(g.ids)}x, {g.up} up, {g.down} down"
                   f"{''.join(chr(10) + '    comment: ' + c for c in g.comments)}\n"
                   f"    answer: {g.answer.get('answer', '')}")


@faq.command(name="accept")
@click.argument("item_id", type=int)
@index_option
@click.option("--question", default="", help="The entry's question, reworded (default: the most asked wording).")
@click.option("--answer", "answer_text", default="",
              help="The answer, reworded: every sentence still quoted from a passage it cites, with its [n].")
@click.pass_context
@friendly_errors
def faq_accept(ctx: click.Context, item_id: int, index_dir: Path | None, question: str, answer_text: str) -> None:
    """Make rating ITEM_ID's answer a curated FAQ entry."""
    from .faq.curation import accept

    store, assistant = _curation(ctx, index_dir)
    entry = accept(store, assistant, item_id, question, answer_text)
    click.echo(f"Accepted as {entry.id}: {entry.question}")


@faq.command(name="reject")
@click.argument("item_id", type=int)
@index_option
@click.option("--out-of-scope", is_flag=True, help="Refuse this question and its rewordings from now on.")
@click.option("--reply", default="", help="With --out-of-scope: what readers asking it are told.")
@click.pass_context
@friendly_errors
def faq_reject(ctx: click.Context, item_id: int, index_dir: Path | None, out_of_scope: bool, reply: str) -> None:
    """Drop rating ITEM_ID's question, or mark it out of scope."""
    from .faq.curation import reject

    store, assistant = _curation(ctx, index_dir)
    entry = reject(store, assistant, item_id, out_of_scope, reply)
    click.echo(f"Marked out of scope as {entry.id}: {entry.question}" if entry else f"Rejected rating {item_id}.")


@faq.command(name="list", short_help="The curated FAQ, with the entries' ids.")
@index_option
@click.pass_context
@friendly_errors
def faq_list(ctx: click.Context, index_dir: Path | None) -> None:
    """The curated FAQ: accepted entries and out-of-scope marks, with their ids."""
    from .engine import Assistant

    entries = Assistant.open(_settings(ctx, index_dir=index_dir)).curated.entries()
    if not entries:
        click.echo("The curated FAQ is empty.")
    for e in entries:
        said = e.answer.answer if e.answer else f"(out of scope) {e.reply}"
        click.echo(f"{e.id}  {e.question}\n    {said}")


@faq.command(name="remove")
@click.argument("entry_id")
@index_option
@click.pass_context
@friendly_errors
def faq_remove(ctx: click.Context, entry_id: str, index_dir: Path | None) -> None:
    """Take ENTRY_ID (from `faq list`) out of the curated FAQ."""
    from .engine import Assistant

    entry = Assistant.open(_settings(ctx, index_dir=index_dir)).curated.remove(entry_id)
    click.echo(f"Removed {entry.id}: {entry.question}")


@faq.command(name="export", short_help="The FAQ as Markdown, HTML, JSON or a suite.")
@index_option
@click.option("--format", "kind", type=click.Choice(["md", "html", "json", "eval"]), default="md", show_default=True,
              help="Markdown, an HTML page, JSON, or an eval suite guarding the entries.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Default: stdout.")
@click.option("--base-url", default="", help="Prefix for links to article pages (e.g. https://ask.example.org).")
@click.pass_context
@friendly_errors
def faq_export(ctx: click.Context, index_dir: Path | None, kind: str, output: Path | None, base_url: str) -> None:
    """The FAQ: the articles' own entries, then the curated ones (eval: a suite guarding them)."""
    from .engine import Assistant
    from .faq.curation import export, published
    from .web.pages import render_faq

    assistant = Assistant.open(_settings(ctx, index_dir=index_dir))
    text = render_faq(published(assistant), base_url) if kind == "html" else export(assistant, kind, base_url)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"Cannot write {output} ({exc.strerror}): pick another --output.") from None
    click.echo(f"Wrote {output}.")


if __name__ == "__main__":
    main()
