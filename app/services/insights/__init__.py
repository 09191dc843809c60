"""What the console shows, read only: the sites overview, contact lists and pages, the
dashboard's charts, the trust of what is held on a person (read by explain too), and the
question counters behind them (written by asking, read here)."""

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
from app.services.insights.trust import BrowserEntry, CurrentValue, browser_entries, current_values

__all__ = [
    "SCORE_BUCKETS",
    "WINDOWS",
    "BrowserEntry",
    "Chart",
    "CompletenessChart",
    "CurrentValue",
    "DailySeries",
    "QuestionChart",
    "ScoreChart",
    "browser_entries",
    "contact_detail",
    "count_answers",
    "count_shown",
    "current_values",
    "dashboard_chart",
    "list_contacts",
    "site_dashboard",
    "site_names",
    "site_overviews",
    "window_days",
]
