"""What the console shows, read only: the sites overview, contact lists and pages, the
dashboard's charts, and the question counters behind them (written by asking, read here)."""

from app.services.insights.charts import (
    SCORE_BUCKETS,
    Chart,
    CompletenessChart,
    DailySeries,
    QuestionChart,
    ScoreChart,
)
from app.services.insights.contact_list import list_contacts
from app.services.insights.contact_page import contact_detail
from app.services.insights.dashboard import WINDOWS, dashboard_chart, site_dashboard, window_days
from app.services.insights.overview import site_names, site_overviews
from app.services.insights.question_stats import count_answers, count_shown

__all__ = [
    "SCORE_BUCKETS",
    "WINDOWS",
    "Chart",
    "CompletenessChart",
    "DailySeries",
    "QuestionChart",
    "ScoreChart",
    "contact_detail",
    "count_answers",
    "count_shown",
    "dashboard_chart",
    "list_contacts",
    "site_dashboard",
    "site_names",
    "site_overviews",
    "window_days",
]
