"""Asking: which questions a browser gets (ask), what it may answer (submit), the console's
live preview, and why each question is or is not asked (explain)."""

from app.services.asking.ask import ask_questions
from app.services.asking.explain import Explanation, explain_contact, explain_hypothetical
from app.services.asking.preview import (
    PreviewVisitor,
    preview_ask,
    preview_draft,
    preview_submit,
    preview_token,
    read_preview_token,
)
from app.services.asking.submit import SubmitInput, submit_answers

__all__ = [
    "Explanation",
    "PreviewVisitor",
    "SubmitInput",
    "ask_questions",
    "explain_contact",
    "explain_hypothetical",
    "preview_ask",
    "preview_draft",
    "preview_submit",
    "preview_token",
    "read_preview_token",
    "submit_answers",
]
