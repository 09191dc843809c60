"""The dashboard's charts as inline SVG: pure functions from the dashboard's dataclasses.

Every piece is a ``Markup`` template filled by ``Markup.format``, which escapes each argument
with ``markupsafe.escape``: text from data (labels, form keys, stage names, titles) can only
ever appear as text, whatever it contains. Colours come from classes in ``admin.css``: the console's
CSP blocks ``style`` attributes, so only SVG presentation attributes are used. No script, no
external font: the charts read the same with JavaScript off.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from itertools import pairwise

from markupsafe import Markup

from app.services.insights import (
    SCORE_BUCKETS,
    Chart,
    CompletenessChart,
    DailySeries,
    FunnelTable,
    QuestionChart,
    ScoreChart,
)

WIDTH = 720
LABEL_WIDTH = 230  # left column of bar charts
ROW = 22  # height of one bar row
TOP = 34  # room for the legend
LABEL_CHARS = 30  # longer labels go on more lines, whole: the row grows to hold them
LINE = 14  # the height of one line of a label


def chart_svg(chart: Chart) -> Markup:
    """The SVG drawing of any dashboard chart."""
    if isinstance(chart, CompletenessChart):
        return completeness_svg(chart)
    if isinstance(chart, QuestionChart):
        return questions_svg(chart)
    if isinstance(chart, ScoreChart):
        return scores_svg(chart)
    return daily_svg(chart)


def completeness_svg(chart: CompletenessChart) -> Markup:
    """Two bars per tier: the share of answers known, the share of contacts with all of them."""
    rows = [
        (
            tier.label,
            (
                (_share(tier.filled_percent), "bar-known", _pct(tier.filled_percent)),
                (_share(tier.complete_percent), "bar-complete", _pct(tier.complete_percent)),
            ),
        )
        for tier in chart.rows
    ]
    legend = (("bar-known", "Answers known"), ("bar-complete", "Contacts with every field"))
    return _bar_rows(chart.title, rows, legend, "% (100 = every contact)", stacked=False)


def questions_svg(chart: QuestionChart) -> Markup:
    """Per question a bar as long as it was shown: answered, skipped, and the rest."""
    if not chart.rows:
        return _empty(chart.title, "No form asks any question yet.")
    scale = max((max(q.shown, q.answered + q.skipped) for q in chart.rows), default=0) or 1
    rows = []
    for q in chart.rows:
        rest = max(q.shown - q.answered - q.skipped, 0)
        note = f"{q.shown} shown · {_pct(q.answer_rate)} answered"
        segments = (
            (q.answered / scale, "bar-answered", ""),
            (q.skipped / scale, "bar-skipped", ""),
            (rest / scale, "bar-shown", note),
        )
        rows.append((f"{q.form_key} · {q.label}", segments))
    legend = (
        ("bar-answered", "Answered"),
        ("bar-skipped", "Skipped"),
        ("bar-shown", "Shown, not answered"),
    )
    return _bar_rows(chart.title, rows, legend, f"Times shown (longest bar: {scale})", stacked=True)


def scores_svg(chart: ScoreChart) -> Markup:
    """A histogram: one column per score bucket, its height the number of contacts."""
    height, bottom, left = 260, 212, 56
    plot_w, plot_h = WIDTH - left - 16, bottom - TOP
    top = max((row.contacts for row in chart.rows), default=0) or 1
    step = plot_w / len(chart.rows)
    parts = [*_y_axis(left, bottom, plot_w, plot_h, top, "Contacts")]
    for i, (row, label) in enumerate(zip(chart.rows, _bucket_names(), strict=True)):
        count = row.contacts
        x, bar_h = left + i * step, plot_h * count / top
        parts.append(
            Markup("<g><title>{}: {}</title>{}{}</g>").format(
                row.label,
                count,
                _rect(x + step * 0.15, bottom - bar_h, step * 0.7, bar_h, "bar-scores"),
                _text(x + step / 2, bottom - bar_h - 4, str(count), "chart-value", "middle"),
            )
        )
        parts.append(_text(x + step / 2, bottom + 16, label, "chart-label", "middle"))
    parts.append(_text(left + plot_w / 2, height - 8, "Engagement score", "chart-axis", "middle"))
    return _svg(chart.title, height, parts)


def daily_svg(chart: DailySeries, axis: str = "Day (UTC)") -> Markup:
    """One line per series over the days of the window, with a legend and day labels."""
    height, bottom, left = 280, 230, 56
    plot_w, plot_h = WIDTH - left - 16, bottom - TOP
    top = max((max(values, default=0) for _, values in chart.series), default=0) or 1
    step = plot_w / max(len(chart.days) - 1, 1)
    parts = [*_legend((f"series-{i % 7}", name) for i, (name, _) in enumerate(chart.series))]
    parts += _y_axis(left, bottom, plot_w, plot_h, top, "Count")
    for i, (name, values) in enumerate(chart.series):
        points = " ".join(
            f"{left + d * step:.1f},{bottom - plot_h * v / top:.1f}" for d, v in enumerate(values)
        )
        parts.append(
            Markup(
                '<polyline class="line series-{}" points="{}"><title>{}: {} on {}</title>'
                "</polyline>"
            ).format(i % 7, points, name, values[-1], chart.days[-1].isoformat())
        )
    for d in sorted({0, (len(chart.days) - 1) // 2, len(chart.days) - 1}):
        anchor = "start" if d == 0 else "end" if d == len(chart.days) - 1 else "middle"
        parts.append(
            _text(left + d * step, bottom + 16, chart.days[d].isoformat(), "chart-label", anchor)
        )
    parts.append(_text(left + plot_w / 2, height - 8, axis, "chart-axis", "middle"))
    return _svg(chart.title, height, parts)


def funnel_svg(table: FunnelTable) -> Markup:
    """A funnel report table's drawing (see FunnelTable.drawing); a missing value draws as
    nothing, its note as "—"."""
    if table.drawing == "weeks":
        series = tuple(
            (table.columns[i], tuple(row[i] or 0 for row in table.rows)) for i in table.plot
        )
        days = tuple(row[0] for row in table.rows)
        return daily_svg(DailySeries(table.title, table.columns, table.rows, days, series), "Week")
    unit = "%" if table.percent else ""
    if table.drawing == "total":  # the last row, a bar per column
        last = table.rows[-1]
        cells = [
            (_short(table.columns[i]), ((last[i], f"series-{n % 7}"),))
            for n, i in enumerate(table.plot)
        ]
        legend: tuple[tuple[str, str], ...] = ()
    else:
        cells = [
            (
                " · ".join(str(cell) for cell in row[: table.labels]),
                tuple((row[i], f"series-{n % 7}") for n, i in enumerate(table.plot)),
            )
            for row in table.rows
        ]
        legend = tuple(
            (f"series-{n % 7}", _short(table.columns[i])) for n, i in enumerate(table.plot)
        )
    scale = (
        100
        if table.percent
        else max((v or 0 for _, bars in cells for v, _ in bars), default=0) or 1
    )
    rows = [
        (
            label,
            tuple(
                ((value or 0) / scale, cls, "—" if value is None else f"{value:g}{unit}")
                for value, cls in bars
            ),
        )
        for label, bars in cells
    ]
    axis = "% (100 = all)" if table.percent else f"Longest bar: {scale:g}"
    if table.drawing == "total":
        axis = f"{table.rows[-1][0]} · {axis}"
    return _bar_rows(table.title, rows, legend, axis, stacked=False)


def _short(column: str) -> str:
    """A column's name without its unit: "Lead→MQL (median days)" → "Lead→MQL"."""
    return column.split(" (")[0]


