"""The index: everything ingest writes and questions read, in Chroma (embedded under `index_dir`, or
a Chroma server). `chroma` opens the store and its state collection; `records` are the manifest
and the stored sentence; `writer` writes a generation and makes it live in one step, then collects
what no generation uses; `reader` serves the live generation to questions; `embeddings` loads the
model (sentence-transformers, its ONNX export for questions, a bfloat16 copy for large ingests);
`lexicon` is the per-generation word index kept beside the vectors.

It stores and loads; it does not decide what to chunk (ingest) or how to rank (answering).

May import: text, config, errors, types.
"""
