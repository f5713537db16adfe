"""Ingest: from a folder of articles to a live index generation. `articles` finds the files and
reads their text (`extract` for HTML and Markdown, with `blocks` turning an HTML tree into lines
and `units` marking the question-and-answer units a page sets apart),
`sentences` and `chunking` cut it into sentences and chunks with exact offsets (`entries` finding
where a page's FAQ entries are), and `pipeline`
embeds and writes only what changed, showing its `progress`.

It never answers a question, and reads the index only to build on the live generation.

May import: store, text, config, errors, packages, types.
"""
