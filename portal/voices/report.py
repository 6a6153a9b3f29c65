"""The business-year voice report (counts by kind, topic, channel and month against
the year before), its charts (pygal, server-side SVG) and the CSV exports."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from portal import audit
from portal.clock import to_tokyo, today
from portal.jp.dates import fiscal_year, fiscal_year_range
from portal.staff.models import StaffUser
from portal.voices.models import (
    CHANNEL_LABELS, KIND_LABELS, STATUS_LABELS, TOPIC_LABELS, VOICE_CHANNELS, VOICE_KINDS, VOICE_TOPICS,
    ImprovementItem, Voice,
)
from portal.voices.services import VoiceError


# ---------------------------------------------------------------- the yearly report

@dataclass
class CountRow:
    code: str
    label: str
    count: int
    prev: int

    @property
    def change(self) -> float | None:
        return change_pct(self.count, self.prev)


@dataclass
class MonthRow:
    year: int
    month: int
    by_kind: dict[str, int]
    total: int
    prev: int
    # False for a month that has not begun yet: it has no figures, so no change either
    # (a zero there would read as a 100 % drop).
    reached: bool = True

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    @property
    def change(self) -> float | None:
        return change_pct(self.total, self.prev) if self.reached else None


@dataclass
class VoiceReport:
    fy: int
    start: date
    end: date
    total: int
    prev_total: int
    kinds: list[CountRow]
    topics: list[CountRow]
    channels: list[CountRow]
    months: list[MonthRow]
    # A year still running is compared with the same months of the year before
    # (6月 to the current month), not with the whole of it.
    partial: bool = False

    @property
    def change(self) -> float | None:
        return change_pct(self.total, self.prev_total)

    @property
    def prev_label(self) -> str:
        return "前年度同期" if self.partial else "前年度"

    @property
    def through_month(self) -> int | None:
        reached = [m.month for m in self.months if m.reached]
        return reached[-1] if self.partial and reached else None

    @property
    def label(self) -> str:
        return f"{self.fy}年度"


def change_pct(current: int, previous: int) -> float | None:
    """Year-on-year change in percent, one decimal; None when there is nothing to compare with."""
    if not previous:
        return None
    return round((current - previous) * 100 / previous, 1)


def fiscal_year_months(fy: int) -> list[tuple[int, int]]:
    """(year, month) from June of `fy` to May of `fy`+1."""
    return [(fy + (m < 6), m) for m in (6, 7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5)]


def current_fiscal_year() -> int:
    return fiscal_year(today())


def yearly_report(session: Session, fy: int) -> VoiceReport:
    """Counts for business year `fy` (1 June – 31 May, Tokyo dates) and the year before.

    Two GROUP BYs over both years in one statement: the inner one follows the index
    on (received_on, kind, topic, channel) — an index-only scan, already in group
    order, so nothing is sorted — and leaves a few rows per day; the outer one folds
    the days into months (1M voices: about 0.2–0.5 s on PostgreSQL, see tests/perf).
    """
    start, end = fiscal_year_range(fy)
    prev_start, _ = fiscal_year_range(fy - 1)
    per_day = (
        select(Voice.received_on.label("day"), Voice.kind, Voice.topic, Voice.channel, func.count().label("n"))
        .where(Voice.received_on >= prev_start, Voice.received_on <= end)
        .group_by(Voice.received_on, Voice.kind, Voice.topic, Voice.channel)
        .subquery()
    )
    year_col = extract("year", per_day.c.day)
    month_col = extract("month", per_day.c.day)
    rows = session.execute(
        select(year_col, month_col, per_day.c.kind, per_day.c.topic, per_day.c.channel, func.sum(per_day.c.n))
        .group_by(year_col, month_col, per_day.c.kind, per_day.c.topic, per_day.c.channel)
    ).all()
    cur: dict[str, dict[str, int]] = {"kind": {}, "topic": {}, "channel": {}}
    prev: dict[str, dict[str, int]] = {"kind": {}, "topic": {}, "channel": {}}
    month_kind: dict[tuple[int, int], dict[str, int]] = {}
    month_prev: dict[int, int] = {}
    this_month = today().replace(day=1)
    for year, month, kind, topic, channel, count in rows:
        year, month, count = int(year), int(month), int(count)
        in_current = (year, month) >= (start.year, start.month)
        # Last year's month counts in the totals only when the same month this year has begun.
        if in_current or date(year + 1, month, 1) <= this_month:
            target = cur if in_current else prev
            for dim, code in (("kind", kind), ("topic", topic), ("channel", channel)):
                target[dim][code] = target[dim].get(code, 0) + count
        if in_current:
            bucket = month_kind.setdefault((year, month), {})
            bucket[kind] = bucket.get(kind, 0) + count
        else:
            month_prev[month] = month_prev.get(month, 0) + count

    def count_rows(dim: str, codes: tuple[str, ...], labels: dict[str, str]) -> list[CountRow]:
        return [CountRow(c, labels[c], cur[dim].get(c, 0), prev[dim].get(c, 0)) for c in codes]

    months = []
    for year, month in fiscal_year_months(fy):
        by_kind = {k: month_kind.get((year, month), {}).get(k, 0) for k in VOICE_KINDS}
        months.append(MonthRow(year, month, by_kind, sum(by_kind.values()), month_prev.get(month, 0),
                               reached=date(year, month, 1) <= this_month))
    return VoiceReport(
        fy=fy, start=start, end=end,
        total=sum(cur["kind"].values()), prev_total=sum(prev["kind"].values()),
        kinds=count_rows("kind", VOICE_KINDS, KIND_LABELS),
        topics=count_rows("topic", VOICE_TOPICS, TOPIC_LABELS),
        channels=count_rows("channel", VOICE_CHANNELS, CHANNEL_LABELS),
        months=months, partial=today() <= end,
    )


# ---------------------------------------------------------------- charts (pygal, server-side SVG)

CHART_NAMES = ("months", "topics", "channels")
_SCRIPT_RE = re.compile(r"<script\b.*?</script>", re.S | re.I)


def report_for_staff(session: Session, fy: int, *, exported: bool = False) -> VoiceReport:
    """The year's report a staff member reads on screen or takes as CSV (audited)."""
    report = yearly_report(session, fy)
    audit.record("voice.report_exported" if exported else "voice.report_viewed", target_type="voice_report",
                 target_id=fy, session=session)
    return report


