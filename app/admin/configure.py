"""Configure pages (marketer): a site's settings, tiers, fields and forms, and the live preview;
and (admin) the config entries of webhook destinations.

Analysts may open every page read-only; saving needs the marketer role (destinations: admin
only, also to read). Each save goes through ``services.config_edit`` — one validated,
all-or-nothing import recorded in the config history.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import Field
from wtforms.validators import InputRequired

from app.admin import access, admin_bp
from app.admin.config_forms import (
    DeleteForm,
    DestinationForm,
    EngagementForm,
    FieldForm,
    FormForm,
    MoveForm,
    NewSiteForm,
    SiteForm,
    TierForm,
)
from app.admin.explain import ExplainForm
from app.clock import current_time
from app.services.asking import PreviewVisitor, preview_token
from app.services.errors import Conflict, Invalid, NotFound
from app.services.siteconfig import (
    DEFAULT_ENGAGEMENT,
    Config,
    EditableConfig,
    EditRefused,
    asking_order,
    create_site,
    edit_config,
    editable_config,
    engagement_weights,
    move_field,
    problems_for_entry,
    put_entry,
    readable_problems,
    remove_destination,
    remove_field,
    remove_form,
    remove_tier,
    site_snapshot,
)

Page = str | tuple[str, int] | Response


@dataclass(frozen=True)
class Refusal:
    """Why a save did not happen: the page-level lines (headline first) and the answer's status
    (422 for invalid input, 409 when someone else saved first)."""

    status: int
    lines: list[str]


# Config keys whose problems belong next to a differently named input.
_ALIASES = {"ask_if": "ask_if_field", "consent": "consent_text"}


def _editable(site: str) -> EditableConfig:
    try:
        return editable_config(site)
    except NotFound:
        abort(404)


def _entry(config: EditableConfig, section: str, key: str) -> Config:
    try:
        return config.entry(section, key)
    except NotFound:
        abort(404)


def _version(config: EditableConfig) -> int:
    """The version the editor loaded (a hidden input), else the current one."""
    submitted = request.form.get("version", "")
    return int(submitted) if re.fullmatch(r"[0-9]{1,9}", submitted) else config.version


def _save(
    site: str,
    form: FlaskForm,
    config: EditableConfig,
    change: Callable[[Config], None],
    section: str,
    index: int | None,
) -> Refusal | None:
    """Save ``change``; None when saved, else why not (field problems are attached to inputs)."""
    try:
        edit_config(site, _version(config), current_user.email, change)
    except Invalid as exc:
        return Refusal(exc.status, _attach(form, exc, section, index))
    except Conflict as exc:
        return Refusal(exc.status, [exc.message])
    except NotFound:
        abort(404)
    return None


def _attach(form: FlaskForm, exc: Invalid, section: str, index: int | None) -> list[str]:
    """Put each problem next to its input; return the page-level ones, headline first."""
    mine, rest = problems_for_entry(exc.fields or {}, section, index)
    lines = exc.lines(rest) if isinstance(exc, EditRefused) else readable_problems(rest, {})
    for name, messages in mine.items():
        target = getattr(form, _ALIASES.get(name, name), None)
        if isinstance(target, Field):
            target.errors = [*target.errors, *messages]
        else:
            lines.extend(f"{name}: {message}" for message in messages)
    return [exc.message, *lines] if lines or not mine else ["Nothing was saved."]


def _editor(template: str, refusal: Refusal | None = None, **context: Any) -> tuple[str, int]:
    """The editor page: 200 when shown, 422 after invalid input, else the refusal's status."""
    status = refusal.status if refusal else 422 if request.method == "POST" else 200
    context.setdefault("can_edit", current_user.can("marketer"))
    return render_template(template, problems=refusal and refusal.lines, **context), status


def _refuse_unless_marketer() -> None:
    if request.method == "POST" and not current_user.can("marketer"):
        abort(403)


# ---- sites ----


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
            refusal = Refusal(exc.status, _attach(form, exc, "site", None))
        except Conflict as exc:
            refusal = Refusal(exc.status, [exc.message])
        else:
            flash(
                f'Site "{form.name.data.strip()}" created with a starter tier, an email field '
                "and a form. Make them yours below."
            )
            return redirect(url_for("admin.questions", site=form.key.data.strip()))
    return _editor("admin/site_new.html", refusal, form=form)


