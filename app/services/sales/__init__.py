"""Sales: what reps and the CRM report back about a contact (docs/sales.md).

Inside: ``outcomes`` (recording an outcome: its rules, idempotency, the stage it moves to, the
``contact.outcome_recorded`` webhook) and ``inbound`` (the secret a CRM signs its inbound
webhooks with, and checking their signatures).
"""

from app.services.sales.inbound import (
    DEFAULT_INBOUND_OVERLAP_HOURS,
    check_inbound_signature,
    inbound_secret_status,
    new_inbound_secret,
)
from app.services.sales.outcomes import ContactRef, outcome_view, record_outcome
from app.services.sales.sla import (
    breach_overdue_handoffs,
    handoff_view,
    overdue_for_marketing,
    overdue_for_sales,
)
from app.services.sales.whatif import WhatIf, simulate_definition
from app.services.sales.whatif_runs import (
    MAX_DAYS,
    RunView,
    request_whatif,
    result_data,
    run_next_whatif,
    whatif_run,
)

__all__ = [
    "DEFAULT_INBOUND_OVERLAP_HOURS",
    "MAX_DAYS",
    "ContactRef",
    "RunView",
    "WhatIf",
    "breach_overdue_handoffs",
    "check_inbound_signature",
    "handoff_view",
    "inbound_secret_status",
    "new_inbound_secret",
    "outcome_view",
    "overdue_for_marketing",
    "overdue_for_sales",
    "record_outcome",
    "request_whatif",
    "result_data",
    "run_next_whatif",
    "simulate_definition",
    "whatif_run",
]