# --- pieces ---------------------------------------------------------------------------------

Segment = tuple[float, str, str]  # (share of the bar's full length 0..1, class, note after it)


def _bar_rows(
    title: str,
    rows: Sequence[tuple[str, Sequence[Segment]]],
    legend: Sequence[tuple[str, str]],
    axis: str,
    *,
    stacked: bool,
) -> Markup:
    """Horizontal bars, a label per row: its segments end to end (``stacked``: parts of one
    whole) or each its own thinner bar, one under the other."""
    per_row = 1 if stacked else max((len(s) for _, s in rows), default=1)
    row_h = ROW if stacked else ROW * per_row * 0.75 + 6
    plot_w = WIDTH - LABEL_WIDTH - 170  # room for the note after the longest bar
    parts = [*_legend(legend)]
    y = float(TOP)
    for label, segments in rows:
        lines = textwrap.wrap(label, LABEL_CHARS) or [""]
        parts.append(Markup("<g><title>{}</title>").format(label))
        for n, line in enumerate(lines):
            parts.append(_text(LABEL_WIDTH - 8, y + 14 + n * LINE, line, "chart-label", "end"))
        x = float(LABEL_WIDTH)
        for s, (share, cls, note) in enumerate(segments):
            bar_y = y + 3 if stacked else y + 3 + s * ROW * 0.75
            bar_h = ROW - 6 if stacked else ROW * 0.75 - 3
            width = plot_w * min(max(share, 0.0), 1.0)
            parts.append(_rect(x, bar_y, width, bar_h, cls))
            if stacked:
                x += width
            if note:
                end = x if stacked else LABEL_WIDTH + width
                parts.append(_text(end + 6, bar_y + bar_h - 3, note, "chart-value"))
        parts.append(Markup("</g>"))
        y += max(row_h, LINE * len(lines) + 8)
    height = (y if rows else TOP + row_h) + 34
    axis_y = height - 12
    parts.append(_text(LABEL_WIDTH + plot_w / 2, axis_y, axis, "chart-axis", "middle"))
    return _svg(title, height, parts)


