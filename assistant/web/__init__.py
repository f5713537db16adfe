"""The web face: the FastAPI app and its JSON API (app.py), the guards every request passes
(guard.py), the pages it renders (pages.py) and the reader's Gradio chat page (chat_page.py)."""
