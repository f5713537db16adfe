"""The FAQ that grows, end to end: readers ask and rate on a real server, the server restarts, the
owner reviews, accepts and marks out of scope from the command line, a reader's rewording gets the
curated answer (or the owner's refusal) from the running server, the FAQ is exported and its eval
suite passes; curated entries survive re-ingests, and work in Chroma server mode."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
from webserver import running_server

from assistant.answering.curated import FAQ, OUT_OF_SCOPE
from assistant.config import Settings
from assistant.engine import Assistant
from assistant.ingest.pipeline import ingest
from assistant.types import Answer

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def ask(url: str, question: str) -> dict:  # type: ignore[type-arg]
    response = httpx.post(f"{url}/api/ask", json={"question": question}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def rate(url: str, question: str, rating: int, comment: str = "") -> int:
    answer = ask(url, question)
    response = httpx.post(f"{url}/api/feedback", json={"question": question, "answer": answer, "rating": rating,
                                                       "comment": comment})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def eventually(url: str, question: str, curated: bool) -> dict:  # type: ignore[type-arg]
    """The answer once the server has followed the store (it looks at most once a second)."""
    deadline = time.monotonic() + 10
    while True:
        answer = ask(url, question)
        if answer["curated"] == curated or time.monotonic() > deadline:
            return answer
        time.sleep(0.3)


def test_ask_rate_restart_review_accept_reject_reword_export_eval(tmp_path: Path) -> None:
    index = tmp_path / "index"
    ingest(Settings.load(overrides={"index_dir": index, "corpus": (SEEDS,)}, environ={}))
    with running_server(index) as url:
        rate(url, "Where is AMI Labs based?", 1)
        rate(url, "In which city is AMI Labs located?", -1, "Say it first.")
        rate(url, "What is the recipe for banana bread?", -1, "Off topic.")
        rate(url, "How do I bake banana bread?", -1)
        assert not ask(url, "Where is AMI Labs headquartered?")["curated"]
    with running_server(index) as url:  # the ratings outlive the server
        review = cli("faq", "review", "--json", "--index", str(index))
        assert review.returncode == 0, review.stderr
        groups = json.loads(review.stdout)
        # As often asked, the worse rated first.
        assert [(g["asked"], g["rating"]) for g in groups] == [(2, {"up": 0, "down": 2}), (2, {"up": 1, "down": 1})]
        bread, ami = groups
        assert set(ami["wordings"]) == {"Where is AMI Labs based?", "In which city is AMI Labs located?"}
        assert ami["comments"] == ["Say it first."] and "Paris" in ami["answer"]["answer"]
        # A reworded answer must stay quoted from its passages.
        made_up = cli("faq", "accept", str(ami["id"]), "--answer", "AMI Labs is in Lyon. [1]", "--index", str(index))
        assert made_up.returncode == 2 and "must be quoted" in made_up.stderr and "Traceback" not in made_up.stderr
        accepted = cli("faq", "accept", str(ami["id"]), "--question", "Where is AMI Labs based?", "--index", str(index))
        assert accepted.returncode == 0 and accepted.stdout.startswith(f"Accepted as faq:{ami['id']}"), accepted.stderr
        marked = cli("faq", "reject", str(bread["id"]), "--out-of-scope", "--reply",
                     "This site is about AI research, not cooking.", "--index", str(index))
        assert marked.returncode == 0, marked.stderr
        again = cli("faq", "accept", str(ami["id"]), "--index", str(index))
        assert again.returncode == 2 and "already accepted or rejected" in again.stderr
        assert json.loads(cli("faq", "review", "--json", "--index", str(index)).stdout) == []
        # The running server picks the owner's decisions up: a rewording gets them.
        reworded = eventually(url, "Where is AMI Labs headquartered?", curated=True)
        assert reworded["curated"] and not reworded["refused"] and "Paris" in reworded["answer"]
        assert reworded["citations"][0]["doc_id"] == ami["answer"]["citations"][0]["doc_id"]
        refused = ask(url, "Can you give me a banana bread recipe?")
        assert refused["refused"] and refused["curated"]
        assert refused["answer"] == "This site is about AI research, not cooking." and refused["citations"] == []
        assert not ask(url, "What did LeCun say about LLMs at GTC?")["curated"]  # other questions as before
        markdown = cli("faq", "export", "--index", str(index)).stdout
        assert markdown.index("## From the articles") < markdown.index("## From readers' questions")
        assert "### Where is AMI Labs based?" in markdown and "](/articles/001_27311eb9970b0850?start=" in markdown
        suite = tmp_path / "curated.yaml"
        assert cli("faq", "export", "--format", "eval", "--output", str(suite), "--index", str(index)).returncode == 0
        evaluated = cli("eval", str(suite), "--url", url)
        assert evaluated.returncode == 0 and "2/2 cases passed" in evaluated.stdout, evaluated.stdout
        page = httpx.get(f"{url}/faq")
        assert page.status_code == 200 and "Where is AMI Labs based?" in page.text
    # Re-ingesting, even from scratch, keeps the curated FAQ.
    ingest(Settings.load(overrides={"index_dir": index, "corpus": (SEEDS,)}, environ={}), rebuild=True)
    assert cli("ask", "Where is AMI Labs headquartered?", "--json", "--index", str(index)).stdout.count(
        '"curated": true') == 1
    # The owner can take an entry back out.
    listed = cli("faq", "list", "--index", str(index)).stdout
    assert f"faq:{ami['id']}  Where is AMI Labs based?" in listed and f"out_of_scope:{bread['id']}" in listed
    removed = cli("faq", "remove", f"faq:{ami['id']}", "--index", str(index))
    assert removed.returncode == 0 and removed.stdout.startswith(f"Removed faq:{ami['id']}")
    assert '"curated": false' in cli("ask", "Where is AMI Labs headquartered?", "--json", "--index", str(index)).stdout
    unknown = cli("faq", "remove", "faq:999", "--index", str(index))
    assert unknown.returncode == 2 and "no curated entry 'faq:999'" in unknown.stderr


def test_rewordings_get_the_entry_and_other_questions_about_the_same_thing_do_not(tmp_path: Path) -> None:
    settings = Settings.load(overrides={"index_dir": tmp_path / "index", "corpus": (SEEDS,)}, environ={})
    ingest(settings)
    assistant = Assistant.open(settings)
    assistant.curated.add(FAQ, "Where is AMI Labs based?", 1, answer=assistant.ask("Where is AMI Labs based?"))
    assistant.curated.add(OUT_OF_SCOPE, "What stock should I buy?", 2, reply="We give no investment advice.")
    for question in ("Where is AMI Labs headquartered?", "In which city is AMI Labs located?"):
        got = assistant.ask(question)
        assert got.curated and "Paris" in got.answer, question
    assert assistant.ask("Which stocks should I invest in?").answer == "We give no investment advice."
    for question in ("Who founded AMI Labs?", "When was AMI Labs founded?", "What does AMI Labs do?"):
        assert not assistant.ask(question).curated, question


def test_an_entry_whose_passage_changed_is_left_aside(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lab.txt").write_text("The Lab\n\nThe lab is based in Paris. It opened in 2025.\n", encoding="utf-8")
    settings = Settings.load(overrides={"index_dir": tmp_path / "index", "corpus": (corpus,)}, environ={})
    ingest(settings)
    assistant = Assistant.open(settings)
    answer = assistant.ask("Where is the lab based?")
    assistant.curated.add(FAQ, "Where is the lab based?", 1, answer=answer)
    assert assistant.ask("Where is the lab located?").curated
    (corpus / "lab.txt").write_text("The Lab\n\nThe lab is based in Lyon now. It opened in 2025.\n", encoding="utf-8")
    ingest(settings)
    assert not Assistant.open(settings).ask("Where is the lab located?").curated


def test_curated_entries_in_chroma_server_mode_reach_every_reader(chroma_server: int, tmp_path: Path) -> None:
    overrides = {"index_dir": tmp_path / "empty", "corpus": (SEEDS,), "chroma_host": "127.0.0.1",
                 "chroma_port": chroma_server}
    settings = Settings.load(overrides=overrides, environ={})
    ingest(settings)
    owner, reader = Assistant.open(settings), Assistant.open(settings)
    answer = owner.ask("Where is AMI Labs based?")
    owner.curated.add(FAQ, "Where is AMI Labs based?", 7, answer=Answer.from_dict(answer.to_dict()))
    time.sleep(1.1)  # a reader looks for new entries at most once a second
    got = reader.ask("In which city is AMI Labs located?")
    assert got.curated and got.confident and got.answer == answer.quoted  # published as an answer
    assert not (tmp_path / "empty" / "chroma").exists()  # all in the Chroma server


def test_the_owner_page_is_off_without_a_token_and_only_for_the_owner(tmp_path: Path) -> None:
    index = tmp_path / "index"
    ingest(Settings.load(overrides={"index_dir": index, "corpus": (SEEDS,)}, environ={}))
    with running_server(index) as url:
        assert httpx.get(f"{url}/admin").status_code == 404
    blog = "http://127.0.0.1:9"  # an allowed widget site
    env = {"ASSISTANT_ADMIN_TOKEN": "s3cret-token-for-the-owner"}
    with running_server(index, "--allowed-origins", blog, env=env) as url:
        rating = rate(url, "Where is AMI Labs based?", 1)
        page = httpx.get(f"{url}/admin")
        assert page.status_code == 200 and 'name="token"' in page.text
        assert page.headers["content-security-policy"].startswith("frame-ancestors 'none'")
        with httpx.Client(base_url=url) as owner:
            assert owner.post("/admin/login", data={"token": "wrong"}).status_code == 403
            assert owner.post("/admin/accept", data={"id": rating}).status_code == 403  # not signed in
            signed = owner.post("/admin/login", data={"token": env["ASSISTANT_ADMIN_TOKEN"]}, follow_redirects=True)
            assert signed.status_code == 200 and "Where is AMI Labs based?" in signed.text
            # The widget's site may call the API, never the owner's page, even with the cookie.
            forged = owner.post("/admin/accept", data={"id": rating}, headers={"Origin": blog})
            assert forged.status_code == 403
            grounded = owner.post("/admin/accept", data={"id": rating, "answer": "AMI Labs is in Lyon. [1]"})
            assert grounded.status_code == 422 and "must be quoted" in grounded.text
            done = owner.post("/admin/accept", data={"id": rating})
            assert done.status_code == 200 and f"Accepted as faq:{rating}" in done.text
            assert "No rated questions to review." in done.text
            assert owner.post("/admin/remove", data={"entry": f"faq:{rating}"},
                              headers={"Origin": blog}).status_code == 403
            assert eventually(url, "In which city is AMI Labs located?", curated=True)["curated"]
            removed = owner.post("/admin/remove", data={"entry": f"faq:{rating}"})
            assert removed.status_code == 200 and f"Removed faq:{rating}" in removed.text
        assert not eventually(url, "In which city is AMI Labs located?", curated=False)["curated"]


def test_a_reworded_entry_cites_only_the_passages_it_uses_numbered_from_one() -> None:
    from assistant.faq.curation import _renumbered
    from assistant.types import Citation

    first = Citation(1, "lab", "The Lab", "", "The lab is in Paris.", 0, 20, 0.9)
    second = Citation(2, "lab", "The Lab", "", "It opened in 2025.", 21, 39, 0.8)
    kept = _renumbered(Answer("When did the lab open?", "It opened in 2025. [2]", False, [first, second]))
    assert kept.answer == "It opened in 2025. [1]" and [(c.n, c.start) for c in kept.citations] == [(1, 21)]
    assert kept.support() == 1.0
