"""Site settings (marketer): a new site, and a site's settings and engagement weights; the
site's identity secret and inbound-webhook secret (admin).

A new secret is shown once, in the body of the page that answers the form: never
flashed (the session cookie is only signed, not encrypted), never in a URL; console pages are
answered with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField

from app.admin import access, admin_bp
from app.admin.config_editor import (
    Page,
    Refusal,
    editable_or_404,
    editor_page,
    refusal_lines,
    refuse_unless_marketer,
    save_edit,
    submitted_version,
)
from app.admin.config_forms.engagement import EngagementForm
from app.admin.config_forms.language import fallback_strings, show_defaults
from app.admin.config_forms.site import NewSiteForm, SiteForm
from app.admin.forms import attach_errors, number_parsed
from app.clock import current_time
from app.services.errors import Conflict, Invalid
from app.services.people import (
    DEFAULT_OVERLAP_HOURS,
    SecretInfo,
    new_identity_secret,
    secret_status,
)
from app.services.sales import (
    DEFAULT_INBOUND_OVERLAP_HOURS,
    inbound_secret_status,
    new_inbound_secret,
)
from app.services.siteconfig import (
    DEFAULT_ENGAGEMENT,
    Config,
    EditableConfig,
    create_site,
    engagement_weights,
    site_snapshot,
)

# Site settings the page does not show, kept as the config has them.
KEPT_SITE_KEYS = ("definition_approval",)


class IdentitySecretForm(FlaskForm):
    """Parses the overlap only; ``new_identity_secret`` checks its range, as for the CLI."""

    overlap_hours = IntegerField(
        "Keep the current secret working for (hours)",
        default=DEFAULT_OVERLAP_HOURS,
        description="0 to 720. Until then identity hashes and links signed with either secret "
        "verify, so your backend and email tool can switch; 0 stops the current one now.",
        validators=[number_parsed],
    )


class InboundSecretForm(FlaskForm):
    """Parses the overlap only; ``new_inbound_secret`` checks its range, as for the CLI."""

    overlap_hours = IntegerField(
        "Keep the current secret working for (hours)",
        default=DEFAULT_INBOUND_OVERLAP_HOURS,
        description="0 to 720. Until then webhooks signed with either secret verify, so your CRM "
        "can switch; 0 stops the current one now.",
        validators=[number_parsed],
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("prefix", "inbound")  # ids apart from the identity card's on one page
        super().__init__(*args, **kwargs)


@dataclass(frozen=True)
class SecretCard:
    """What an admin sees of one of the site's secrets (never the secret, but once)."""

    current: SecretInfo | None
    replaced: list[SecretInfo]  # still signing until their expires_at
    form: FlaskForm
    new_secret: str | None = None  # just generated: shown on this page only
    link_key: str | None = None  # the identity card's: for email tools that mint links


def _card(
    secrets: list[SecretInfo], form: FlaskForm, new_secret: str | None, **extra: str
) -> SecretCard:
    current = next((info for info in secrets if info.expires_at is None), None)
    replaced = [info for info in secrets if info is not current]
    return SecretCard(current, replaced, form, new_secret, **extra)


def identity_card(
    site: str, form: IdentitySecretForm | None = None, new_secret: str | None = None
) -> SecretCard | None:
    """The identity verification card; None for anyone but an admin."""
    if not current_user.can("admin"):
        return None
    return _card(
        secret_status(site, current_time()),
        form or IdentitySecretForm(formdata=None),
        new_secret,
        link_key=site_snapshot(site).link_key,
    )


def inbound_card(
    site: str, form: InboundSecretForm | None = None, new_secret: str | None = None
) -> SecretCard | None:
    """The inbound webhook card; None for anyone but an admin."""
    if not current_user.can("admin"):
        return None
    return _card(
        inbound_secret_status(site, current_time()),
        form or InboundSecretForm(formdata=None),
        new_secret,
    )


