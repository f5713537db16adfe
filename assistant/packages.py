"""Whether the Python packages this project declares are installed, and one sentence for one that
is not: a user who installed by hand (or whose pip left a package out) reads which package is
missing and the command that installs it, not a traceback.

It checks presence, not versions (requirements.txt pins those), and it reads what is installed
(package metadata) without importing anything, so the check costs milliseconds, not the seconds
that importing torch does.

May import: errors.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
import sys
from pathlib import Path

from .errors import MissingPackageError

DISTRIBUTION = "cited-assistant"


def normal(name: str) -> str:
    """A package name as the index compares them (PEP 503): `markdown_it_py` is `markdown-it-py`."""
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=1)
def declared() -> dict[str, str]:
    """Each runtime requirement of this project, by normal name: {"markdown-it-py": "markdown-it-py==4.3.0"}.
    Empty when the project runs from a source tree that was never installed."""
    try:
        requirements = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        return {}
    found = {}
    for requirement in requirements:
        spec, _, marker = requirement.partition(";")
        if "extra" in marker:  # the dev tools
            continue
        name = re.match(r"[A-Za-z0-9._-]+", spec.strip())
        if name:
            found[normal(name.group(0))] = re.sub(r"\[.*?\]", "", spec.strip())
    return found


def require_installed(command: str) -> None:
    """Raise MissingPackageError for the first declared package that is not installed."""
    for name, requirement in declared().items():
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise missing(command, name, requirement) from None


def missing_import(command: str, exc: ImportError) -> MissingPackageError:
    """The sentence for an import that failed anyway: a package a declared one needs is missing, or
    one is installed at a version that does not fit."""
    module = (exc.name or "").split(".")[0]
    if isinstance(exc, ModuleNotFoundError) and module:
        # The module's distribution by name ("markdown_it" comes from markdown-it-py).
        name = normal(next(iter(importlib.metadata.packages_distributions().get(module, [])), module))
        return missing(command, name, declared().get(name, module))
    # e.g. lxml.html.clean, which only says that lxml_html_clean is missing, or a name a version lacks
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")
    return MissingPackageError(
        f"{command.capitalize()} cannot import a Python package it needs ({reason}): "
        f"reinstall the packages it was tested with, `{_reinstall()}`."
    )


def missing(command: str, name: str, requirement: str) -> MissingPackageError:
    return MissingPackageError(
        f"{command.capitalize()} needs the Python package {name}, which is not installed: "
        f"install it with `{sys.executable} -m pip install '{requirement}'`."
    )


def _reinstall() -> str:
    lock = Path(__file__).resolve().parent.parent / "requirements.txt"  # a checkout's runtime lock
    if lock.is_file():
        return f"{sys.executable} -m pip install --require-hashes --no-deps -r {lock}"
    return f"{sys.executable} -m pip install --force-reinstall {DISTRIBUTION}"
