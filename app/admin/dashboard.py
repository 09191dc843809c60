"""A site's dashboard (analysts and up): every chart as SVG with its table, and each as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

from flask import Response, abort, render_template, request

from app.admin import admin_bp
from app.admin.access import role_required
from app.admin.charts import chart_svg
from app.clock import current_time
from app.services.errors import NotFound
from app.services.exports import neutralise
from app.services.insights import (
    WINDOWS,
    Chart,
    FunnelTable,
    dashboard_chart,
    site_dashboard,
    site_headlines,
    window_days,
)


@admin_bp.get("/sites/<site>/dashboard")
@role_required("analyst")
def dashboard(site: str) -> str:
    days = window_days(request.args.get("days"))
    try:
        charts = site_dashboard(site, days, current_time())
        headlines = site_headlines(site, days, current_time())
    except NotFound:
        abort(404)
    panels = [(name, chart, chart_svg(chart)) for name, chart in charts]
    return render_template(
        "admin/dashboard.html",
        site_key=site,
        days=days,
        windows=WINDOWS,
        panels=panels,
        headlines=headlines,
    )


@admin_bp.get("/sites/<site>/dashboard/<chart>.csv")
@role_required("analyst")
def dashboard_csv(site: str, chart: str) -> Response:
    now = current_time()
    try:
        data = dashboard_chart(site, chart, window_days(request.args.get("days")), now)
    except NotFound:
        abort(404)
    return csv_download(f"{site}-{chart}", data, now)


def csv_download(name: str, chart: Chart | FunnelTable, now: datetime) -> Response:
    """A chart's or table's CSV as a download named ``name`` and the day (UTC)."""
    filename = f"{name}-{now.astimezone(UTC).date().isoformat()}.csv"
    return Response(
        chart_csv(chart),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def chart_csv(chart: Chart | FunnelTable) -> str:
    """The chart's table as CSV; text a spreadsheet would run as a formula is neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(column) for column in chart.columns])
    for row in chart.rows:
        writer.writerow([neutralise(v) if isinstance(v, str) else cell_text(v) for v in row])
    return out.getvalue()


@admin_bp.app_template_filter("dashboard_cell")
def cell_text(value: Any, blank: str = "") -> str:
    """A table or CSV cell: days as ISO dates, percentages to one decimal ("45.5", "100")."""
    if value is None:
        return blank
    if isinstance(value, float):
        return f"{value:.1f}".removesuffix(".0")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
