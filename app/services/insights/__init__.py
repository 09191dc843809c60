"""What the console shows, read only: the sites overview, contact lists and pages, the
dashboard's charts and headline numbers, the trust of what is held on a person (read by explain too), the
question counters behind them (written by asking, read here), the sales console's
hand-off queue and briefs, and the joint funnel report both teams read."""

from app.services.insights.brief import ContactBrief, contact_brief
from app.services.insights.charts import (
    SCORE_BUCKETS,
    Chart,
    CompletenessChart,
    DailySeries,
    FunnelTable,
    QuestionChart,
    ScoreChart,
)
from app.services.insights.contact_list import list_contacts
from app.services.insights.contact_page import contact_detail
from app.services.insights.dashboard import WINDOWS, dashboard_chart, site_dashboard, window_days
from app.services.insights.funnel import funnel_report, funnel_table
from app.services.insights.funnel_period import FUNNEL_WINDOW
from app.services.insights.headlines import FormHeadline, Headlines, site_headlines
from app.services.insights.overview import site_names, site_overviews
from app.services.insights.question_stats import count_answers, count_shown
from app.services.insights.queue import (
    HandoffQueue,
    SiteQueue,
    contact_label,
    handoff_queue,
    site_queues,
)
from app.services.insights.trust import BrowserEntry, CurrentValue, browser_entries, current_values

__all__ = [
    "FUNNEL_WINDOW",
    "SCORE_BUCKETS",
    "WINDOWS",
    "BrowserEntry",
    "Chart",
    "CompletenessChart",
    "ContactBrief",
    "CurrentValue",
    "DailySeries",
    "FormHeadline",
    "FunnelTable",
    "HandoffQueue",
    "Headlines",
    "QuestionChart",
    "ScoreChart",
    "SiteQueue",
    "browser_entries",
    "contact_brief",
    "contact_detail",
    "contact_label",
    "count_answers",
    "count_shown",
    "current_values",
    "dashboard_chart",
    "funnel_report",
    "funnel_table",
    "handoff_queue",
    "list_contacts",
    "site_dashboard",
    "site_headlines",
    "site_names",
    "site_overviews",
    "site_queues",
    "window_days",
]
