"""The team-lead SLA dashboard: the page, its live fragment (polled by htmx) and the CSV
export of every table.

Figures come from tickets.reports (read-only, computed in PostgreSQL). Each table is declared
once below (`TABLES`): the page and its CSV export render the same rows, so they cannot
disagree. Team leads and superusers only: other desk staff get 403, everyone else 404.
"""

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from servicedesk import roles
from servicedesk.web import role_required
from tickets import charts, reports
from tickets.choices import SlaKind
from tickets.forms_dashboard import DashboardFilterForm
from tickets.reports import DashboardFilters
from tickets.reports import incidents as incident_reports

LIVE_POLL_SECONDS = 15  # at-risk clocks, live breaches and backlog refresh this often
CSV_DELIMITER = ";"  # German Excel splits on semicolons (the comma is its decimal mark)
CSV_DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# --------------------------------------------------------------------------- cell formats


def format_seconds(seconds: float | None) -> str:
    """A duration for people: "45 s", "4 min 05 s", "3 h 07 min", "2 d 4 h"."""
    if seconds is None:
        return "–"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def format_rate(rate: float | None) -> str:
    if rate is None:
        return "–"
    return f"{formats.number_format(rate * 100, decimal_pos=1, use_l10n=True)} %"


def csv_decimal(value: float, places: int) -> str:
    """A number with a decimal comma and no grouping ("1234,5"), as German Excel reads it."""
    return f"{round(value, places)}".replace(".", ",")


def neutralise_csv_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a
    leading single quote; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(CSV_DANGEROUS_PREFIXES):
        return "'" + value
    return value


@dataclass(frozen=True)
class Column:
    """One column: its header, how to read the value from a row, and its format (text, int,
    seconds, rate, decimal, datetime, date, ticket, article, articles). `where` limits it to
    the page or CSV."""

    header: Any
    value: Callable[[dict[str, Any]], Any]
    format: str = "text"
    where: str = "both"

    def page_cell(self, row: dict[str, Any]) -> dict[str, Any]:
        value = self.value(row)
        cell: dict[str, Any] = {"text": value, "numeric": self.format != "text"}
        if self.format == "seconds":
            cell["text"] = format_seconds(value)
        elif self.format == "rate":
            cell["text"] = format_rate(value)
            cell["level"] = _rate_level(value)
        elif self.format == "decimal":
            cell["text"] = _round(value)
        elif self.format == "int":
            cell["text"] = formats.number_format(value or 0, use_l10n=True, force_grouping=True)
        elif self.format == "datetime":
            cell["text"] = timezone.localtime(value).strftime("%d.%m.%Y %H:%M") if value else "–"
            cell["numeric"] = False
            cell["nowrap"] = True
        elif self.format == "date":
            cell["text"] = value.strftime("%d.%m.%Y") if value else "–"
        elif self.format == "ticket":
            cell["text"] = f"#{value}"
            cell["href"] = reverse("tickets:ticket_detail", args=[value])
            cell["numeric"] = False
        elif self.format == "articles":  # value: [(article id, title), …]
            cell["links"] = [
                {"text": title, "href": reverse("tickets:knowledge_article", args=[pk])}
                for pk, title in value
            ]
            cell["text"] = "" if value else "–"
            cell["numeric"] = False
        elif self.format == "topic":  # value: (topic id, name): its tickets (issue 17)
            cell["text"] = value[1]
            cell["href"] = reverse("tickets:topic_tickets", args=[value[0]])
            cell["numeric"] = False
        elif self.format == "article":  # value: (article id, title)
            cell["text"] = value[1]
            cell["href"] = reverse("tickets:knowledge_article", args=[value[0]])
            cell["numeric"] = False
        return cell

    def csv_header(self) -> str:
        """The CSV header; a duration says its unit (minutes), as its cells carry minutes."""
        header = str(self.header)
        if self.format == "seconds":
            header = _("%(column)s (minutes)") % {"column": header}
        return neutralise_csv_cell(header)

    def csv_cell(self, row: dict[str, Any]) -> Any:
        """A cell as German Excel reads it: decimal comma, durations in minutes, dates as
        DD.MM.YYYY; our own numbers are never neutralised (a leading minus stays a number)."""
        value = self.value(row)
        if value is None:
            return ""
        if self.format == "seconds":
            return csv_decimal(value / 60, 1)
        if self.format == "rate":
            return csv_decimal(value * 100, 2)
        if self.format == "decimal":
            return csv_decimal(float(value), 2)
        if self.format == "datetime":
            return timezone.localtime(value).strftime("%d.%m.%Y %H:%M")
        if self.format == "date":
            return value.strftime("%d.%m.%Y")
        if self.format == "article":
            return neutralise_csv_cell(value[1])
        if self.format == "articles":
            return neutralise_csv_cell("; ".join(title for _pk, title in value))
        if isinstance(value, float | Decimal):
            return csv_decimal(float(value), 2)
        return neutralise_csv_cell(str(value)) if isinstance(value, str) else value


