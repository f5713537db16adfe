"""pytest integration: `pytest --assistant-evals evals/` collects every eval case as a test, with
the failure reason as the assertion message. Opt-in: without the flag, YAML and JSONL files are
not collected, so a project's own test run is unchanged. Registered through the `pytest11` entry
point; `--assistant-url` tests a running server, `--assistant-index` picks the index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .cases import SUFFIXES, Case, load_file


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("assistant", "cited-answer assistant eval suites")
    group.addoption("--assistant-evals", action="store_true", help="collect eval files (.yaml, .jsonl) as tests")
    group.addoption("--assistant-url", default=None, help="ask a running server instead of the in-process engine")
    group.addoption("--assistant-index", default=None, help="index directory for the in-process engine")


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if parent.config.getoption("assistant_evals") and file_path.suffix in SUFFIXES:
        return EvalFile.from_parent(parent, path=file_path)
    return None


class EvalFile(pytest.File):
    def collect(self) -> Any:
        for case in load_file(self.path):
            yield EvalItem.from_parent(self, name=case.id, case=case)


class EvalItem(pytest.Item):
    def __init__(self, *, case: Case, **kwargs: Any):
        super().__init__(**kwargs)
        self.case = case
        self.add_marker(pytest.mark.assistant_eval)
        for tag in case.tags:
            self.add_marker(tag.replace("-", "_"))

    def runtest(self) -> None:
        from .runner import run_case

        result = run_case(self.case, _asker(self.config))
        assert result.passed, result.reason

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, AssertionError):
            return f"{self.case.where}: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"eval case {self.case.id}"


def _asker(config: pytest.Config) -> Any:
    """One engine (or HTTP client) per session, built on first use."""
    asker = getattr(config, "_assistant_asker", None)
    if asker is None:
        from ..config import Settings
        from .runner import open_asker

        overrides = {"index_dir": config.getoption("assistant_index")}
        asker, _ = open_asker("ours", Settings.load(overrides=overrides), config.getoption("assistant_url"))
        config._assistant_asker = asker  # type: ignore[attr-defined]
    return asker
