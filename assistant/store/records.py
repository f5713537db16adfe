"""The records the index keeps: each generation's manifest (its files and their chunks), a
sentence as stored (text, terms, vector, token vectors), and how token vectors are encoded."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass, field

import numpy as np

STORE_FORMAT = 4  # 3: everything in Chroma; 4: sentence records keep their terms
LIVE = "live"
# The state record whose version changes whenever the curated FAQ does (answering/curated.py).
CURATED = "curated"
PLACEHOLDER = [1.0]


@dataclass
class FileEntry:
    path: str
    sha256: str
    title: str
    chunk_ids: list[str]


@dataclass
class Manifest:
    model: str
    dimension: int
    chunking: dict[str, int]
    generation: str
    epoch: str
    files: dict[str, FileEntry] = field(default_factory=dict)
    lexicon_parts: int = 0
    # Records the previous generation used and this one does not: deleted by the next ingest.
    retired: dict[str, list[str]] = field(default_factory=dict)
    format: int = STORE_FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        files = {doc_id: FileEntry(**entry) for doc_id, entry in data["files"].items()}
        return cls(**{**data, "files": files})


@dataclass(frozen=True)
class SentenceRecord:
    text: str
    terms: list[str]  # terms.terms(text), computed at ingest
    vector: np.ndarray  # unit, float32
    tokens: np.ndarray  # unit token vectors, float32 (stored as int8)


def encode_tokens(vectors: np.ndarray) -> str:
    """Unit token vectors as int8 (a cosine with them moves by about 0.01 at most: 0.011 measured on
    the seeds), base64 for a metadata string."""
    return base64.b64encode(np.round(np.clip(vectors, -1, 1) * 127).astype(np.int8).tobytes()).decode("ascii")


def decode_tokens(text: str, dimension: int) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.int8).reshape(-1, dimension).astype(np.float32) / 127


def article_key(doc_id: str, sha256: str) -> str:
    return hashlib.sha256(f"{doc_id}\0{sha256}".encode()).hexdigest()[:32]
