"""Console downloads of a site's contacts and submission history (analysts and up).

The forms are GET forms whose field names are the token API's parameters, so the console,
the API and ``trickle export`` go through the same parser and the same streaming export.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask import abort, render_template, request
from werkzeug.wrappers import Response
from wtforms import BooleanField, Form, SelectChoice, SelectField, StringField
from wtforms.widgets import DateInput

from app.admin import admin_bp
from app.admin.access import role_required
from app.admin.forms import CheckboxesField, attach_errors
from app.api.exports import query_params, streamed
from app.clock import current_time
from app.services.errors import Invalid, NotFound
from app.services.exports import FORMATS, export_choices, start_export

_FORMAT_CHOICES = [
    SelectChoice(fmt, label)
    for fmt, label in zip(FORMATS, ("CSV", "JSON Lines", "Parquet"), strict=True)
]
_DATE_HINT = "A day (UTC), from its start. Empty: no limit."


class ContactExportForm(Form):
    format = SelectField("Format", choices=_FORMAT_CHOICES)
    stage = CheckboxesField("Lifecycle stage", description="None ticked: every stage.")
    updated_since = StringField("Updated since", description=_DATE_HINT, widget=DateInput())
    min_completeness = StringField("Completeness at least (%)", description="0 to 100.")
    tier_complete = CheckboxesField(
        "Every field known in these tiers", description="None ticked: no tier required."
    )
    form = SelectField("Gave a value through form")
    identified = SelectField(
        "Contacts",
        choices=[
            SelectChoice("", "Everyone"),
            SelectChoice("true", "With an email"),
            SelectChoice("false", "Anonymous only"),
        ],
    )
    provenance = BooleanField("Add when and through which form each value was given")


class HistoryExportForm(Form):
    format = SelectField("Format", choices=_FORMAT_CHOICES)
    since = StringField("Given since", description=_DATE_HINT, widget=DateInput())
    form = SelectField("Form")
    field = SelectField("Field")


def _forms(site: str, contacts_data: Any = None, history_data: Any = None) -> dict[str, Any]:
    """The two export forms; their date pickers offer days up to today (UTC)."""
    choices = export_choices(site)
    today = {"max": current_time().astimezone(UTC).date().isoformat()}
    contacts = ContactExportForm(contacts_data)
    contacts.updated_since.render_kw = today
    contacts.stage.choices = [SelectChoice(key) for key in choices.stages]
    contacts.tier_complete.choices = [SelectChoice(key) for key in choices.tiers]
    contacts.form.choices = _optional("Any form or none", choices.forms)
    history = HistoryExportForm(history_data)
    history.since.render_kw = today
    history.form.choices = _optional("Every form", choices.forms)
    history.field.choices = _optional("Every field", choices.fields)
    return {"contacts_form": contacts, "history_form": history}


def _optional(label: str, keys: tuple[str, ...]) -> list[SelectChoice]:
    return [SelectChoice("", label), *(SelectChoice(key) for key in keys)]


def _params() -> dict[str, str]:
    """The query string as the parser takes it; the provenance checkbox sends "y" when ticked."""
    params = query_params()
    if params.get("provenance") == "y":
        params["provenance"] = "true"
    return params


def _page(site: str, status: int = 200, **forms: Any) -> tuple[str, int]:
    return render_template("admin/export.html", site_key=site, **forms), status


@admin_bp.get("/sites/<site>/export")
@role_required("analyst")
def exports(site: str) -> tuple[str, int]:
    try:
        return _page(site, **_forms(site))
    except NotFound:
        abort(404)


@admin_bp.get("/sites/<site>/export/contacts", defaults={"what": "contacts"})
@admin_bp.get("/sites/<site>/export/submissions", defaults={"what": "submissions"})
@role_required("analyst")
def export_download(site: str, what: str) -> Response | tuple[str, int]:
    try:
        return streamed(start_export(site, what, _params(), current_time()))
    except NotFound:
        abort(404)
    except Invalid as exc:
        part = "contacts" if what == "contacts" else "history"
        forms = _forms(site, **{f"{part}_data": request.args})
        forms[f"{part}_problems"] = _problems(forms[f"{part}_form"], exc)
        return _page(site, 422, **forms)


def _problems(form: Form, exc: Invalid) -> list[str]:
    """Each problem next to its input; the summary above the form also names problems with no
    input (an unknown parameter in a hand-made URL)."""
    attach_errors(form, exc)
    return ["Nothing was exported: correct the marked inputs.", *form.form_errors]
