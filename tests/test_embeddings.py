"""The query path: questions are embedded from the model's ONNX export (made once per machine, in
the user's cache) with the model's own vectors, and the question-answering commands import neither
torch nor llama-index (ingest writes through llama-index; a question reads the Chroma collection)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from assistant.config import DEFAULT_MODEL, Settings
from assistant.store.embeddings import (
    BFLOAT16_FROM_CHARS,
    BFloat16Embedder,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    embed_by_length,
    export_folder,
    exported,
    load_embedder,
    load_fast_embedder,
    load_ingest_embedder,
)

ROOT = Path(__file__).resolve().parent.parent


def test_the_onnx_export_gives_the_models_vectors_and_tokens(seed_settings: Settings) -> None:
    assert exported(export_folder(DEFAULT_MODEL), DEFAULT_MODEL)  # ingest made it
    query = load_fast_embedder(DEFAULT_MODEL)
    assert isinstance(query, OnnxEmbedder)
    # A padded batch: texts of different lengths, one past the model's 256-token limit.
    texts = ["Where is AMI Labs based?", "why did lecun leave meta, and what did he start after that?", "x",
             "word " * 400]
    model = load_embedder(DEFAULT_MODEL)
    expected, expected_tokens = model.embed_tokens(texts)
    vectors, tokens = query.embed_tokens(texts)
    assert np.abs(vectors - expected).max() < 1e-5 and np.abs(query.embed(texts) - expected).max() < 1e-5
    for got, want in zip(tokens, expected_tokens, strict=True):
        assert (got.spans == want.spans).all() and np.abs(got.vectors - want.vectors).max() < 1e-5


def test_the_bfloat16_embedder_gives_the_models_vectors_and_tokens_in_order() -> None:
    model = load_embedder(DEFAULT_MODEL)
    texts = ["Where is AMI Labs based?", "x", "The gliders are built in Lyon by a team of nine people, by hand.",
             "word " * 400, "Tomatoes need sun.", "Why did LeCun leave Meta?", "```\nprint('hello')\n```"]
    expected, expected_tokens = model.embed_tokens(texts)
    fast = BFloat16Embedder(model)  # on any CPU: where bfloat16 is emulated it is slow, not wrong
    vectors, tokens = embed_by_length(fast, texts, tokens=True, batch=2)  # four batches, two at a time
    assert (vectors * expected).sum(axis=1).min() > 0.999
    for got, want in zip(tokens, expected_tokens, strict=True):
        assert (got.spans == want.spans).all() and (got.vectors * want.vectors).sum(axis=1).min() > 0.995
    fast.workers = 1
    assert np.allclose(embed_by_length(fast, texts, batch=2)[0], vectors, atol=1e-5)  # same rows, same order


def test_ingest_embeds_in_bfloat16_only_where_the_cpu_computes_it_and_it_pays(monkeypatch) -> None:
    monkeypatch.setattr("assistant.store.embeddings.native_bfloat16", lambda: False)
    assert isinstance(load_ingest_embedder(DEFAULT_MODEL, 10 * BFLOAT16_FROM_CHARS), OnnxEmbedder)
    monkeypatch.setattr("assistant.store.embeddings.native_bfloat16", lambda: True)
    assert isinstance(load_ingest_embedder(DEFAULT_MODEL, 10 * BFLOAT16_FROM_CHARS), BFloat16Embedder)
    # A few pages: the copy's start would cost more than it saves.
    assert isinstance(load_ingest_embedder(DEFAULT_MODEL, BFLOAT16_FROM_CHARS - 1), OnnxEmbedder)


def test_a_missing_export_is_made_at_the_first_question_and_an_unwritable_cache_falls_back(
        tmp_path: Path, monkeypatch) -> None:
    load_fast_embedder.cache_clear()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert isinstance(load_fast_embedder(DEFAULT_MODEL), OnnxEmbedder)
    assert exported(export_folder(DEFAULT_MODEL), DEFAULT_MODEL)
    load_fast_embedder.cache_clear()
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    assert isinstance(load_fast_embedder(DEFAULT_MODEL), SentenceTransformerEmbedder)
    load_fast_embedder.cache_clear()


def test_asking_and_evaluating_never_import_torch(seed_index: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    for command in (["ask", "--index", str(seed_index), "Where is AMI Labs based?"],
                    ["eval", "--index", str(seed_index), str(ROOT / "evals" / "seeds.yaml"), "--min-pass-rate", "0"]):
        run = subprocess.run([sys.executable, "-X", "importtime", "-m", "assistant.cli", *command],
                             capture_output=True, text=True, timeout=300, env=env)
        assert run.returncode == 0, run.stdout + run.stderr
        imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if "|" in line}
        assert "assistant.engine" in imported  # the engine answered in this process
        assert not {"torch", "sentence_transformers", "transformers", "llama_index"} & imported, command[0]