def _y_axis(
    left: float, bottom: float, plot_w: float, plot_h: float, top: int, label: str
) -> list[Markup]:
    """Baseline and top gridlines with their values, and the axis's name written upwards."""
    line = Markup('<line class="chart-grid" x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}"/>')
    return [
        line.format(left, bottom, left + plot_w, bottom),
        line.format(left, bottom - plot_h, left + plot_w, bottom - plot_h),
        _text(left - 6, bottom + 4, "0", "chart-label", "end"),
        _text(left - 6, bottom - plot_h + 4, str(top), "chart-label", "end"),
        Markup(
            '<text class="chart-axis" text-anchor="middle" '
            'transform="translate(14 {:.1f}) rotate(-90)">{}</text>'
        ).format(bottom - plot_h / 2, label),
    ]


def _legend(entries: Iterable[tuple[str, str]]) -> list[Markup]:
    """A swatch and a name per entry, in a row above the plot (from the left edge of the
    bars, or further left when the names would run past the drawing's right edge)."""
    entries = list(entries)
    width = sum(30 + 7 * len(name) for _, name in entries)
    parts, x = [], float(max(min(LABEL_WIDTH, WIDTH - width), 8))
    for cls, name in entries:
        parts.append(_rect(x, 8, 12, 12, f"swatch {cls}"))
        parts.append(_text(x + 17, 18, name, "chart-label"))
        x += 30 + 7 * len(name)
    return parts


def _svg(title: str, height: float, parts: Sequence[Markup]) -> Markup:
    """The drawing; ``Markup.join`` escapes anything in ``parts`` not already markup."""
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {} {:.0f}" '
        'role="img" aria-label="{}"><title>{}</title>{}</svg>'
    ).format(WIDTH, height, title, title, Markup("").join(parts))


def _empty(title: str, message: str) -> Markup:
    return _svg(title, 60, [_text(WIDTH / 2, 34, message, "chart-label", "middle")])


def _text(x: float, y: float, content: str, cls: str, anchor: str = "start") -> Markup:
    return Markup('<text x="{:.1f}" y="{:.1f}" class="{}" text-anchor="{}">{}</text>').format(
        x, y, cls, anchor, content
    )


def _rect(x: float, y: float, width: float, height: float, cls: str) -> Markup:
    return Markup('<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" class="{}"/>').format(
        x, y, max(width, 0), max(height, 0), cls
    )


def _share(percent: float | None) -> float:
    return (percent or 0) / 100


def _pct(percent: float | None) -> str:
    return "—" if percent is None else f"{percent:.1f}".removesuffix(".0") + "%"


def _bucket_names() -> list[str]:
    """Short axis names of SCORE_BUCKETS: "<1", "1-5", ..., "50+"."""
    bounds = [lower for lower, _ in SCORE_BUCKETS]
    names = [f"<{bounds[1]:g}"] if len(bounds) > 1 else []
    names += [f"{lo:g}-{hi:g}" for lo, hi in pairwise(bounds[1:])]
    return [*names, f"{bounds[-1]:g}+"]
