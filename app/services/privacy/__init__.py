"""Privacy: consent records and withdrawal, data-subject access and erasure, retention.

Inside: ``consent``, ``data_subject`` (everything held on one person, erasing it),
``erasure`` (the one path that removes a person and tells receivers), ``retention``.
"""

from app.services.privacy.consent import (
    ADMIN,
    API,
    check_shown_text,
    explain_not_shown,
    record_answers,
    withdraw_for_contact,
    withdraw_for_visitor,
)
from app.services.privacy.data_subject import erase_contact, erasures, subject_access
from app.services.privacy.retention import RetentionReport, run_due, run_sites

__all__ = [
    "ADMIN",
    "API",
    "RetentionReport",
    "check_shown_text",
    "erase_contact",
    "erasures",
    "explain_not_shown",
    "record_answers",
    "run_due",
    "run_sites",
    "subject_access",
    "withdraw_for_contact",
    "withdraw_for_visitor",
]
