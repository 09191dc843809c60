"""Sales: what reps and the CRM report back about a contact (docs/sales.md).

Inside: ``outcomes`` (recording an outcome: its rules, idempotency, the stage it moves to, the
``contact.outcome_recorded`` webhook).
"""

from app.services.sales.outcomes import ContactRef, outcome_view, record_outcome

__all__ = ["ContactRef", "outcome_view", "record_outcome"]
