"""Site settings (marketer): a new site, and a site's settings and engagement weights."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user

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
from app.admin.config_forms.site import NewSiteForm, SiteForm
from app.services.errors import Conflict, Invalid
from app.services.siteconfig import DEFAULT_ENGAGEMENT, Config, create_site, engagement_weights


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
    form, engagement = SiteForm(), EngagementForm(prefix="engagement")
    weights = engagement_weights(config.config.get("engagement", {}))
    if request.method == "GET":
        form.load(config.config["site"])
        engagement.load(weights)
        return editor_page(
            "admin/settings.html",
            form=form,
            engagement=engagement,
            version=config.version,
            site_key=site,
        )
    refusal = None
    valid = form.validate_on_submit() & engagement.validate()
    twice = engagement.kinds_twice()
    if twice:
        refusal = Refusal(422, [f"Each event kind once: {', '.join(twice)} is listed twice."])
    elif valid:

        def change(data: Config) -> None:
            data["site"] = form.entry(site)
            data["engagement"] = engagement.engagement(DEFAULT_ENGAGEMENT)

        refusal = save_edit(site, form, config, change, "site", None)
        if refusal is None:
            flash("Site settings saved.")
            return redirect(url_for("admin.site_settings", site=site))
    return editor_page(
        "admin/settings.html",
        refusal,
        form=form,
        engagement=engagement,
        version=submitted_version(config),
        site_key=site,
    )
