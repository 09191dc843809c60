"""People: contacts and their browsers, profile values, engagement, identity, stages.

Inside: ``contacts`` (finding a browser and its contact, reading a contact's values),
``state`` (a contact's rows read once per request: the state the rules see, the webhook payload),
``identity`` (what an email submitted by a browser does: merge, move, link), ``engagement``
(recording events), ``hot_activity`` (a late-stage event telling sales of the handed-off
contacts of its account), ``qualification`` (moving stages forward), ``records``
(everything held on one person, read once for the console and data-subject requests),
``imports`` (contacts upserted by email from a file or the CRM), ``requalify`` (judging a
site's contacts again after its definition changed), ``handoffs`` (opening a
hand-off with its service level when a contact reaches the hand-off stage or is recycled).
"""

from app.services.people.contacts import (
    MAX_ROW_ID,
    contact_values,
    find_visitor,
    latest_consents,
    newest_consent_record,
    resolve_visitor,
    site_contact,
    stored_visitor,
)
from app.services.people.engagement import EventInput, add_event, record_engagement
from app.services.people.form_counts import (
    FORM_COUNTERS,
    count_form_ask,
    flush_form_counts,
)
from app.services.people.handoffs import marketing_window, open_handoff, sales_window
from app.services.people.identity import settle_identity, verify_link
from app.services.people.imports import (
    CRM,
    IMPORT,
    MAX_BULK,
    Upserted,
    check_contacts,
    check_origin,
    email_key,
    import_contacts,
    tally,
    upsert_contact,
    write_contacts,
)
from app.services.people.qualification import qualify, record_stage_move
from app.services.people.records import PersonRecords, load_person_records
from app.services.people.requalify import (
    REQUALIFY_BATCH,
    Requalification,
    requalification_status,
    requalify_due_sites,
    requalify_site,
)
from app.services.people.state import (
    ContactRows,
    announce_update,
    contact_payload,
    load_contact_state,
    read_contact,
)
from app.services.people.tallies import rebuild_stale_tallies
from app.services.people.values import Written, may_replace, write_values
from app.services.people.verification import (
    DEFAULT_OVERLAP_HOURS,
    LINK_PARAMETER,
    Identified,
    SecretInfo,
    SignedLink,
    identify_visitor,
    mint_links,
    new_identity_secret,
    secret_status,
)
from app.services.people.views import ask_view

__all__ = [
    "CRM",
    "DEFAULT_OVERLAP_HOURS",
    "FORM_COUNTERS",
    "IMPORT",
    "LINK_PARAMETER",
    "MAX_BULK",
    "MAX_ROW_ID",
    "REQUALIFY_BATCH",
    "ContactRows",
    "EventInput",
    "Identified",
    "PersonRecords",
    "Requalification",
    "SecretInfo",
    "SignedLink",
    "Upserted",
    "Written",
    "add_event",
    "announce_update",
    "ask_view",
    "check_contacts",
    "check_origin",
    "contact_payload",
    "contact_values",
    "count_form_ask",
    "email_key",
    "find_visitor",
    "flush_form_counts",
    "identify_visitor",
    "import_contacts",
    "latest_consents",
    "load_contact_state",
    "load_person_records",
    "marketing_window",
    "may_replace",
    "mint_links",
    "new_identity_secret",
    "newest_consent_record",
    "open_handoff",
    "qualify",
    "read_contact",
    "rebuild_stale_tallies",
    "record_engagement",
    "record_stage_move",
    "requalification_status",
    "requalify_due_sites",
    "requalify_site",
    "resolve_visitor",
    "sales_window",
    "secret_status",
    "settle_identity",
    "site_contact",
    "stored_visitor",
    "tally",
    "upsert_contact",
    "verify_link",
    "write_contacts",
    "write_values",
]