@admin_bp.route("/sites/new", methods=["GET", "POST"])
@access.role_required("marketer")
def site_new() -> Page:
    form = NewSiteForm()
    refusal = None
    if form.validate_on_submit():
        try:
            create_site(
                form.key.data.strip(),
                form.name.data.strip(),
                form.origin_list(),
                current_user.email,
            )
        except Invalid as exc:
            refusal = Refusal(exc.status, refusal_lines(form, exc, "site", None))
        except Conflict as exc:
            refusal = Refusal(exc.status, [exc.message])
        else:
            flash(
                f'Site "{form.name.data.strip()}" created with a starter tier, an email field '
                "and a form. Make them yours below."
            )
            return redirect(url_for("admin.questions", site=form.key.data.strip()))
    return editor_page("admin/site_new.html", refusal, form=form)


@admin_bp.route("/sites/<site>/settings", methods=["GET", "POST"])
@access.role_required("analyst")
def site_settings(site: str) -> Page:
    refuse_unless_marketer()
    config = editable_or_404(site)
    if request.method == "GET":
        return _settings_page(site, config)
    form, engagement = SiteForm(), EngagementForm(prefix="engagement")
    refusal = None
    valid = form.validate_on_submit() & engagement.validate()
    twice = engagement.kinds_twice()
    if twice:
        refusal = Refusal(422, [f"Each event kind once: {', '.join(twice)} is listed twice."])
    elif valid:

        def change(data: Config) -> None:
            kept = {k: v for k, v in data["site"].items() if k in KEPT_SITE_KEYS}
            data["site"] = form.entry(site) | kept
            data["engagement"] = engagement.engagement(DEFAULT_ENGAGEMENT)

        refusal = save_edit(site, form, config, change, "site", None, "Site settings saved.")
        if refusal is None:
            return redirect(url_for("admin.site_settings", site=site))
    show_defaults(form.strings, fallback_strings(form.language.data, {}))
    return editor_page(
        "admin/settings.html",
        refusal,
        form=form,
        engagement=engagement,
        version=submitted_version(config),
        site_key=site,
        identity=identity_card(site),
        inbound=inbound_card(site),
    )


@admin_bp.post("/sites/<site>/settings/identity-secret")
@access.role_required("admin")
def identity_secret(site: str) -> tuple[str, int]:
    """Generate (or rotate) the site's identity secret and show it, this once."""
    return _new_secret(site, IdentitySecretForm(), new_identity_secret, identity_card, "identity")


@admin_bp.post("/sites/<site>/settings/inbound-secret")
@access.role_required("admin")
def inbound_secret(site: str) -> tuple[str, int]:
    """Generate (or replace) the site's inbound webhook secret and show it, this once."""
    return _new_secret(site, InboundSecretForm(), new_inbound_secret, inbound_card, "inbound")


def _new_secret(
    site: str,
    form: IdentitySecretForm | InboundSecretForm,
    make: Callable[[str, str, datetime, int], str],
    card: Callable[..., SecretCard | None],
    shown_as: str,
) -> tuple[str, int]:
    """Make a secret with ``form``'s overlap and show the settings page with it on its card
    (``shown_as``), this once; or the form's problems on the card (422)."""
    config = editable_or_404(site)
    if form.validate():  # CSRF is checked (400) before the view runs
        try:
            secret = make(site, current_user.email, current_time(), form.overlap_hours.data)
        except Invalid as exc:
            attach_errors(form, exc)
        else:
            return _settings_page(site, config, **{shown_as: card(site, new_secret=secret)})
    page, _status = _settings_page(site, config, **{shown_as: card(site, form)})
    return page, 422


def _settings_page(
    site: str,
    config: EditableConfig,
    identity: SecretCard | None = None,
    inbound: SecretCard | None = None,
) -> tuple[str, int]:
    """The settings page as opened: the saved settings (and the secrets' cards for admins)."""
    form = SiteForm(formdata=None)
    engagement = EngagementForm(formdata=None, prefix="engagement")
    form.load(config.config["site"])
    show_defaults(form.strings, fallback_strings(form.language.data, {}))
    engagement.load(engagement_weights(config.config.get("engagement", {})))
    page, _status = editor_page(
        "admin/settings.html",
        form=form,
        engagement=engagement,
        version=config.version,
        site_key=site,
        identity=identity or identity_card(site),
        inbound=inbound or inbound_card(site),
    )
    return page, 200