def _rate_level(rate: float | None) -> str:
    """Traffic light of a compliance rate, shown with a word as well as a colour."""
    if rate is None:
        return "none"
    if rate >= 0.95:
        return "ok"
    if rate >= 0.85:
        return "warn"
    return "bad"


@dataclass(frozen=True)
class Table:
    """A table of the dashboard: title, the report it reads and how to get its rows."""

    title: Any
    report: Callable[..., Any]
    rows: Callable[[Any], Iterable[dict[str, Any]]]
    columns: list[Column] = field(default_factory=list)
    note: Any = ""

    def page_columns(self) -> list[Column]:
        return [column for column in self.columns if column.where in ("both", "page")]

    def csv_columns(self) -> list[Column]:
        return [column for column in self.columns if column.where in ("both", "csv")]


def _period(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row[name].rate


PERIOD_LABELS = {
    "today": _("Today"),
    "days_7": _("7 days"),
    "days_30": _("30 days"),
    "range": _("Range"),
}


def _compliance_columns() -> list[Column]:
    columns = [Column(_("Clock"), lambda row: str(row["label"]))]
    for period, label in PERIOD_LABELS.items():
        columns.append(Column(label, _period(period), "rate"))
        columns.append(
            Column(
                format_lazy("{} ({})", _("met"), label),
                lambda row, period=period: row[period].met,
                "int",
                "csv",
            )  # fmt: skip
        )
        columns.append(
            Column(
                format_lazy("{} ({})", _("breached"), label),
                lambda row, period=period: row[period].breached,
                "int",
                "csv",
            )  # fmt: skip
        )
    columns += [
        Column(_("Met"), lambda row: row["range"].met, "int", "page"),
        Column(_("Breached"), lambda row: row["range"].breached, "int", "page"),
    ]
    return columns


def _clock_columns() -> list[Column]:
    return [
        Column(_("Ticket"), lambda row: row["ticket_id"], "ticket"),
        Column(_("Clock"), lambda row: str(row["kind_label"])),
        Column(_("State"), lambda row: str(row["state_label"]), where="csv"),
        Column(_("Channel"), lambda row: row["channel_name"]),
        Column(_("Assignee"), lambda row: row["assignee_name"] or ""),
        Column(_("Due at"), lambda row: row["due_at"], "datetime"),
    ]


TABLES: dict[str, Table] = {
    "compliance": Table(
        _("SLA compliance"),
        reports.compliance,
        lambda data: data["by_kind"],
        _compliance_columns(),
        _("Met ÷ (met + breached) of the clocks started in each period."),
    ),
    "trend": Table(
        _("Daily compliance"),
        reports.compliance,
        lambda data: data["trend"],
        [
            Column(_("Day"), lambda row: row["day"], "date"),
            Column(_("Compliance"), lambda row: row["rate"], "rate"),
            Column(_("Met"), lambda row: row["met"], "int"),
            Column(_("Breached"), lambda row: row["breached"], "int"),
        ],
    ),
    "response_times": Table(
        _("Response times"),
        reports.response_times,
        lambda rows: rows,
        [
            Column(_("Clock"), lambda row: str(row["label"])),
            Column(_("Stopped clocks"), lambda row: row["stopped"], "int"),
            Column(_("Median"), lambda row: row["median_seconds"], "seconds"),
            Column(_("90th percentile"), lambda row: row["p90_seconds"], "seconds"),
            Column(
                _("Median (customer view)"), lambda row: row["perceived_median_seconds"], "seconds"
            ),
            Column(
                _("90th percentile (customer view)"),
                lambda row: row["perceived_p90_seconds"],
                "seconds",
            ),
        ],
        _("From receipt at the desk; the customer view counts from the post's own time."),
    ),
    "backlog": Table(
        _("Open backlog"),
        reports.backlog,
        lambda data: [
            {"stage": stage["label"], **state}
            for stage in data["stages"]
            for state in stage["states"]
        ],
        [
            Column(_("Stage"), lambda row: str(row["stage"])),
            Column(_("State"), lambda row: str(row["label"])),
            Column(_("Open tickets"), lambda row: row["tickets"], "int"),
        ],
    ),
    "at_risk": Table(
        _("At risk"), reports.at_risk_clocks, lambda data: data["rows"], _clock_columns()
    ),
    "breaches": Table(
        _("Live breaches"), reports.live_breaches, lambda data: data["rows"], _clock_columns()
    ),
    "agents": Table(
        _("Workload and response times per person"),
        reports.agent_figures,
        lambda rows: rows,
        [
            Column(_("Person"), lambda row: row["name"]),
            Column(_("Open tickets"), lambda row: row["open_tickets"], "int"),
            Column(_("Replies sent"), lambda row: row["replies_sent"], "int"),
            Column(_("First responses"), lambda row: row["first_responses"], "int"),
            Column(
                _("Median first response"),
                lambda row: row["median_first_response_seconds"],
                "seconds",
            ),
        ],
    ),
    "departments": Table(
        _("Answer times per department"),
        reports.department_times,
        lambda rows: rows,
        [
            Column(_("Department"), lambda row: row["name"]),
            Column(_("Requests"), lambda row: row["requests"], "int"),
            Column(_("Answered"), lambda row: row["answered"], "int"),
            Column(_("Open"), lambda row: row["open"], "int"),
            Column(_("Median"), lambda row: row["median_seconds"], "seconds"),
            Column(_("90th percentile"), lambda row: row["p90_seconds"], "seconds"),
            Column(_("Within deadline"), lambda row: row["kept_share"], "rate"),
        ],
        _("Within deadline: answered by the due time ÷ (answered + open past due)."),
    ),
    "follow_ups": Table(
        _("Overdue follow-ups"),
        reports.overdue_follow_ups,
        lambda data: data["rows"],
        [
            Column(_("Ticket"), lambda row: row["id"], "ticket"),
            Column(_("State"), lambda row: str(row["state_label"])),
            Column(_("Channel"), lambda row: row["channel_name"]),
            Column(_("Assignee"), lambda row: row["assignee_name"] or ""),
            Column(_("Follow-up due since"), lambda row: row["follow_up_due_at"], "datetime"),
            Column(_("Hand-over reference"), lambda row: row["handover_reference"]),
        ],
        _("Still flagged 24 hours after the follow-up fell due."),
    ),
    "process": Table(
        _("Process duration and depth"),
        reports.process_depth,
        lambda row: [row],
        [
            Column(_("Resolved tickets"), lambda row: row["tickets"], "int"),
            Column(_("Median duration"), lambda row: row["median_duration_seconds"], "seconds"),
            Column(_("90th percentile"), lambda row: row["p90_duration_seconds"], "seconds"),
            Column(_("Median transitions"), lambda row: row["median_transitions"], "int"),
            Column(_("90th percentile transitions"), lambda row: row["p90_transitions"], "int"),
            Column(_("Hand-overs"), lambda row: row["handovers"], "int"),
            Column(_("Mean hand-overs"), lambda row: row["mean_handovers"], "decimal"),
        ],
        _("First mention to resolution; a hand-over is a transition between two stages."),
    ),
    "volume": Table(
        _("Mentions per channel"),
        reports.channel_volume,
        lambda data: [
            {"channel_name": item["channel"], "day": day, "mentions": value}
            for item in data["series"]
            for day, value in zip(data["days"], item["per_day"], strict=True)
        ],
        [
            Column(_("Channel"), lambda row: row["channel_name"]),
            Column(_("Day"), lambda row: row["day"], "date"),
            Column(_("Mentions"), lambda row: row["mentions"], "int"),
        ],
    ),
    "topics": Table(
        _("Topics of unsolvable cases"),
        reports.unsolvable_topics,
        lambda rows: rows,
        [
            Column(_("Topic"), lambda row: (row["topic_id"], row["name"]), "topic", "page"),
            Column(_("Topic"), lambda row: row["name"], where="csv"),
            Column(_("Tickets"), lambda row: row["tickets"], "int"),
            Column(_("Opened in range"), lambda row: row["tickets_in_range"], "int"),
            Column(_("Articles"), lambda row: row["articles"], "articles"),
        ],
    ),
    "articles": Table(
        _("Most used articles"),
        reports.most_used_articles,
        lambda rows: rows,
        [
            Column(_("Article"), lambda row: (row["article_id"], row["title"]), "article"),
            Column(_("Language"), lambda row: row["language"].upper()),
            Column(_("Sent replies"), lambda row: row["sent_replies"], "int"),
            Column(_("Resolved cases"), lambda row: row["resolved_cases"], "int"),
        ],
        _("Replies sent in the range with a link or passage of the article; all channels."),
    ),
    "search_gaps": Table(
        _("Searches that found nothing"),
        reports.search_gaps,
        lambda rows: rows,
        [
            Column(_("Search"), lambda row: row["normalised_query"]),
            Column(_("Searches"), lambda row: row["searches"], "int"),
            Column(_("People"), lambda row: row["people"], "int"),
            Column(_("Last searched"), lambda row: row["last_searched_at"], "datetime"),
        ],
        _("Gaps in the information centre: write the article that was looked for."),
    ),
}
# Lists shown shortened on the page (the first rows and the exact total), complete in CSV.
LISTS = ("at_risk", "breaches", "follow_ups", "articles", "search_gaps")


def _round(value: float | None) -> str:
    return "–" if value is None else formats.number_format(value, decimal_pos=2, use_l10n=True)


def render_table(name: str, data: Any) -> dict[str, Any]:
    table = TABLES[name]
    columns = table.page_columns()
    return {
        "name": name,
        "title": table.title,
        "note": table.note,
        "headers": [column.header for column in columns],
        "rows": [[column.page_cell(row) for column in columns] for row in table.rows(data)],
    }


# --------------------------------------------------------------------------- views


def _filter_form(request: HttpRequest, now: datetime) -> DashboardFilterForm:
    """The bound form, or an unbound one showing the default range."""
    if request.GET:
        form = DashboardFilterForm(request.GET, now=now)
        form.is_valid()
        return form
    default = reports.default_filters(now)
    return DashboardFilterForm(now=now, initial={"from": default.date_from, "to": default.date_to})


def _filters_or_default(form: DashboardFilterForm, now: datetime) -> DashboardFilters:
    if form.is_bound and form.is_valid():
        return form.filters()
    return reports.default_filters(now)


def _filter_status(form: DashboardFilterForm) -> int:
    """400 when the filters are invalid: the page then shows the default range and the
    form's errors."""
    return 400 if form.is_bound and form.errors else 200


def _filter_errors(form: DashboardFilterForm) -> HttpResponse:
    """400 naming the invalid filters (the live fragment and the CSV have no form to show)."""
    messages = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
    return HttpResponse(messages, status=400, content_type="text/plain; charset=utf-8")


def live_context(filters: DashboardFilters, *, now: datetime) -> dict[str, Any]:
    """Backlog, at-risk clocks and live breaches (three queries)."""
    backlog = reports.backlog(filters, now=now)
    at_risk = reports.at_risk_clocks(filters, now=now)
    breaches = reports.live_breaches(filters, now=now)
    return {
        "backlog": backlog,
        "backlog_table": render_table("backlog", backlog),
        "backlog_chart": charts.horizontal_bars(
            [(str(stage["label"]), stage["tickets"]) for stage in backlog["stages"]],
            title=str(_("Open tickets by stage")),
        ),
        "at_risk": at_risk,
        "at_risk_table": render_table("at_risk", at_risk),
        "breaches": breaches,
        "breaches_table": render_table("breaches", breaches),
        "updated_at": now,
        "poll_seconds": LIVE_POLL_SECONDS,
    }


def dashboard_context(filters: DashboardFilters, *, now: datetime) -> dict[str, Any]:
    """Every figure of the page (a constant number of queries)."""
    compliance = reports.compliance(filters, now=now)
    volume = reports.channel_volume(filters, now=now)
    figures = {
        "compliance": compliance,
        "response_times": reports.response_times(filters, now=now),
        "agents": reports.agent_figures(filters, now=now),
        "departments": reports.department_times(filters, now=now),
        "follow_ups": reports.overdue_follow_ups(filters, now=now),
        "process": reports.process_depth(filters, now=now),
        "volume": volume,
        "topics": reports.unsolvable_topics(filters, now=now),
        "articles": reports.most_used_articles(filters, now=now),
        "search_gaps": reports.search_gaps(filters, now=now),
    }
    range_kpis = [
        {
            "kind": row["kind"],
            "label": row["label"],
            "rate": format_rate(row["range"].rate),
            "level": _rate_level(row["range"].rate),
            "met": row["range"].met,
            "breached": row["range"].breached,
            "today": format_rate(row["today"].rate),
        }
        for row in compliance["by_kind"]
    ]
    tables = {
        name: render_table(name, figures["compliance"] if name == "trend" else figures[name])
        for name in (
            "compliance",
            "response_times",
            "agents",
            "departments",
            "follow_ups",
            "process",
            "topics",
            "articles",
            "search_gaps",
            "trend",
            "volume",
        )
    }
    return {
        "figures": figures,
        "kpis": range_kpis,
        "tables": tables,
        "trend_chart": charts.line_chart_percent(
            [row["day"] for row in compliance["trend"]],
            [row["rate"] for row in compliance["trend"]],
            title=str(_("Daily SLA compliance, all clocks")),
        ),
        "volume_chart": charts.stacked_columns(
            volume["days"],
            [charts.Series(item["channel"], item["per_day"]) for item in volume["series"]],
            title=str(_("Mentions per day and channel")),
        ),
        "incidents": incident_reports.incidents_in_range(filters.start_at, filters.end_at),
        **live_context(filters, now=now),
    }


def _query_string(request: HttpRequest) -> str:
    return request.GET.urlencode()


@role_required(roles.is_team_lead)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The whole dashboard for the filters in the query string (default: last 30 days)."""
    now = timezone.now()
    form = _filter_form(request, now)
    filters = _filters_or_default(form, now)
    with reports.report_session():
        context = dashboard_context(filters, now=now)
    context.update(
        form=form,
        filters=filters,
        query=_query_string(request),
        export_names=[(name, TABLES[name].title) for name in TABLES],
        now=now,
        first_response=SlaKind.FIRST_RESPONSE,
    )
    return render(request, "tickets/dashboard.html", context, status=_filter_status(form))


@role_required(roles.is_team_lead)
@require_GET
def dashboard_live(request: HttpRequest) -> HttpResponse:
    """The live fragment (backlog, at-risk clocks, live breaches), polled by htmx."""
    now = timezone.now()
    form = _filter_form(request, now)
    if form.is_bound and not form.is_valid():
        return _filter_errors(form)
    filters = _filters_or_default(form, now)
    with reports.report_session():
        context = live_context(filters, now=now)
    context["query"] = _query_string(request)
    return render(request, "tickets/partials/dashboard_live.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


@role_required(roles.is_team_lead)
@require_GET
def dashboard_export(request: HttpRequest, table: str) -> HttpResponse:
    """One table as CSV for German Excel (UTF-8 with BOM, semicolons, decimal comma,
    durations in minutes), for the same filters; unknown tables 404, invalid filters 400."""
    if table not in TABLES:
        raise Http404
    now = timezone.now()
    form = DashboardFilterForm(request.GET or None, now=now)
    if form.is_bound and not form.is_valid():
        return _filter_errors(form)
    filters = form.filters() if form.is_bound else reports.default_filters(now)
    spec = TABLES[table]
    arguments = {"limit": reports.EXPORT_LIST_LIMIT} if table in LISTS else {}
    with reports.report_session():
        data = spec.report(filters, now=now, **arguments)
        rows = list(spec.rows(data))
    columns = spec.csv_columns()
    writer = csv.writer(_Echo(), delimiter=CSV_DELIMITER)
    lines = [
        "\ufeff" + writer.writerow([column.csv_header() for column in columns]),
        *(writer.writerow([column.csv_cell(row) for column in columns]) for row in rows),
    ]
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    filename = f"sla-{table}-{filters.date_from:%Y%m%d}-{filters.date_to:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
