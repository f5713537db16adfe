"""The embedding model's own ceiling at ingest: how many chunks a second this machine can embed at
all, with nothing else in the way (no reading, chunking, store or lexicon). On the chunks and
sentences of real text (the first --chunks chunks of the Python docs, as bench_scale.py builds them),
with the model's ONNX export in float32 and its dynamic int8 quantization, at several batch sizes.

An ingest can be no faster than "chunks + sentences" here; "chunks only" is the bound if sentence
vectors came for free. Prints figures; never fails on a timing.

    python bench/bench_embed.py [--chunks 400] [--batches 1,4,16]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench_scale import PYTHON_DOCS, build_corpus  # noqa: E402

from assistant.config import DEFAULT_MODEL, Settings  # noqa: E402
from assistant.ingest.articles import read_articles  # noqa: E402
from assistant.ingest.chunking import chunk_article, chunk_sentences, embedding_text  # noqa: E402
from assistant.store.embeddings import Embedder, OnnxEmbedder, embed_by_length, ensure_export, export_folder  # noqa: E402


def texts(size: int) -> tuple[list[str], list[str]]:
    """The embedding texts of the first `size` chunks of the corpus, and their distinct sentences."""
    settings = Settings.load(environ={})
    with tempfile.TemporaryDirectory() as folder:
        build_corpus(Path(folder), size)
        articles = read_articles((Path(folder),), lambda message: None)
    chunks: list[str] = []
    sentences: set[str] = set()
    for article in articles:
        for chunk in chunk_article(article, settings)[:size - len(chunks)]:
            chunks.append(embedding_text(chunk))
            sentences.update(article.text[s:e] for s, e, _ in chunk_sentences(chunk, article.text))
    return chunks, sorted(sentences)


def int8_export(folder: Path, work: Path) -> Path:
    """A copy of the export with the model's weights dynamically quantized to int8."""
    import shutil

    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = work / "int8"
    shutil.copytree(folder, target)
    quantize_dynamic(str(folder / "model.onnx"), str(target / "model.onnx"), weight_type=QuantType.QInt8)
    return target


def rate(embedder: Embedder, chunks: list[str], extra: list[str], batch: int) -> float:
    """Chunks per second, embedding the chunk texts and then `extra` (one run after a warm-up)."""
    embed_by_length(embedder, chunks[:8], batch=batch)
    started = time.perf_counter()
    embed_by_length(embedder, chunks, batch=batch)
    if extra:
        embed_by_length(embedder, extra, tokens=True, batch=batch)
    return len(chunks) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=400)
    parser.add_argument("--batches", default="1,4,16")
    args = parser.parse_args()
    if not PYTHON_DOCS.exists():
        sys.exit(f"{PYTHON_DOCS} is missing: install Debian's python3.11-doc (apt-get install python3.11-doc).")
    if why := ensure_export(DEFAULT_MODEL):
        sys.exit(f"No ONNX export of the model: {why}")
    chunks, sentences = texts(args.chunks)
    print(f"{len(chunks)} chunks (median {int(np.median([len(c) for c in chunks]))} characters), "
          f"{len(sentences)} distinct sentences in them")
    with tempfile.TemporaryDirectory() as work:
        models = {"float32": OnnxEmbedder(export_folder(DEFAULT_MODEL)),
                  "int8": OnnxEmbedder(int8_export(export_folder(DEFAULT_MODEL), Path(work)))}
        fp32, int8 = (m.embed(chunks[:64]) for m in models.values())
        cosines = (fp32 * int8).sum(axis=1)
        print(f"int8 against float32 on the same chunks: cosine median {np.median(cosines):.4f}, "
              f"min {cosines.min():.4f}")
        for batch in (int(b) for b in args.batches.split(",")):
            for name, model in models.items():
                print(f"batch {batch:3d}, {name:7s}: chunks only {rate(model, chunks, [], batch):6.1f} chunks/s; "
                      f"chunks + sentences {rate(model, chunks, sentences, batch):6.1f} chunks/s", flush=True)


if __name__ == "__main__":
    main()
