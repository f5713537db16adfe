"""The CLI through click's runner: outputs, exit codes and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.render import render_answer
from assistant.types import TENTATIVE, Answer, Citation

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str, input: str | None = None):  # noqa: A002 - click's name
    return runner.invoke(main, list(args), input=input, catch_exceptions=False)


def test_help_lists_every_command(runner: CliRunner) -> None:
    result = invoke(runner, "--help")
    assert result.exit_code == 0
    for command in ("ingest", "ask", "chat", "serve", "eval", "faq"):
        assert command in result.output


@pytest.mark.parametrize("group", [[], ["faq"]])
def test_help_shows_each_command_s_description_whole(runner: CliRunner, group: list[str]) -> None:
    result = invoke(runner, *group, "--help")
    listing = result.output.split("Commands:")[1]
    assert "..." not in listing
    listed = main.commands[group[0]] if group else main
    assert isinstance(listed, click.Group)
    for name, command in listed.commands.items():
        assert " ".join(command.get_short_help_str(1000).split()) in " ".join(listing.split()), name


def _commands(group: click.Group) -> list[click.Command]:
    nested = [_commands(c) if isinstance(c, click.Group) else [c] for c in group.commands.values()]
    return [group] + [c for commands in nested for c in commands]


def test_every_option_says_what_it_does() -> None:
    silent = [f"{command.name} {option.opts[0]}" for command in _commands(main) for option in command.params
              if isinstance(option, click.Option) and not option.help]
    assert silent == []


def test_ingest_then_ask_in_text_and_json(runner: CliRunner, tmp_path: Path) -> None:
    index = str(tmp_path / "ix")
    result = invoke(runner, "ingest", str(SEEDS), "--index", index)
    assert result.exit_code == 0
    assert result.output.startswith("Indexed 3 files (3 new or changed, 0 removed)")
    again = invoke(runner, "ingest", str(SEEDS), "--index", index)
    assert "0 new or changed" in again.output and "0 chunks added" in again.output

    text = invoke(runner, "ask", "Where is AMI Labs based?", "--index", index)
    assert text.exit_code == 0
    assert "Paris" in text.output and "[1] Yann LeCun Just Quit Meta" in text.output
    assert "001_27311eb9970b0850, characters" in text.output

    data = json.loads(invoke(runner, "ask", "Where is AMI Labs based?", "--json", "--index", index).output)
    assert data["refused"] is False and data["citations"][0]["doc_id"] == "001_27311eb9970b0850"
    source = (SEEDS / "001_27311eb9970b0850.txt").read_text(encoding="utf-8")
    for c in data["citations"]:
        assert source[c["start"]:c["end"]] == c["text"]

    assert isinstance(data["confident"], bool) and 0 <= data["confidence"] <= 1
    assert data["answer"].startswith(TENTATIVE) != data["confident"]
    refused = json.loads(invoke(runner, "ask", "Who won the 2022 World Cup?", "--json", "--index", index).output)
    assert refused["refused"] is True and refused["confident"] is False


def test_a_tentative_answer_is_introduced_on_a_line_of_its_own_and_its_quote_set_in() -> None:
    passage = Citation(n=1, doc_id="a", title="AMI Labs", section="", text="AMI Labs is in Paris.", start=0, end=21,
                       score=0.5, spans=[(0, 21)])
    unsure = render_answer(Answer("q", f"{TENTATIVE} AMI Labs is in Paris. [1]", False, [passage], confidence=0.6))
    assert unsure.splitlines()[:2] == [TENTATIVE, "  > AMI Labs is in Paris. [1]"]
    sure = render_answer(Answer("q", "AMI Labs is in Paris. [1]", False, [passage], confidence=0.97, confident=True))
    assert sure.splitlines()[0] == "AMI Labs is in Paris. [1]" and TENTATIVE not in sure


def test_stdin_mode_answers_one_json_line_per_question(runner: CliRunner, seed_index: Path) -> None:
    questions = "Where is AMI Labs based?\n\nWhat exactly are world models?\n   \nWho won the 2022 World Cup?\n"
    result = invoke(runner, "ask", "--json", "-", "--index", str(seed_index), input=questions)
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["question"] for line in lines] == [
        "Where is AMI Labs based?", "What exactly are world models?", "Who won the 2022 World Cup?"]
    assert [line["refused"] for line in lines] == [False, False, True]


def test_stdin_mode_reports_a_bad_line_and_goes_on(runner: CliRunner, seed_index: Path) -> None:
    result = invoke(runner, "ask", "--json", "-", "--index", str(seed_index),
                    input="x" * 2500 + "\nWhere is AMI Labs based?\n")
    assert result.exit_code == 2
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert "limit is 2,000" in first["error"]
    assert second["refused"] is False


@pytest.mark.parametrize(("args", "message"), [
    (["ask", "   "], "The question is empty"),
    (["ask", "y" * 2001], "the limit is 2,000"),
    (["ask", "Where is AMI Labs based?"], "No index at"),
    (["ingest", "/no/such/folder"], "does not exist"),
])
def test_user_mistakes_exit_2_with_one_line_and_no_traceback(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(main, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_ingest_counts_one_file_in_the_singular(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "paris.txt").write_text("Paris is the capital of France. It lies on the Seine.", encoding="utf-8")
    result = invoke(runner, "ingest", str(folder), "--index", str(tmp_path / "ix"))
    assert result.exit_code == 0
    assert result.output.startswith("Indexed 1 file (1 new or changed, 0 removed): 1 chunk added, 0 removed, 0 kept")
    assert "FAQ units: none found in the 1 file." in result.output


def test_an_ingest_of_a_missing_folder_or_one_without_articles_creates_no_index(runner: CliRunner,
                                                                               tmp_path: Path) -> None:
    index = tmp_path / "ix"
    result = runner.invoke(main, ["ingest", str(tmp_path / "no-such-folder"), "--index", str(index)])
    assert result.exit_code == 2 and "does not exist" in result.output
    assert not index.exists()
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    result = runner.invoke(main, ["ingest", str(tmp_path / "pictures"), "--index", str(index)])
    assert result.exit_code == 2 and "No readable articles" in result.output
    assert not index.exists()


def test_no_index_names_the_absolute_path_and_the_index_option(runner: CliRunner, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["ask", "Where is AMI Labs based?", "--index", "ix"])
    assert result.exit_code == 2
    assert result.output == f"Error: No index at {tmp_path / 'ix'}: run `assistant ingest` first, or point " \
                            "--index at an existing index.\n"


def test_corrupt_and_foreign_index_folders(runner: CliRunner, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "manifest.json").write_text("garbage")
    result = runner.invoke(main, ["ask", "Where is AMI Labs based?", "--index", str(corrupt)])
    assert result.exit_code == 2 and "damaged or was built by an older version" in result.output
    (corrupt / "chroma").mkdir()
    (corrupt / "chroma" / "chroma.sqlite3").write_text("garbage")
    result = runner.invoke(main, ["ask", "Where is AMI Labs based?", "--index", str(corrupt)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "it is damaged; run `assistant ingest --rebuild`" in result.output
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    result = runner.invoke(main, ["ask", "Where is AMI Labs based?", "--index", str(foreign)])
    assert result.exit_code == 2 and "run `assistant ingest` first" in result.output


def test_max_question_length_is_configurable(runner: CliRunner, seed_index: Path, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANT_MAX_QUESTION_CHARS", "10")
    result = runner.invoke(main, ["ask", "Where is AMI Labs based?", "--index", str(seed_index)])
    assert result.exit_code == 2 and "the limit is 10" in result.output


def test_chat_keeps_context_and_supports_commands(runner: CliRunner, seed_index: Path) -> None:
    script = "What is the name of the lab LeCun started in Paris?\nWhere is it based?\n/sources\n/reset\n"
    result = invoke(runner, "chat", "--index", str(seed_index), input=script)
    assert result.exit_code == 0
    assert "AMI Labs" in result.output and "Paris" in result.output
    assert "characters" in result.output  # /sources printed the passages
    assert "Conversation cleared." in result.output


def test_piped_chat_echoes_each_question_before_its_answer(runner: CliRunner, seed_index: Path) -> None:
    script = "Where is AMI Labs based?\n/reset\n"
    result = invoke(runner, "chat", "--index", str(seed_index), input=script)
    assert result.exit_code == 0
    _, rest = result.output.split("> Where is AMI Labs based?\n", 1)
    assert "Paris" in rest.split("> /reset\n")[0] and "Conversation cleared." in rest


def test_a_truncated_store_is_reported_and_a_rebuild_repairs_it(runner: CliRunner, tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert invoke(runner, "ingest", str(SEEDS), "--index", str(index)).exit_code == 0
    database = index / "chroma" / "chroma.sqlite3"
    database.write_bytes(database.read_bytes()[: database.stat().st_size // 3])
    for command in (["ask", "Where is AMI Labs based?"], ["ingest", str(SEEDS)]):
        result = runner.invoke(main, [*command, "--index", str(index)])
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert result.output.strip().endswith("it is damaged; run `assistant ingest --rebuild`.")
    result = invoke(runner, "ingest", str(SEEDS), "--rebuild", "--index", str(index))
    assert result.exit_code == 0 and "could not be opened: replacing it" in result.output
    assert "Paris" in invoke(runner, "ask", "Where is AMI Labs based?", "--index", str(index)).output


def test_a_second_ingest_says_one_is_already_running(runner: CliRunner, tmp_path: Path) -> None:
    from assistant.store.writer import writer_lock

    index = tmp_path / "index"
    with writer_lock(index):
        result = runner.invoke(main, ["ingest", str(SEEDS), "--index", str(index)])
    assert result.exit_code == 1 and "An ingest is already running on" in result.output
