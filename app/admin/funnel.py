"""The joint funnel report (analysts and up, and sales): every table with its drawing, and
each as CSV, in the dashboard's look (docs/console.md, "Funnel")."""

from __future__ import annotations

from flask import Response, abort, render_template, request

from app.admin import admin_bp
from app.admin.access import role_required
from app.admin.charts import funnel_svg
from app.admin.dashboard import csv_download
from app.clock import current_time
from app.models import SALES
from app.services.errors import NotFound
from app.services.insights import (
    FUNNEL_WINDOW,
    WINDOWS,
    funnel_report,
    funnel_table,
    window_days,
)

READERS = ("analyst", SALES)  # both teams read the same numbers


@admin_bp.get("/sites/<site>/funnel")
@role_required(*READERS)
def funnel(site: str) -> str:
    days = window_days(request.args.get("days"), FUNNEL_WINDOW)
    try:
        tables = funnel_report(site, days, current_time())
    except NotFound:
        abort(404)
    panels = [(name, table, funnel_svg(table)) for name, table in tables]
    return render_template(
        "admin/funnel.html", site_key=site, days=days, windows=WINDOWS, panels=panels
    )


@admin_bp.get("/sites/<site>/funnel/<chart>.csv")
@role_required(*READERS)
def funnel_csv(site: str, chart: str) -> Response:
    now = current_time()
    days = window_days(request.args.get("days"), FUNNEL_WINDOW)
    try:
        table = funnel_table(site, chart, days, now)
    except NotFound:
        abort(404)
    return csv_download(f"{site}-funnel-{chart}", table, now)
