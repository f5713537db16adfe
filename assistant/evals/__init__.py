"""The evaluation harness: the case format (`cases`), the runner (`runner`) that asks an engine
(ours, the naive llama-index baseline in `naive`, or a server over HTTP) and judges each turn,
the results and metrics (`results`, `calibration`), the reports (`reports`: text, JSON, JUnit,
Markdown) and the pytest plugin (`pytest_plugin`, registered as `assistant_evals`).

It measures the assistant from the outside; nothing in the assistant imports it but the CLI.

May import: assistant, engine, ingest, answering, store, text, config, errors, types.
"""
