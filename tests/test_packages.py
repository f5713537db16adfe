"""What a user installs: every package the code imports is declared in pyproject.toml, the locks
agree with it and with each other, and a missing package is one sentence, never a traceback, with
the index untouched. (tests/smoke_runtime.py proves the same on a real runtime-only venv.)"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from smoke_runtime import DEV_TOOLS, readme_run_command

from assistant import packages
from assistant.cli import main
from assistant.packages import normal

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
ONLY_UNDER_PYTEST = {"assistant/evals/pytest_plugin.py"}  # the plugin is loaded by pytest, which brings pytest


def pins(requirements: list[str]) -> dict[str, str]:
    """{normal name: version} of `name[extra]==version` requirements (unpinned ones map to "")."""
    found = {}
    for requirement in requirements:
        match = re.match(r"([A-Za-z0-9._-]+)(?:\[[^]]*\])?\s*(?:==\s*([^\s;\\]+))?", requirement)
        assert match, requirement
        found[normal(match.group(1))] = match.group(2) or ""
    return found


def lock(name: str) -> tuple[dict[str, str], str]:
    text = (ROOT / name).read_text(encoding="utf-8")
    return pins(re.findall(r"^[A-Za-z0-9][^\s]*==[^\s]+", text, re.MULTILINE)), text


def public(version: str) -> str:
    return version.split("+")[0]  # torch 2.13.0+cpu is the CPU build of 2.13.0


def imported_distributions() -> dict[str, set[str]]:
    """Each installed distribution that a module of assistant/ imports, with the modules importing it."""
    providers = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "assistant").rglob("*.py")):
        where = str(path.relative_to(ROOT))
        if where in ONLY_UNDER_PYTEST:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "assistant":
                    continue
                assert top in providers, f"{where} imports {module}, which no installed package provides"
                for distribution in providing(module, providers[top]):
                    found.setdefault(normal(distribution), set()).add(where)
    return found


def providing(module: str, candidates: list[str]) -> list[str]:
    """Of the distributions that install `module`'s top-level package, the ones holding the module
    itself: a namespace package (llama_index) is shared by several (llama-index-core, -llms-...)."""
    if len(candidates) == 1:
        return candidates
    folder = module.replace(".", "/")
    holding = [d for d in candidates
               if any(str(f).startswith((folder + "/", folder + ".py")) for f in importlib.metadata.files(d) or [])]
    return holding or candidates


def test_every_imported_package_is_a_declared_runtime_dependency() -> None:
    declared = pins(PYPROJECT["dependencies"])
    imported = imported_distributions()
    assert {"lxml", "numpy", "torch", "gradio"} <= declared.keys()  # the walk is not empty-handed
    assert "numpy" in imported and "chromadb" in imported
    undeclared = {name: sorted(where) for name, where in imported.items() if name not in declared}
    assert not undeclared, f"imported but not in [project.dependencies]: {undeclared}"
    unpinned = [name for name, version in declared.items() if not version]
    assert not unpinned, f"runtime dependencies without a pinned version: {unpinned}"


def test_the_locks_pin_every_package_with_hashes_and_agree_with_pyproject() -> None:
    runtime, runtime_text = lock("requirements.txt")
    dev, dev_text = lock("requirements-dev.txt")
    for text in (runtime_text, dev_text):
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2].strip())
        unhashed = [entry.split()[0] for entry in entries if "--hash=sha256:" not in entry]
        assert not unhashed, f"locked without a hash: {unhashed}"
    declared = pins(PYPROJECT["dependencies"])
    stale = {name: (version, runtime.get(name)) for name, version in declared.items()
             if public(runtime.get(name, "")) != version}
    assert not stale, f"pyproject and requirements.txt differ (run `bash .ci/lock`): {stale}"
    for name, version in pins(PYPROJECT["optional-dependencies"]["dev"]).items():
        assert name in dev and (not version or dev[name] == version), f"{name} is not locked as declared in dev"
    differing = {name: (v, dev.get(name)) for name, v in runtime.items() if dev.get(name) != v}
    assert not differing, f"requirements-dev.txt must hold the runtime lock's versions: {differing}"
    assert not DEV_TOOLS & runtime.keys(), "a dev tool in the runtime lock"
    assert runtime["torch"] == "2.13.0+cpu"  # the CPU build: an unpinned torch is a multi-GB CUDA build
    # The README installs torch first, from PyTorch's CPU index: the same entry, hashes and all.
    torch_entry = re.search(r"^torch==.*?(?=^\S)", runtime_text, re.MULTILINE | re.DOTALL)
    assert torch_entry and torch_entry.group(0).strip() in (ROOT / "requirements-torch.txt").read_text(encoding="utf-8")


def test_the_readme_run_command_installs_the_runtime_lock_as_check_sh_installs_the_dev_lock() -> None:
    run = " && .venv/bin/assistant ".join(readme_run_command((ROOT / "README.md").read_text(encoding="utf-8")))
    check = (ROOT / "tests" / "check.sh").read_text(encoding="utf-8")
    assert re.search(r"pip install -q --no-compile --require-hashes --no-deps --index-url "
                     r"https://download\.pytorch\.org/whl/cpu -r requirements-torch\.txt", run)
    for requirements, text in (("requirements.txt", run), ("requirements-dev.txt", check)):
        locked = rf"pip install -q (--no-compile )?--require-hashes --no-deps -r {re.escape(requirements)}\b"
        assert re.search(locked, text)
        assert "pip install -q --no-deps --no-build-isolation -e ." in text
    assert "python3 tests/smoke_runtime.py" in check


@pytest.fixture
def seeds_indexed(tmp_path: Path) -> tuple[CliRunner, str, dict]:
    runner = CliRunner()
    index = str(tmp_path / "ix")
    assert runner.invoke(main, ["ingest", str(ROOT / "seeds"), "--index", index]).exit_code == 0
    return runner, index, answer(runner, index)


def answer(runner: CliRunner, index: str) -> dict:
    result = runner.invoke(main, ["ask", "Where is AMI Labs based?", "--json", "--index", index])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    data.pop("timings_ms")
    return data


def test_a_declared_package_that_is_not_installed_stops_ingest_before_the_index_is_touched(
        seeds_indexed: tuple[CliRunner, str, dict], monkeypatch: pytest.MonkeyPatch) -> None:
    runner, index, before = seeds_indexed
    distribution = importlib.metadata.distribution
    version = importlib.metadata.version("markdown-it-py")

    def uninstalled(name: str) -> importlib.metadata.Distribution:
        if normal(name) == "markdown-it-py":
            raise importlib.metadata.PackageNotFoundError(name)
        return distribution(name)

    monkeypatch.setattr(packages.importlib.metadata, "distribution", uninstalled)
    result = runner.invoke(main, ["ingest", "--rebuild", str(ROOT / "tests" / "site"), "--index", index])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: Ingest needs the Python package markdown-it-py, which is not installed: install it with "
        f"`{sys.executable} -m pip install 'markdown-it-py=={version}'`."
    ]
    monkeypatch.undo()
    assert answer(runner, index) == before  # --rebuild did not start: the seeds are still the index


def test_a_package_gone_mid_ingest_is_one_sentence_and_the_live_index_stays(
        seeds_indexed: tuple[CliRunner, str, dict], monkeypatch: pytest.MonkeyPatch) -> None:
    runner, index, before = seeds_indexed
    monkeypatch.setitem(sys.modules, "markdown_it", None)  # `import markdown_it` fails as if it were gone
    result = runner.invoke(main, ["ingest", str(ROOT / "tests" / "site"), "--index", index])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [
        f"Error: Ingest needs the Python package markdown-it-py, which is not installed: install it with "
        f"`{sys.executable} -m pip install 'markdown-it-py=={importlib.metadata.version('markdown-it-py')}'`."
    ]
    monkeypatch.undo()
    assert answer(runner, index) == before


def test_a_package_that_refuses_to_import_points_at_the_lock() -> None:
    # lxml's own words when lxml_html_clean is missing: the error names no module
    refusal = ImportError("lxml.html.clean module is now a separate project lxml_html_clean.\n"
                          "Install lxml[html-clean] or lxml_html_clean directly.")
    assert str(packages.missing_import("ingest", refusal)) == (
        "Ingest cannot import a Python package it needs (lxml.html.clean module is now a separate project "
        f"lxml_html_clean): reinstall the packages it was tested with, "
        f"`{sys.executable} -m pip install --require-hashes --no-deps -r {ROOT / 'requirements.txt'}`.")


def test_a_missing_module_in_any_command_is_named_with_its_install_command() -> None:
    error = packages.missing_import("the assistant", ModuleNotFoundError("No module named 'gradio'", name="gradio"))
    assert str(error) == (f"The assistant needs the Python package gradio, which is not installed: install it with "
                          f"`{sys.executable} -m pip install 'gradio=={importlib.metadata.version('gradio')}'`.")