@admin_bp.route("/sites/<site>/settings", methods=["GET", "POST"])
@access.role_required("analyst")
def site_settings(site: str) -> Page:
    _refuse_unless_marketer()
    config = _editable(site)
    form, engagement = SiteForm(), EngagementForm(prefix="engagement")
    weights = engagement_weights(config.config.get("engagement", {}))
    if request.method == "GET":
        form.load(config.config["site"])
        engagement.load(weights)
        return _editor(
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

        refusal = _save(site, form, config, change, "site", None)
        if refusal is None:
            flash("Site settings saved.")
            return redirect(url_for("admin.site_settings", site=site))
    return _editor(
        "admin/settings.html",
        refusal,
        form=form,
        engagement=engagement,
        version=_version(config),
        site_key=site,
    )


# ---- tiers and fields ----


@admin_bp.get("/sites/<site>/questions")
@access.role_required("analyst")
def questions(site: str) -> str:
    config = _editable(site)
    tiers = sorted(config.section("tiers"), key=lambda t: t["rank"])
    fields = config.section("fields")
    by_tier = {tier["key"]: asking_order(fields, tier["key"]) for tier in tiers}
    used_by = {
        f["key"]: [form["title"] for form in config.section("forms") if _pools(form, f)]
        for f in fields
    }
    return render_template(
        "admin/questions.html",
        site_key=site,
        tiers=tiers,
        by_tier=by_tier,
        used_by=used_by,
        version=config.version,
        move_form=MoveForm(),
        can_edit=current_user.can("marketer"),
    )


def _pools(form: Config, field: Config) -> bool:
    return field["key"] in form.get("fields", []) or field["tier"] in form.get("tiers", [])


def _open(site: str, key: str | None) -> EditableConfig:
    """The config for an entry's editor: anyone may read, marketers create and save."""
    _refuse_unless_marketer()
    if key is None and not current_user.can("marketer"):
        abort(403)
    return _editable(site)


def _entry_editor(
    site: str,
    section: str,
    key: str | None,
    form: Any,
    config: EditableConfig,
    entry_of: Callable[[], Config],
    after: Callable[[], str],
    template: str = "admin/edit.html",
    **extra: Any,
) -> Page:
    """The one editor flow for a tier, field or form: load, validate, save, or show problems."""
    if key is not None:
        current = _entry(config, section, key)
        if request.method == "GET":
            form.load(current)
        form.key.data = key  # a key is never changed: entries are matched by it
    refusal = None
    if form.validate_on_submit():
        change = put_entry(section, entry_of(), key)
        refusal = _save(site, form, config, change, section, config.position(section, key))
        if refusal is None:
            flash(f'{section[:-1].capitalize()} "{form.key.data}" saved.')
            return redirect(after())
    return _editor(
        template,
        refusal,
        form=form,
        site_key=site,
        kind=section[:-1],
        key=key,
        version=_version(config),
        delete_form=DeleteForm(),
        **extra,
    )


@admin_bp.route("/sites/<site>/tiers/new", methods=["GET", "POST"], defaults={"key": None})
@admin_bp.route("/sites/<site>/tiers/<key>", methods=["GET", "POST"])
@access.role_required("analyst")
def tier(site: str, key: str | None) -> Page:
    config = _open(site, key)
    form = TierForm()
    if key is None and request.method == "GET":
        form.rank.data = max((t["rank"] for t in config.section("tiers")), default=0) + 1
    questions_page = partial(url_for, "admin.questions", site=site)
    return _entry_editor(site, "tiers", key, form, config, form.entry, questions_page)


@admin_bp.route("/sites/<site>/fields/new", methods=["GET", "POST"], defaults={"key": None})
@admin_bp.route("/sites/<site>/fields/<key>", methods=["GET", "POST"])
@access.role_required("analyst")
def field(site: str, key: str | None) -> Page:
    config = _open(site, key)
    others = [f for f in config.section("fields") if f["key"] != key]
    form = FieldForm()
    form.set_choices(sorted(config.section("tiers"), key=lambda t: t["rank"]), others)
    if key is None and request.method == "GET" and request.args.get("tier"):
        form.tier.data = request.args["tier"]
    kinds = {f["key"]: f["kind"] for f in others}
    questions_page = partial(url_for, "admin.questions", site=site)
    return _entry_editor(
        site, "fields", key, form, config, partial(form.entry, kinds), questions_page
    )


@admin_bp.post("/sites/<site>/fields/<key>/move")
@access.role_required("marketer")
def field_move(site: str, key: str) -> Response:
    config = _editable(site)
    _entry(config, "fields", key)
    form = MoveForm()
    form.direction.validators = [InputRequired()]
    if not form.validate_on_submit():
        abort(400)
    steps = -1 if form.direction.data == "up" else 1
    try:
        edit_config(site, _version(config), current_user.email, move_field(key, steps))
    except (Invalid, Conflict) as exc:
        flash(exc.message)
    return redirect(url_for("admin.questions", site=site) + f"#field-{key}")


# ---- forms ----


@admin_bp.get("/sites/<site>/forms")
@access.role_required("analyst")
def forms(site: str) -> str:
    config = _editable(site)
    return render_template(
        "admin/forms.html",
        site_key=site,
        forms=config.section("forms"),
        can_edit=current_user.can("marketer"),
    )


@admin_bp.route("/sites/<site>/forms/new", methods=["GET", "POST"], defaults={"key": None})
@admin_bp.route("/sites/<site>/forms/<key>", methods=["GET", "POST"])
@access.role_required("analyst")
def form(site: str, key: str | None) -> Page:
    config = _open(site, key)
    fields = config.section("fields")
    editor = FormForm()
    editor.set_choices(sorted(config.section("tiers"), key=lambda t: t["rank"]), fields)
    return _entry_editor(
        site,
        "forms",
        key,
        editor,
        config,
        partial(
            editor.entry,
            [f["key"] for f in fields],
            config.entry("forms", key).get("always_ask") if key in config.keys("forms") else [],
        ),
        lambda: url_for("admin.form", site=site, key=editor.key.data),
        template="admin/form.html",
        preview=_preview_controls(site) if key else None,
    )


def _preview_controls(site: str) -> ExplainForm:
    """The made-up visitor's controls, the explain page's form without its form choice."""
    return ExplainForm.for_site(site_snapshot(site), request.args)


@admin_bp.get("/sites/<site>/forms/<key>/preview")
@access.role_required("analyst")
def form_preview(site: str, key: str) -> str:
    """The real widget for a made-up visitor (score, stage reached, known fields in the query)."""
    try:
        snapshot = site_snapshot(site)
        snapshot.form(key)
    except NotFound:
        abort(404)
    controls = ExplainForm.for_site(snapshot, request.args)
    controls.validate()
    visitor = PreviewVisitor(
        site_key=site,
        form_key=key,
        score=0 if controls.score.errors else float(controls.score.data or 0),
        reached_stage=None
        if controls.stage.errors or controls.stage.data in (None, "none")
        else controls.stage.data,
        known=tuple(k for k in controls.known.data or () if k in snapshot.fields),
    )
    token = preview_token(visitor, current_time())
    return render_template(
        "admin/preview.html",
        site_key=site,
        form_key=key,
        api=url_for("api.preview_ask", token=token, site=site, form=key).split("/api/v1/sites/")[0],
        page_stage=request.args.get("page_stage") or "",
        visitor=visitor,
    )


# ---- destinations (admin) ----


@admin_bp.route("/sites/<site>/destinations/new", methods=["GET", "POST"], defaults={"key": None})
@admin_bp.route("/sites/<site>/destinations/<key>/edit", methods=["GET", "POST"])
@access.role_required("admin")
def destination_edit(site: str, key: str | None) -> Page:
    """A webhook destination's config entry; running it is ``admin.destinations``' pages."""
    config = _editable(site)
    form = DestinationForm()
    previous = (
        config.entry("destinations", key).get("events", [])
        if key in config.keys("destinations")
        else []
    )
    return _entry_editor(
        site,
        "destinations",
        key,
        form,
        config,
        partial(form.entry, previous),
        lambda: url_for("admin.destination", site=site, key=form.key.data),
        template="admin/destination_edit.html",
    )


@admin_bp.post("/sites/<site>/destinations/<key>/delete")
@access.role_required("admin")
def destination_delete(site: str, key: str) -> Response:
    return delete_entry(site, "destinations", key)


# ---- deleting ----

_REMOVERS: dict[str, Callable[[str], Callable[[Config], None]]] = {
    "tiers": remove_tier,
    "fields": remove_field,
    "forms": remove_form,
    "destinations": remove_destination,
}
_AFTER_DELETE = {
    "tiers": "admin.questions",
    "fields": "admin.questions",
    "forms": "admin.forms",
    "destinations": "admin.destinations",
}
_EDITOR = {
    "tiers": "admin.tier",
    "fields": "admin.field",
    "forms": "admin.form",
    "destinations": "admin.destination_edit",
}
_KEPT = {
    "tiers": "Answers already given to it are kept.",
    "fields": "Answers already given to it are kept.",
    "forms": "Answers already given to it are kept.",
    "destinations": "Nothing more is sent to it; its delivery log is kept.",
}


@admin_bp.post("/sites/<site>/<any(tiers, fields, forms):section>/<key>/delete")
@access.role_required("marketer")
def delete(site: str, section: str, key: str) -> Response:
    """Archive an entry (stored answers keep pointing at it); refused with the reason."""
    return delete_entry(site, section, key)


def delete_entry(site: str, section: str, key: str) -> Response:
    """Archive entry ``key`` of ``section`` (a POST carrying the CSRF token and the version the
    page was opened at); the reason is flashed when it is refused."""
    config = _editable(site)
    _entry(config, section, key)
    if not DeleteForm().validate_on_submit():
        abort(400)
    noun = section[:-1].capitalize()
    try:
        edit_config(site, _version(config), current_user.email, _REMOVERS[section](key))
    except Invalid as exc:
        if isinstance(exc, EditRefused):
            lines = exc.lines()
        else:  # refused by the change itself: its reasons are the whole story
            lines = [m for messages in (exc.fields or {}).values() for m in messages]
        flash(f'{noun} "{key}" was not deleted. ' + " ".join(lines or [exc.message]))
        return redirect(url_for(_EDITOR[section], site=site, key=key))
    except Conflict as exc:
        flash(exc.message)
        return redirect(url_for(_EDITOR[section], site=site, key=key))
    flash(f'{noun} "{key}" deleted. {_KEPT[section]}')
    return redirect(url_for(_AFTER_DELETE[section], site=site))
