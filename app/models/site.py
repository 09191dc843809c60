"""The site aggregate: a tenant and its configuration (tiers, fields, forms, stages, destinations).

Config entities are matched by ``key`` on import; ones a new config leaves out are archived, never
deleted, so stored answers and history keep pointing at a real row.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, false, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.config import utc_now
from app.extensions import db
from app.models.types import UTCDateTime


class Site(db.Model):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    skip_cooldown: Mapped[int] = mapped_column(default=3)
    half_life_days: Mapped[float | None]
    followup_hours: Mapped[int] = mapped_column(default=48)
    # Retention (None: keep): anonymous contacts that never submitted, idle this many days, and
    # finished webhook deliveries older than this many days are removed by the daily job.
    anonymous_retention_days: Mapped[int | None]
    delivery_retention_days: Mapped[int | None]
    retention_ran_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # {kind: {"weight": n, "stage": "early"|"mid"|"late"|None}} for every configured event kind.
    engagement: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The config's ``sales_outcomes`` section as loaded (reasons, stage moves); None without one.
    sales_outcomes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    config_version: Mapped[int] = mapped_column(default=0)
    # A change to the definition (stages, followup_hours, sales_outcomes) waits for the other
    # team's approval (DefinitionProposal) while this is on; the config's site.definition_approval.
    definition_approval: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The tally basis (``SiteSnapshot.tally_basis``) every contact's tally was rebuilt with;
    # the worker rebuilds the tallies when the config's differs.
    tally_basis: Mapped[str | None] = mapped_column(String(16))
    # Re-qualification after a change of the definition (``people.requalify``): the config
    # version the contacts are judged again for (None: never asked), the last contact id done
    # (None: not begun), the last id to do (the newest contact when it began: later ones were
    # judged by the new rules at their own writes), how many there are, are done and moved.
    requalify_version: Mapped[int | None]
    requalify_cursor: Mapped[int | None]
    requalify_upto: Mapped[int | None]
    requalify_total: Mapped[int | None]
    requalify_done: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    requalify_moved: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    requalify_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requalify_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Keys the email digests signed links carry (a pseudonym, not a signing key): generated with
    # the site, never exported, never rotated (a new one would orphan every link sent).
    link_key: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_urlsafe(32))
    # The widget's interface language, and the config's text replacing its built-in strings
    # (``domain.interface``); a form may speak another language.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default=text("'en'"))
    strings: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    tiers: Mapped[list[Tier]] = relationship(back_populates="site", order_by="Tier.rank")
    fields: Mapped[list[Field]] = relationship(back_populates="site", order_by="Field.position")
    forms: Mapped[list[Form]] = relationship(back_populates="site", order_by="Form.position")
    stages: Mapped[list[LifecycleStage]] = relationship(order_by="LifecycleStage.position")
    destinations: Mapped[list[Destination]] = relationship(order_by="Destination.position")


class Tier(db.Model):
    __tablename__ = "tiers"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(200))
    rank: Mapped[int]
    min_score: Mapped[float] = mapped_column(default=0)
    min_stage: Mapped[str | None] = mapped_column(String(16))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship(back_populates="tiers")


class Field(db.Model):
    __tablename__ = "fields"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    tier_id: Mapped[int] = mapped_column(ForeignKey("tiers.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(default=0)
    priority: Mapped[int] = mapped_column(default=100)
    required: Mapped[bool] = mapped_column(default=False)
    scope: Mapped[str] = mapped_column(String(16), default="contact")
    identity: Mapped[bool] = mapped_column(default=False)
    refresh_after_days: Mapped[int | None]
    max_length: Mapped[int | None]
    help: Mapped[str | None] = mapped_column(Text)
    placeholder: Mapped[str | None] = mapped_column(String(200))
    # [{"value": str, "label": str}] for select / multiselect.
    options: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    # {"field": key, "equals": value} | {"field": key, "in": [values]} | {"field": key, "known": bool}
    ask_if: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Who may replace a non-blank value someone else gave: verified browsers (and imports, the
    # token API) only, or also browsers that merely claimed the email.
    overwrite: Mapped[str] = mapped_column(
        String(16), default="verified", server_default=text("'verified'")
    )
    # False: never drawn into a form's pool through its tier or "every field"; asked only where
    # a form names it (its consent line, fields, always_ask). Fields made from consent text.
    pooled: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The input's autocomplete token as configured; None: derived from key and kind.
    autocomplete: Mapped[str | None] = mapped_column(String(40))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship(back_populates="fields")
    tier: Mapped[Tier] = relationship()


class Form(db.Model):
    __tablename__ = "forms"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(300))
    intro: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[str | None] = mapped_column(String(16))
    max_questions: Mapped[int] = mapped_column(default=3)
    submit_label: Mapped[str] = mapped_column(String(100), default="Submit")
    thank_you: Mapped[str] = mapped_column(Text, default="Thank you!")
    complete_message: Mapped[str | None] = mapped_column(Text)
    # {"field": key}: the consent field shown under the questions (its consent line), or None.
    consent: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    always_ask: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(8))  # None: the site's
    strings: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # What the form does once the visitor is done: {"message"|"open"|"download": …, "label"?}.
    on_complete: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship(back_populates="forms")
    pool_tiers: Mapped[list[FormTier]] = relationship(
        cascade="all, delete-orphan", order_by="FormTier.position"
    )
    pool_fields: Mapped[list[FormField]] = relationship(
        cascade="all, delete-orphan", order_by="FormField.position"
    )


class FormTier(db.Model):
    """A tier whose fields a form draws from."""

    __tablename__ = "form_tiers"

    form_id: Mapped[int] = mapped_column(
        ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True
    )
    tier_id: Mapped[int] = mapped_column(
        ForeignKey("tiers.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(default=0)

    tier: Mapped[Tier] = relationship()


class FormField(db.Model):
    """A single field a form draws from (in addition to its tiers)."""

    __tablename__ = "form_fields"

    form_id: Mapped[int] = mapped_column(
        ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("fields.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(default=0)

    field: Mapped[Field] = relationship()


class LifecycleStage(db.Model):
    __tablename__ = "lifecycle_stages"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    when: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The stage sales follow up within the site's followup_hours (at most one per site).
    handoff: Mapped[bool] = mapped_column(default=False, server_default=false())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Destination(db.Model):
    __tablename__ = "destinations"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    format: Mapped[str] = mapped_column(String(16), default="trickle")
    mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    secret_env: Mapped[str | None] = mapped_column(String(200))
    # The signing secret (whsec_...). It must be readable to sign, so it is stored, never exported.
    secret: Mapped[str] = mapped_column(String(200))
    # During a rotation the replaced secret still signs (a second signature) until this time.
    previous_secret: Mapped[str | None] = mapped_column(String(200))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # ``enabled`` is what the config says; a suspension is what the receiver's answers caused
    # (410 Gone, or failing for days). It lasts until someone re-enables it in admin.
    enabled: Mapped[bool] = mapped_column(default=True)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_reason: Mapped[str | None] = mapped_column(String(500))
    # The first failure since the last success; None while the receiver is answering.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utc_now)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConfigRevision(db.Model):
    """A site's whole config as one import left it: who, when, and what (secrets never)."""

    __tablename__ = "config_revisions"
    __table_args__ = (UniqueConstraint("site_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    author: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)


class DefinitionProposal(db.Model):
    """A config import that changes the definition and waits for the other team (issue 21).

    ``config`` is the whole config as submitted, imported as it is once approved; it was
    proposed against ``base_version`` and can only be approved while the site is still there.
    ``diff`` is the definition's change against that version, as the approvers read it.
    A decided proposal keeps who decided, when and why; an approved one the version it made.
    """

    __tablename__ = "definition_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    diff: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Sections other than the definition the import also changes (the whole import waits).
    other_sections: Mapped[list[str]] = mapped_column(JSON, default=list)
    base_version: Mapped[int]
    proposed_by: Mapped[str] = mapped_column(String(320))
    # "marketing", "sales", "admin", or None: the trickle command's operator.
    proposed_team: Mapped[str | None] = mapped_column(String(16))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # pending | approved | rejected | superseded (a newer proposal of the site came)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    applied_version: Mapped[int | None]


class SiteSecret(db.Model):
    """A secret a site's own systems sign with: ``identity`` (identity hashes and signed links,
    HMAC-SHA256) or ``inbound`` (the CRM's inbound webhooks, the Standard Webhooks way).

    It must be readable to check a signature, so it is stored; it is shown once, when made, and
    never exported. A rotation gives the replaced secret an ``expires_at``: until then both sign.
    """

    __tablename__ = "site_secrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16), default="identity")
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    created_by: Mapped[str | None] = mapped_column(String(320))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
