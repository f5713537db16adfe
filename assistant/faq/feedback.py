"""Readers' verdicts on answers, kept through SQLAlchemy: a SQLite file by default (created on first
use), or any SQLAlchemy URL (PostgreSQL when several servers share one). Alembic keeps the schema
(`assistant/migrations/`), upgraded on first use. Nothing personal is kept beyond what the reader
typed, and that only when `feedback_keep_questions` is on, for `feedback_retention_days`. A database
that cannot be used fails the feedback with one sentence, never an answer."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, Integer, SmallInteger, Text, create_engine, delete, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from ..config import Settings
from ..errors import FeedbackUnavailableError

MIGRATIONS = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    pass


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # What the reader typed: empty when feedback_keep_questions is off.
    question: Mapped[str] = mapped_column(Text)
    history: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    rating: Mapped[int] = mapped_column(SmallInteger)
    # The index generation that answered.
    generation: Mapped[str] = mapped_column(Text)
    # Its place in the owner's review: NEW, or what `assistant faq accept/reject` made of it.
    status: Mapped[str] = mapped_column(Text, default="new")


@dataclass(frozen=True)
class Rated:
    """One stored verdict."""

    id: int
    created: datetime
    question: str
    history: list[dict[str, str]]
    comment: str
    answer: dict[str, Any]
    rating: int
    generation: str
    status: str


# A rating's status in the owner's review.
NEW, ACCEPTED, REJECTED, OUT_OF_SCOPE = "new", "accepted", "rejected", "out_of_scope"


def database_url(settings: Settings) -> str:
    return settings.feedback_url or f"sqlite:///{(settings.index_dir / 'feedback.sqlite3').resolve()}"


class FeedbackStore:
    """The feedback table behind a lazily opened engine; every failure is a FeedbackUnavailableError."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.url = database_url(settings)
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def add(self, question: str, answer: dict[str, Any], history: list[dict[str, str]], rating: int,
            comment: str, generation: str) -> int:
        """Store a verdict and forget those past the retention period; the new item's id."""
        keep = self.settings.feedback_keep_questions
        row = FeedbackRow(created=datetime.now(UTC), question=question if keep else "",
                          history=history if keep else [], comment=comment if keep else "",
                          answer=answer if keep else {**answer, "question": "", "search_query": ""},
                          rating=rating, generation=generation, status=NEW)
        cutoff = datetime.now(UTC) - timedelta(days=self.settings.feedback_retention_days)
        with self._session() as session:
            session.add(row)
            session.execute(delete(FeedbackRow).where(FeedbackRow.created < cutoff))
            session.commit()
            return row.id

    def items(self) -> list[Rated]:
        """Every stored verdict, oldest first."""
        with self._session() as session:
            rows = session.scalars(select(FeedbackRow).order_by(FeedbackRow.id)).all()
            return [Rated(r.id, r.created, r.question, r.history, r.comment, r.answer, r.rating, r.generation,
                          r.status) for r in rows]

    def mark(self, ids: list[int], status: str) -> None:
        """Set the review status of these ratings."""
        with self._session() as session:
            for row in session.scalars(select(FeedbackRow).where(FeedbackRow.id.in_(ids))):
                row.status = status
            session.commit()

    def _session(self) -> Session:
        try:
            return _Guarded(self._ready(), self._where())
        except FeedbackUnavailableError:
            raise
        except (SQLAlchemyError, OSError, ValueError) as exc:
            raise self._unavailable(exc) from None

    def _ready(self) -> Engine:
        with self._lock:
            if self._engine is None:
                try:
                    url = make_url(self.url)
                except ArgumentError as exc:
                    raise FeedbackUnavailableError(f"The feedback_url {self.url!r} is not a database URL ({exc}): "
                                                   "fix the setting.") from None
                if url.get_backend_name() == "sqlite" and url.database:
                    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
                engine = create_engine(url, pool_pre_ping=True)
                try:
                    upgrade(engine)
                except (SQLAlchemyError, OSError) as exc:
                    engine.dispose()
                    raise self._unavailable(exc) from None
                self._engine = engine
            return self._engine

    def _where(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def _unavailable(self, exc: BaseException) -> FeedbackUnavailableError:
        return _failure(self._where(), exc)


def _failure(where: str, exc: BaseException) -> FeedbackUnavailableError:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
    return FeedbackUnavailableError(f"The feedback database {where} cannot be used ({reason}): the answer stands, "
                                    "but the rating was not saved; the site owner should check the database or the "
                                    "feedback_url setting.")


class _Guarded(Session):
    """A session whose database errors become one FeedbackUnavailableError sentence."""

    def __init__(self, engine: Engine, where: str):
        super().__init__(engine)
        self.where = where

    def __exit__(self, kind: Any, exc: Any, traceback: Any) -> None:
        super().__exit__(kind, exc, traceback)
        if isinstance(exc, (SQLAlchemyError, OSError)):
            raise _failure(self.where, exc) from None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database's schema to an Alembic revision, the newest by default (creating it on
    first use)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
