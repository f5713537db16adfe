"""The small set of exceptions the core raises; the CLI and the web app map them to exit codes
and HTTP statuses. Every message is one sentence that says what went wrong and what to do.

May import: nothing of ours.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: `exit_code` for the CLI, `http_status` for the web app."""

    exit_code = 1
    http_status = 500


class UserInputError(AssistantError):
    """The question, a path or an option is unusable as given."""

    exit_code = 2
    http_status = 422


class IndexMissingError(AssistantError):
    """There is no index where one was expected."""

    exit_code = 2
    http_status = 503


class IndexMismatchError(AssistantError):
    """The index was built with other settings (model, dimension) or is not ours."""

    exit_code = 2
    http_status = 503


class StoreUnavailableError(AssistantError):
    """The vector store (e.g. a Chroma server) cannot be reached."""

    exit_code = 1
    http_status = 503


class BusyError(AssistantError):
    """Too many questions from one client or site, or too many waiting: come back later."""

    exit_code = 1
    http_status = 429

    def __init__(self, message: str, retry_after: int = 5):
        super().__init__(message)
        self.retry_after = retry_after


class IngestLockedError(AssistantError):
    """Another ingest holds the index's writer lock."""

    exit_code = 1
    http_status = 409


class NotFoundError(UserInputError):
    """Something asked for by name (an article) is not in the index."""

    http_status = 404


class FeedbackUnavailableError(AssistantError):
    """The feedback database cannot be opened, written or read: the answer is unaffected."""

    exit_code = 1
    http_status = 503


class MissingPackageError(AssistantError):
    """A Python package the assistant needs is not installed (or will not import)."""

    exit_code = 1
    http_status = 503
