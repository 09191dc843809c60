"""Questions (marketer): a site's tiers and fields, their editors, and reordering fields."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.validators import InputRequired

from app.admin import access, admin_bp
from app.admin.config_editor import (
    Page,
    editable_or_404,
    entry_editor,
    entry_or_404,
    open_editor,
    submitted_version,
)
from app.admin.config_forms.fields import FieldForm
from app.admin.config_forms.tiers import TierForm
from app.admin.forms import MoveForm
from app.services.errors import Conflict, Invalid
from app.services.siteconfig import (
    Config,
    asking_order,
    edit_config,
    form_asking_orders,
    move_field,
    site_snapshot,
)


@admin_bp.get("/sites/<site>/questions")
@access.role_required("analyst")
def questions(site: str) -> str:
    config = editable_or_404(site)
    tiers = sorted(config.section("tiers"), key=lambda t: t["rank"])
    fields = config.section("fields")
    by_tier = {tier["key"]: _rows(asking_order(fields, tier["key"])) for tier in tiers}
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
        form_orders=form_asking_orders(site_snapshot(site)),
        version=config.version,
        move_form=MoveForm(),
        can_edit=current_user.can("marketer"),
    )


@dataclass(frozen=True)
class _Row:
    """A field of a tier's table, and whether its ↑ / ↓ move it (an identity field is asked
    first whatever its place, so it has none, and the field after it cannot go above it)."""

    field: Config
    up: bool
    down: bool


def _rows(ordered: list[Config]) -> list[_Row]:
    movable = [f["key"] for f in ordered if not f.get("identity")]
    return [
        _Row(f, bool(movable) and f["key"] != movable[0], bool(movable) and f["key"] != movable[-1])
        for f in ordered
    ]


def _pools(form: Config, field: Config) -> bool:
    """Whether ``form`` asks ``field``: listed, shown as its consent line, or through its tier
    (a field with ``pooled: false`` never comes in through its tier)."""
    return (
        field["key"] in form.get("fields", [])
        or (form.get("consent") or {}).get("field") == field["key"]
        or (field.get("pooled", True) and field["tier"] in form.get("tiers", []))
    )


@admin_bp.route("/sites/<site>/tiers/new", methods=["GET", "POST"], defaults={"key": None})
@admin_bp.route("/sites/<site>/tiers/<key>", methods=["GET", "POST"])
@access.role_required("analyst")
def tier(site: str, key: str | None) -> Page:
    config = open_editor(site, key)
    form = TierForm()
    if key is None and request.method == "GET":
        form.rank.data = max((t["rank"] for t in config.section("tiers")), default=0) + 1
    questions_page = partial(url_for, "admin.questions", site=site)
    return entry_editor(site, "tiers", key, form, config, form.entry, questions_page)


@admin_bp.route("/sites/<site>/fields/new", methods=["GET", "POST"], defaults={"key": None})
@admin_bp.route("/sites/<site>/fields/<key>", methods=["GET", "POST"])
@access.role_required("analyst")
def field(site: str, key: str | None) -> Page:
    config = open_editor(site, key)
    others = [f for f in config.section("fields") if f["key"] != key]
    form = FieldForm()
    form.set_choices(sorted(config.section("tiers"), key=lambda t: t["rank"]), others)
    if key is None and request.method == "GET" and request.args.get("tier"):
        form.tier.data = request.args["tier"]
    kinds = {f["key"]: f["kind"] for f in others}
    questions_page = partial(url_for, "admin.questions", site=site)
    return entry_editor(
        site, "fields", key, form, config, partial(form.entry, kinds), questions_page
    )


@admin_bp.post("/sites/<site>/fields/<key>/move")
@access.role_required("marketer")
def field_move(site: str, key: str) -> Response:
    config = editable_or_404(site)
    entry_or_404(config, "fields", key)
    form = MoveForm()
    form.direction.validators = [InputRequired()]
    if not form.validate_on_submit():
        abort(400)
    steps = -1 if form.direction.data == "up" else 1
    try:
        edit_config(site, submitted_version(config), current_user.email, move_field(key, steps))
    except (Invalid, Conflict) as exc:
        flash(exc.message)
    return redirect(url_for("admin.questions", site=site) + f"#field-{key}")
