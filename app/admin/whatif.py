"""The what-if pages: try a proposed definition (a config file, or a pending change) over the
recorded history before it is agreed (docs/sales.md, "What-if"). The replay runs in the worker;
the run's page shows it waiting, then its result.

Marketers, sales users and admins may ask for one (they are who propose and approve a
definition); analysts may read them.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response
from wtforms import IntegerField
from wtforms.validators import NumberRange

from app.admin import admin_bp
from app.admin.access import role_required
from app.clock import current_time
from app.models import SALES
from app.services.errors import Invalid, NotFound
from app.services.sales import MAX_DAYS, request_whatif, whatif_run
from app.services.siteconfig import (
    checked_config,
    parse_config_text,
    proposal_config,
    site_snapshot,
)

ASKERS = ("marketer", SALES)  # who may ask for a what-if (admins too: above marketer)
READERS = ("analyst", SALES)


class ProposalWhatIfForm(FlaskForm):
    """A pending proposal's what-if: the window only (the proposal is the config)."""

    days = IntegerField(
        "Window (days)",
        default=90,
        validators=[NumberRange(1, MAX_DAYS, f"Enter 1 to {MAX_DAYS}.")],
        description="Replay this many days back from now.",
    )


class WhatIfForm(ProposalWhatIfForm):
    file = FileField("Proposed config (YAML or JSON)", validators=[FileRequired()])


@admin_bp.get("/sites/<site>/whatif")
@role_required(*READERS)
def whatif(site: str) -> str:
    _site_or_404(site)
    return render_template("admin/whatif.html", site_key=site, form=WhatIfForm(), problems=None)


@admin_bp.post("/sites/<site>/whatif")
@role_required(*ASKERS)
def whatif_request(site: str) -> Response | tuple[str, int]:
    _site_or_404(site)
    form = WhatIfForm()
    problems: dict[str, list[str]] | None = None
    if form.validate_on_submit():
        try:
            proposal = checked_config(parse_config_text(form.file.data.read().decode("utf-8")))
            run_id = request_whatif(
                site, proposal, form.days.data, current_user.email, current_time()
            )
        except UnicodeDecodeError:
            problems = {"<file>": ["the file is not UTF-8 text"]}
        except Invalid as exc:
            problems = exc.fields or {"<file>": [exc.message]}
        else:
            return redirect(url_for("admin.whatif_result", site=site, run_id=run_id))
    page = render_template("admin/whatif.html", site_key=site, form=form, problems=problems)
    return page, 422


@admin_bp.post("/sites/<site>/whatif/proposal/<int:proposal_id>")
@role_required(*ASKERS)
def whatif_of_proposal(site: str, proposal_id: int) -> Response:
    """The what-if of a pending change to the definition, from the History page."""
    form = ProposalWhatIfForm()
    if not form.validate_on_submit():
        flash(f"The what-if's window must be 1 to {MAX_DAYS} days.")
        return redirect(url_for("admin.config", site=site, _anchor=f"proposal-{proposal_id}"))
    try:
        site_key, proposal = proposal_config(proposal_id, site)
    except NotFound:
        abort(404)
    run_id = request_whatif(site_key, proposal, form.days.data, current_user.email, current_time())
    return redirect(url_for("admin.whatif_result", site=site, run_id=run_id))


@admin_bp.get("/sites/<site>/whatif/<int:run_id>")
@role_required(*READERS)
def whatif_result(site: str, run_id: int) -> str:
    try:
        run = whatif_run(site, run_id)
    except NotFound:
        abort(404)
    return render_template("admin/whatif_run.html", site_key=site, run=run, **_charted(run.result))


def _charted(result: dict[str, Any] | None) -> dict[str, Any]:
    """The largest weekly count, for the bars' widths."""
    if not result:
        return {"peak": 0}
    return {"peak": max([1, *(max(old, new) for _, old, new in result["weeks"])])}


def _site_or_404(site: str) -> None:
    try:
        site_snapshot(site)
    except NotFound:
        abort(404)
