"""Explain / simulate: which questions a form would ask a contact (real or made up), and why not
the others."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    DecimalField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
)
from wtforms.validators import InputRequired, NumberRange, Optional
from wtforms.widgets import CheckboxInput

from app.admin import access, admin_bp
from app.admin.forms import number_parsed
from app.clock import current_time
from app.domain.specs import MAX_NUMBER, STAGES
from app.services.asking import Explanation, explain_contact, explain_hypothetical
from app.services.errors import NotFound
from app.services.siteconfig import SiteSnapshot, site_snapshot

_MAX_ID = 2**31 - 1  # the largest id every backend's integer column holds


class ExplainForm(FlaskForm):
    """A read-only GET form: nothing changes, so no CSRF token (and shareable URLs)."""

    class Meta:
        csrf = False

    form = SelectField("Form", validators=[InputRequired()])
    mode = RadioField(
        "Explain for",
        choices=[
            SelectChoice("hypothetical", "A hypothetical contact"),
            SelectChoice("contact", "A stored contact"),
        ],
        default="hypothetical",
    )
    contact_id = IntegerField(
        "Contact id", validators=[Optional(), number_parsed, NumberRange(min=1, max=_MAX_ID)]
    )
    score = DecimalField(
        "Engagement score",
        places=None,
        render_kw={"placeholder": "0"},
        validators=[Optional(), number_parsed, NumberRange(min=0), NumberRange(max=MAX_NUMBER)],
    )
    stage = SelectField(
        "Latest stage reached",
        choices=[SelectChoice("none"), *(SelectChoice(s) for s in STAGES)],
        default="none",
    )
    known = SelectMultipleField("Known fields", option_widget=CheckboxInput())

    @classmethod
    def for_site(
        cls, site: SiteSnapshot, query: MultiDict[str, str], prefix: str = ""
    ) -> ExplainForm:
        """The form for ``site``, read from ``query``; ``prefix`` names (and ids) its inputs
        apart from another form's on the same page (the form editor's live preview)."""
        form = cls(formdata=query, prefix=prefix)
        form.form.choices = [
            SelectChoice(f.key, f"{f.title} ({f.key})") for f in site.forms.values()
        ]
        form.known.choices = [
            SelectChoice(key, f"{f.label} ({key})") for key, f in site.fields.items()
        ]
        if form.form.data is None and site.forms:
            form.form.data = next(iter(site.forms))
        return form

    def hypothetical(self) -> tuple[float, str | None, tuple[str, ...]]:
        """The made-up visitor these controls describe, once validated: the engagement
        score, the latest stage reached and the known fields; a value in error counts as none
        (score 0, no stage) and an unknown field is left out."""
        score = 0.0 if self.score.errors else float(self.score.data or 0)
        stage = self.stage.data
        reached = None if self.stage.errors or stage in (None, "none") else stage
        fields = {choice.value for choice in self.known.choices}
        return score, reached, tuple(k for k in self.known.data or () if k in fields)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.mode.data == "contact" and self.contact_id.data is None:
            if not self.contact_id.errors:
                self.contact_id.errors.append("Enter the id of the contact to explain.")
            return False
        return valid


@admin_bp.get("/sites/<site>/explain")
@access.role_required("analyst")
def explain(site: str) -> str:
    try:
        snapshot = site_snapshot(site)
        query = _query(snapshot)
        form = ExplainForm.for_site(snapshot, query)
        explanation = _explain(snapshot, form) if "form" in query and form.validate() else None
    except NotFound:
        abort(404)
    return render_template("admin/explain.html", site=snapshot, form=form, explanation=explanation)


def _query(site: SiteSnapshot) -> MultiDict[str, str]:
    """The query string; ``?contact=<id>`` (links from a contact's page) means contact mode on
    the site's first form."""
    query = MultiDict(request.args)
    if "contact" in query and "mode" not in query:
        query.setlist("mode", ["contact"])
        query.setlist("contact_id", query.getlist("contact"))
        if "form" not in query and site.forms:
            query.setlist("form", [next(iter(site.forms))])
    return query


def _explain(site: SiteSnapshot, form: ExplainForm) -> Explanation:
    now = current_time()
    if form.mode.data == "contact":
        return explain_contact(site.key, form.form.data, form.contact_id.data, now)
    return explain_hypothetical(site.key, form.form.data, *form.hypothetical(), now)
