"""The docs site builds with `mkdocs build --strict` (a broken link or anchor fails the build), and
its reference pages are generated from the code: the command line page names every command of the
click group, the HTTP page every path of the app's OpenAPI document."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from assistant.cli import main
from assistant.config import Settings
from assistant.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml", "-d", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material's banner about MkDocs 2, not ours
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-5000:]
    return out


def page_text(site: Path, page: str) -> str:
    """The words of a built page, without its tags."""
    raw = (site / page / "index.html").read_text(encoding="utf-8")
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", raw)).split())


def command_paths(group: click.Group, prefix: str) -> list[str]:
    found = []
    for name, command in group.commands.items():
        found.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            found += command_paths(command, f"{prefix} {name}")
    return found


def test_every_command_is_on_the_command_line_page(site: Path) -> None:
    text = page_text(site, "reference/cli")
    commands = command_paths(main, "assistant")
    assert "assistant faq accept" in commands  # the walk reaches the nested group
    assert [c for c in commands if f"Usage: {c} " not in text] == []


def test_every_path_is_on_the_http_page(site: Path, tmp_path: Path) -> None:
    text = page_text(site, "reference/http")
    spec = create_app(Settings(index_dir=tmp_path / "index")).openapi()
    operations = [f"{method.upper()} {path}" for path, methods in spec["paths"].items() for method in methods]
    assert "POST /api/ask" in operations
    assert [o for o in operations if o not in text] == []


def test_no_marker_is_left_unreplaced(site: Path) -> None:
    left = [str(p.relative_to(site)) for p in site.rglob("*.html") if "<!-- generated:" in p.read_text("utf-8")]
    assert left == []
