"""Readers' ratings: the store on a SQLite file and on a real PostgreSQL server (the same tests),
`POST /api/feedback` on a real `assistant serve`, and a database that cannot be used failing the
rating with one sentence while the chat keeps answering."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from webserver import running_server

from assistant.config import Settings
from assistant.errors import FeedbackUnavailableError
from assistant.faq.feedback import FeedbackRow, FeedbackStore

QUESTION = "Where is AMI Labs based?"


@pytest.fixture(params=["sqlite", "postgresql"])
def feedback_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    from sqlalchemy import create_engine, text

    with create_engine(url).begin() as connection:  # each test starts from an empty database
        connection.execute(text("DROP TABLE IF EXISTS feedback, alembic_version"))
    return url


def test_ratings_are_stored_with_their_context_and_forgotten_after_the_retention(feedback_url: str,
                                                                                  tmp_path: Path) -> None:
    store = FeedbackStore(Settings(index_dir=tmp_path, feedback_url=feedback_url, feedback_retention_days=30))
    answer = {"question": QUESTION, "answer": "In Paris. [1]", "citations": [], "refused": False}
    history = [{"question": "What did LeCun start?", "answer": "AMI Labs. [1]"}]
    first = store.add(QUESTION, answer, history, -1, "Too short.", "gen-1")
    second = store.add("Who is LeCun?", answer, [], 1, "", "gen-1")
    assert second > first
    items = store.items()
    assert [(i.question, i.rating, i.comment, i.generation) for i in items] == [
        (QUESTION, -1, "Too short.", "gen-1"), ("Who is LeCun?", 1, "", "gen-1")]
    assert items[0].history == history and items[0].answer == answer
    # Past the retention period an item is forgotten at the next rating.
    with store._session() as session:
        row = session.get(FeedbackRow, first)
        assert row is not None
        row.created = datetime.now(UTC) - timedelta(days=31)
        session.commit()
    store.add("Anything else?", answer, [], 1, "", "gen-2")
    assert [i.question for i in store.items()] == ["Who is LeCun?", "Anything else?"]


def test_without_keeping_questions_only_the_rating_and_the_citations_are_kept(feedback_url: str,
                                                                              tmp_path: Path) -> None:
    store = FeedbackStore(Settings(index_dir=tmp_path, feedback_url=feedback_url, feedback_keep_questions=False))
    answer = {"question": QUESTION, "answer": "In Paris. [1]", "search_query": QUESTION, "citations": []}
    store.add(QUESTION, answer, [{"question": "q", "answer": "a"}], 1, "my email is x@y.z", "gen-1")
    item = store.items()[0]
    assert (item.question, item.history, item.comment) == ("", [], "")
    assert item.answer == {**answer, "question": "", "search_query": ""} and item.rating == 1


def test_the_api_stores_a_rating_and_answers_in_our_words(seed_index: Path, tmp_path: Path) -> None:
    database = tmp_path / "ratings" / "feedback.sqlite3"  # its folder does not exist yet
    env = {"ASSISTANT_FEEDBACK_URL": f"sqlite:///{database}"}
    with running_server(seed_index, env=env) as url:
        answer = httpx.post(f"{url}/api/ask", json={"question": QUESTION}).json()
        saved = httpx.post(f"{url}/api/feedback", json={"question": QUESTION, "answer": answer, "rating": 1,
                                                          "comment": " Spot on. "})
        assert saved.status_code == 201 and saved.json()["id"] == 1
        for body, detail in [
            ({"question": QUESTION, "answer": answer, "rating": 5}, "Rating: it must be 1 (the answer helped) or -1"),
            ({"answer": answer, "rating": 1}, "Question is missing."),
            ({"question": QUESTION, "answer": answer}, "Rating is missing."),
            ({"question": QUESTION, "answer": answer, "rating": 1, "comment": "x" * 2001},
             "Comment: it is 2,001 characters long; the limit is 2,000."),
        ]:
            response = httpx.post(f"{url}/api/feedback", json=body)
            assert response.status_code == 422 and response.json()["detail"].startswith(detail), response.text
        generation = httpx.get(f"{url}/api/health").json()["generation"]
    with running_server(seed_index, env=env) as url:  # a restart loses nothing
        assert httpx.post(f"{url}/api/feedback", json={"question": QUESTION, "answer": answer,
                                                       "rating": -1}).json()["id"] == 2
    items = FeedbackStore(Settings(index_dir=tmp_path, feedback_url=f"sqlite:///{database}")).items()
    assert [(i.rating, i.comment, i.generation) for i in items] == [(1, "Spot on.", generation), (-1, "", generation)]
    assert items[0].answer["answer"] == answer["answer"]


@pytest.mark.parametrize("damage", ["corrupt", "locked", "not a URL"])
def test_a_database_that_cannot_be_used_fails_the_rating_not_the_answer(seed_index: Path, tmp_path: Path,
                                                                        damage: str) -> None:
    database = tmp_path / "feedback.sqlite3"
    url = f"sqlite:///{database}"
    holder = None
    if damage == "corrupt":
        database.write_bytes(b"this is not a database\n" * 100)
    elif damage == "locked":
        FeedbackStore(Settings(index_dir=tmp_path, feedback_url=url)).items()  # created, then locked
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
    else:
        url = "not a database"
    try:
        with running_server(seed_index, env={"ASSISTANT_FEEDBACK_URL": url}) as server:
            answer = httpx.post(f"{server}/api/ask", json={"question": QUESTION})
            assert answer.status_code == 200
            response = httpx.post(f"{server}/api/feedback", json={"question": QUESTION, "answer": answer.json(),
                                                                   "rating": 1}, timeout=60)
            assert response.status_code == 503
            detail = response.json()["detail"]
            assert detail.count(". ") == 0 and "Traceback" not in detail
            expected = "is not a database URL" if damage == "not a URL" else "the rating was not saved"
            assert expected in detail
            assert httpx.post(f"{server}/api/ask", json={"question": QUESTION}).status_code == 200
    finally:
        if holder is not None:
            holder.close()
    if damage == "corrupt":
        assert database.read_bytes() == b"this is not a database\n" * 100  # left as it was, for the owner


def test_the_store_reports_a_broken_database_in_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "bad.sqlite3").write_bytes(b"\x00garbage" * 50)
    store = FeedbackStore(Settings(index_dir=tmp_path, feedback_url=f"sqlite:///{tmp_path / 'bad.sqlite3'}"))
    with pytest.raises(FeedbackUnavailableError, match=r"cannot be used \(file is not a database\)"):
        store.add(QUESTION, {}, [], 1, "", "")


def test_a_database_of_an_older_schema_is_upgraded_keeping_its_ratings(feedback_url: str, tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text

    from assistant.faq.feedback import upgrade

    engine = create_engine(feedback_url)
    upgrade(engine, "0001")  # the first schema, before ratings had a review status
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO feedback (created, question, history, comment, answer, rating, generation)"
                                " VALUES (:c, 'Old question?', '[]', '', '{}', 1, 'g0')"), {"c": datetime.now(UTC)})
    engine.dispose()
    items = FeedbackStore(Settings(index_dir=tmp_path, feedback_url=feedback_url)).items()
    assert [(i.question, i.rating, i.status) for i in items] == [("Old question?", 1, "new")]
