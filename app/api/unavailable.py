"""An ask that fails in the form's language: its error answer (403 origin refused, 429, 5xx, …)
carries the form's ``language``, ``dir`` and ``unavailable`` text, so the widget says "Dieses
Formular ist gerade nicht verfügbar." on a German form even when no ask ever answered
(docs/widget.md). They are the config's words, never a visitor's; read only from snapshots
already in memory, since the database may be what failed and a refusal must stay cheap."""

from __future__ import annotations

from flask import Response, current_app, request

from app.api import api_bp
from app.api.schemas import ErrorForm
from app.services.siteconfig import remembered_snapshot

ERROR_FORM = ErrorForm()


@api_bp.after_request
def _unavailable_in_language(response: Response) -> Response:
    # Not on a 404: no such site or form (now), so nothing of one (a deleted site's snapshot
    # may still be in memory).
    failed = response.status_code >= 400 and response.status_code != 404
    if request.endpoint != "api.ask" or not failed or not response.is_json:
        return response
    names = request.view_args or {}
    snapshot = remembered_snapshot(names.get("site", ""))
    form = snapshot.forms.get(names.get("form", "")) if snapshot is not None else None
    body = response.get_json(silent=True)
    if form is None or not isinstance(body, dict) or "error" not in body:
        return response
    unavailable = {"unavailable": form.strings["unavailable"]}
    body["form"] = ERROR_FORM.dump(
        {"language": form.language, "dir": form.direction, "strings": unavailable}
    )
    response.set_data(current_app.json.dumps(body))
    return response
