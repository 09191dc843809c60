"""All models, imported here so Alembic and the app see one complete metadata."""

from app.models.activity import (
    EngagementEvent,
    IdempotentResponse,
    OutboxEvent,
    Skip,
    Submission,
)
from app.models.analytics import QuestionStat, StageChange
from app.models.contact import (
    BROWSER,
    CLAIMED,
    VERIFIED,
    Account,
    AccountValue,
    Contact,
    ContactMerge,
    ProfileValue,
    Visitor,
)
from app.models.delivery import Delivery, DeliveryAttempt
from app.models.privacy import ConsentRecord, ContactErasure
from app.models.sales import MARKETING_TEAM, SALES_TEAM, Handoff, SalesOutcome, WhatIfRun
from app.models.site import (
    ConfigRevision,
    Destination,
    Field,
    Form,
    FormField,
    FormTier,
    LifecycleStage,
    Site,
    SiteSecret,
    Tier,
)
from app.models.token import ApiToken
from app.models.user import (
    CONSOLE_ROLES,
    ROLES,
    SALES,
    TOKEN_ROLES,
    ConsoleSession,
    LoginThrottle,
    User,
    role_allows,
)

__all__ = [
    "BROWSER",
    "CLAIMED",
    "CONSOLE_ROLES",
    "MARKETING_TEAM",
    "ROLES",
    "SALES",
    "SALES_TEAM",
    "TOKEN_ROLES",
    "VERIFIED",
    "Account",
    "AccountValue",
    "ApiToken",
    "ConfigRevision",
    "ConsentRecord",
    "ConsoleSession",
    "Contact",
    "ContactErasure",
    "ContactMerge",
    "Delivery",
    "DeliveryAttempt",
    "Destination",
    "EngagementEvent",
    "Field",
    "Form",
    "FormField",
    "FormTier",
    "Handoff",
    "IdempotentResponse",
    "LifecycleStage",
    "LoginThrottle",
    "OutboxEvent",
    "ProfileValue",
    "QuestionStat",
    "SalesOutcome",
    "Site",
    "SiteSecret",
    "Skip",
    "StageChange",
    "Submission",
    "Tier",
    "User",
    "Visitor",
    "WhatIfRun",
    "role_allows",
]
