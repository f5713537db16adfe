"""The FAQ workflow: readers' ratings and comments (`feedback`, with its Alembic `migrations`),
reviewed by the site owner and curated into FAQ entries, out-of-scope marks and eval cases
(`curation`), and the FAQ exported as Markdown, JSON or an eval suite.

It asks the engine for answers and writes curated entries through `answering.curated`; it renders
no HTML (the web face's pages do, for the /faq page and `faq export --format html`).

May import: engine, answering, store, text, config, errors, types.
"""
