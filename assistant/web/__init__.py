"""The web face: the FastAPI app and its JSON API (app.py), the engine it shares between requests
(engine.py), the guards every request passes (guard.py), the pages it renders (pages.py), the
reader's Gradio chat page (chat_page.py), the owner's pages (admin.py) and the streaming of an
LLM's draft (streaming.py).

It calls the engine and the FAQ workflow; nothing below it imports it.

May import: assistant, engine, faq, answering, ingest, store, text, config, errors, types.
"""