def chart_svg(report: VoiceReport, name: str) -> str:
    """An SVG document without scripts, for an <img src> (its styles stay inside the SVG)."""
    import pygal
    from pygal.style import Style

    style = Style(
        font_family="'Noto Sans CJK JP', 'Hiragino Sans', 'Yu Gothic', sans-serif",
        background="#ffffff", plot_background="#ffffff", foreground="#222222",
        foreground_strong="#111111", foreground_subtle="#555555",
        colors=("#2f6f4f", "#c98a1b", "#b3261e", "#3b5ba5", "#7a4fa0", "#4d8c8c", "#8c6d4d", "#666666"),
        label_font_size=13, major_label_font_size=13, legend_font_size=14, title_font_size=16,
        value_font_size=12,
    )
    options: dict[str, Any] = dict(style=style, disable_xml_declaration=True, js=[], width=760, height=420,
                                   legend_at_bottom=True, print_values=False, show_legend=True, margin=16)
    if name == "months":
        chart = pygal.StackedBar(title=f"{report.label} 月別件数（種類別）", x_label_rotation=0,
                                 truncate_label=-1, **options)
        chart.x_labels = [f"{m.month}月" for m in report.months]
        for kind in VOICE_KINDS:
            chart.add(KIND_LABELS[kind], [m.by_kind[kind] if m.reached else None for m in report.months])
    elif name == "topics":
        # pygal sizes the label margin for Latin letters; Japanese labels need more room.
        chart = pygal.HorizontalBar(title=f"{report.label} 分類別件数", truncate_label=-1,
                                    **{**options, "margin_left": 90})
        chart.x_labels = [row.label for row in report.topics]
        chart.add("当年度", [row.count for row in report.topics])
        chart.add("前年度", [row.prev for row in report.topics])
    elif name == "channels":
        chart = pygal.Bar(title=f"{report.label} 受付経路別件数", truncate_label=-1, **options)
        chart.x_labels = [row.label for row in report.channels]
        chart.add("当年度", [row.count for row in report.channels])
        chart.add("前年度", [row.prev for row in report.channels])
    else:
        raise VoiceError("unknown chart")
    svg = chart.render(is_unicode=True)
    # Scripts never run in an <img>, but the document should not carry any either.
    return _SCRIPT_RE.sub("", svg)


def _fmt_change(value: float | None) -> Any:
    return "" if value is None else value


def report_rows(report: VoiceReport) -> Iterator[list[Any]]:
    yield ["年度", report.label, f"{report.start.isoformat()}〜{report.end.isoformat()}", "", ""]
    yield ["区分", "項目", "当年度", report.prev_label, f"{report.prev_label}比増減(%)"]
    yield ["合計", "合計", report.total, report.prev_total, _fmt_change(report.change)]
    for dim, label_rows in (("種類", report.kinds), ("分類", report.topics), ("受付経路", report.channels)):
        for row in label_rows:
            yield [dim, row.label, row.count, row.prev, _fmt_change(row.change)]
    for month in report.months:
        yield ["月別", month.label, month.total if month.reached else "", month.prev, _fmt_change(month.change)]


VOICE_CSV_HEADER = ["受付番号", "受付日時", "種類", "分類", "受付経路", "状況", "回答希望", "回答期限",
                    "初回回答日時", "担当者", "改善課題", "内容"]


def start_export(session: Session, fy: int) -> Iterator[list[Any]]:
    """Audit the export now (before the commit), and hand back the rows to stream after it."""
    audit.record("voice.exported", target_type="voice", detail={"fiscal_year": fy}, session=session)
    return export_rows(session, fy)


def export_rows(session: Session, fy: int) -> Iterator[list[Any]]:
    """Every voice of business year `fy`, for the CSV export (streamed in batches)."""
    start, end = fiscal_year_range(fy)
    yield VOICE_CSV_HEADER
    query = (
        select(Voice.receipt_no, Voice.received_at, Voice.kind, Voice.topic, Voice.channel, Voice.status,
               Voice.wants_reply, Voice.response_due_on, Voice.first_response_at, StaffUser.name,
               ImprovementItem.title, Voice.body)
        .outerjoin(StaffUser, StaffUser.id == Voice.assignee_staff_id)
        .outerjoin(ImprovementItem, ImprovementItem.id == Voice.improvement_item_id)
        .where(Voice.received_on >= start, Voice.received_on <= end)
        .order_by(Voice.received_at, Voice.id)
        .execution_options(yield_per=2000)
    )
    for (receipt_no, received_at, kind, topic, channel, status, wants_reply, due_on, first_at,
         assignee, item_title, body) in session.execute(query):
        yield [receipt_no, f"{to_tokyo(received_at):%Y-%m-%d %H:%M}", KIND_LABELS[kind], TOPIC_LABELS[topic],
               CHANNEL_LABELS[channel], STATUS_LABELS[status], "希望" if wants_reply else "",
               due_on.isoformat() if due_on else "", f"{to_tokyo(first_at):%Y-%m-%d %H:%M}" if first_at else "",
               assignee or "", item_title or "", body]
