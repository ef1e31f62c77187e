"""The team-lead dashboard page, its live fragment and its CSV export, on the hand-computed
desk month of tickets/tests/dashboard_data.py."""

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tickets import charts
from tickets.choices import SlaKind
from tickets.tests.dashboard_data import (
    EXPECTED_AGENTS,
    EXPECTED_BACKLOG,
    EXPECTED_COMPLIANCE,
    EXPECTED_FIRST_RESPONSE_TIMES,
    NOW,
    DeskMonth,
    at,
)
from tickets.tests.factories import (
    ChannelFactory,
    ReplyFactory,
    SlaClockFactory,
    TicketFactory,
    UserFactory,
)
from tickets.views.dashboard import neutralise_csv_cell

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("tickets:dashboard")


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def lead_client(client: Any, team_lead: Any) -> Any:
    client.force_login(team_lead)
    return client


def _csv(response: Any) -> list[dict[str, str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())  # the BOM: Excel reads the file as UTF-8
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def test_team_lead_sees_hand_computed_compliance_on_the_page(
    lead_client: Any, month: DeskMonth
) -> None:
    response = lead_client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    compliance = {row["kind"]: row for row in response.context["figures"]["compliance"]["by_kind"]}
    for period, (met, breached, rate) in EXPECTED_COMPLIANCE[SlaKind.FIRST_RESPONSE].items():
        outcome = compliance[SlaKind.FIRST_RESPONSE][period]
        assert (outcome.met, outcome.breached, outcome.rate) == (met, breached, rate)
    kpi = next(kpi for kpi in response.context["kpis"] if kpi["kind"] == SlaKind.FIRST_RESPONSE)
    assert (kpi["met"], kpi["breached"], kpi["level"]) == (3, 2, "bad")
    assert "60.0 %" in response.content.decode()


def test_page_shows_percentiles_agents_backlog_and_live_lists(
    lead_client: Any, month: DeskMonth
) -> None:
    response = lead_client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en")

    context = response.context
    first = next(
        row for row in context["figures"]["response_times"] if row["kind"] == SlaKind.FIRST_RESPONSE
    )
    assert first["median_seconds"] == EXPECTED_FIRST_RESPONSE_TIMES["median_seconds"]
    assert [row["username"] for row in context["figures"]["agents"]] == [
        name for name, *_rest in EXPECTED_AGENTS
    ]
    assert context["backlog"]["total"] == EXPECTED_BACKLOG["total"]
    assert context["at_risk"]["total"] == 1
    assert context["breaches"]["total"] == 2
    body = response.content.decode()
    assert reverse("tickets:ticket_detail", args=[month.tickets["T9"].pk]) in body
    assert reverse("tickets:ticket_detail", args=[month.tickets["T10"].pk]) in body
    assert "5 min 00 s" in body  # the first-response median, 300 s


def test_page_draws_accessible_svg_charts(lead_client: Any, month: DeskMonth) -> None:
    body = lead_client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert body.count('role="img"') == 3
    assert "<title" in body and "<desc" in body
    assert "Daily SLA compliance, all clocks" in body
    assert "Alpha (8)" in body  # legend with the channel's total


def test_live_part_polls_itself_with_htmx(lead_client: Any, month: DeskMonth) -> None:
    page = lead_client.get(DASHBOARD + "?channel=beta").content.decode()
    live = lead_client.get(reverse("tickets:dashboard_live") + "?channel=beta")

    assert 'hx-trigger="every 15s"' in page
    assert reverse("tickets:dashboard_live") + "?channel=beta" in page
    assert live.status_code == 200
    assert live.context["backlog"]["total"] == 2
    assert live.context["breaches"]["total"] == 1


def test_invalid_filters_show_errors_and_fall_back_to_the_default_range(
    lead_client: Any, month: DeskMonth
) -> None:
    response = lead_client.get(DASHBOARD + "?from=2025-03-10&to=2025-03-01&stage=nonsense")

    assert response.status_code == 400  # the page, with the form's errors (issue 18)
    assert set(response.context["form"].errors) == {"to", "stage"}
    assert response.context["filters"].date_from == at(2, 11, 0).date()


def test_chosen_range_and_channel_filter_the_figures(lead_client: Any, month: DeskMonth) -> None:
    response = lead_client.get(DASHBOARD + "?from=2025-03-12&to=2025-03-12&channel=beta")

    first = next(
        row
        for row in response.context["figures"]["compliance"]["by_kind"]
        if row["kind"] == SlaKind.FIRST_RESPONSE
    )
    assert (first["range"].met, first["range"].breached) == (0, 1)


@pytest.mark.parametrize("persona", ["cm", "agent"])
def test_other_desk_staff_get_403(
    client: Any, month: DeskMonth, persona: str, request: Any
) -> None:
    client.force_login(request.getfixturevalue(persona))

    assert client.get(DASHBOARD).status_code == 403
    assert client.get(reverse("tickets:dashboard_live")).status_code == 403
    assert client.get(reverse("tickets:dashboard_export", args=["compliance"])).status_code == 403


@pytest.mark.parametrize("persona", ["expert", "api_client_user"])
def test_experts_and_api_clients_get_404(client: Any, persona: str, request: Any) -> None:
    client.force_login(request.getfixturevalue(persona))

    assert client.get(DASHBOARD).status_code == 404
    assert client.get(reverse("tickets:dashboard_export", args=["agents"])).status_code == 404


def test_anonymous_visitors_are_sent_to_the_login(client: Any) -> None:
    response = client.get(DASHBOARD)

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_superuser_sees_the_dashboard(client: Any, month: DeskMonth) -> None:
    client.force_login(UserFactory(username="admin", is_superuser=True, is_staff=True))

    assert client.get(DASHBOARD).status_code == 200


def test_compliance_csv_carries_the_same_figures(lead_client: Any, month: DeskMonth) -> None:
    response = lead_client.get(
        reverse("tickets:dashboard_export", args=["compliance"]), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="sla-compliance-20250211-20250312.csv"' in response["Content-Disposition"]
    rows = {row["Clock"]: row for row in _csv(response)}
    first = rows["First response"]
    assert (first["Range"], first["met (Range)"], first["breached (Range)"]) == ("60,0", "3", "2")
    assert (first["Today"], first["7 days"]) == ("50,0", "50,0")
    assert rows["Department feedback"]["30 days"] == "33,33"
    assert rows["Engagement (no service case)"]["Today"] == ""


def test_agents_and_departments_csv_match_the_page(lead_client: Any, month: DeskMonth) -> None:
    agents = _csv(
        lead_client.get(
            reverse("tickets:dashboard_export", args=["agents"]), HTTP_ACCEPT_LANGUAGE="en"
        )
    )
    departments = _csv(
        lead_client.get(
            reverse("tickets:dashboard_export", args=["departments"]), HTTP_ACCEPT_LANGUAGE="en"
        )
    )

    assert [
        (row["Open tickets"], row["Replies sent"], row["Median first response (minutes)"])
        for row in agents
    ] == [("2", "3", "12,0"), ("1", "1", "2,0"), ("0", "1", "6,0")]
    technik = next(row for row in departments if row["Department"] == "Technik")
    assert (
        technik["Median (minutes)"],
        technik["90th percentile (minutes)"],
        technik["Within deadline"],
    ) == (
        "2880,0",
        "4032,0",
        "50,0",
    )


def test_process_csv_has_duration_depth_and_hand_overs(lead_client: Any, month: DeskMonth) -> None:
    rows = _csv(
        lead_client.get(
            reverse("tickets:dashboard_export", args=["process"]), HTTP_ACCEPT_LANGUAGE="en"
        )
    )

    assert rows == [
        {
            "Resolved tickets": "3",
            "Median duration (minutes)": "120,0",
            "90th percentile (minutes)": "7032,0",
            "Median transitions": "3,0",
            "90th percentile transitions": "4,6",
            "Hand-overs": "4",
            "Mean hand-overs": "1,33",
        }
    ]


def test_csv_neutralises_cells_that_spreadsheets_would_run(
    lead_client: Any, month: DeskMonth
) -> None:
    # given a channel and a person whose names start like formulas
    evil = ChannelFactory(slug="evil", name='=HYPERLINK("http://x")')
    person = UserFactory(username="@sum", first_name="-2+3", groups=["support_agent"])
    ticket = TicketFactory(channel=evil, opened_at=at(3, 12, 9))
    reply = ReplyFactory(ticket=ticket, author=person, created_at=at(3, 12, 9, 5))
    type(reply).objects.filter(pk=reply.pk).update(status="sent", sent_at=at(3, 12, 9, 5))

    volume = _csv(
        lead_client.get(
            reverse("tickets:dashboard_export", args=["volume"]), HTTP_ACCEPT_LANGUAGE="en"
        )
    )
    agents = _csv(
        lead_client.get(
            reverse("tickets:dashboard_export", args=["agents"]), HTTP_ACCEPT_LANGUAGE="en"
        )
    )

    assert '\'=HYPERLINK("http://x")' in {row["Channel"] for row in volume}
    assert "'-2+3" in {row["Person"] for row in agents}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+49", "'+49"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Alpha", "Alpha"),
        (-3, -3),
    ],
)
def test_neutralise_csv_cell(value: Any, expected: Any) -> None:
    assert neutralise_csv_cell(value) == expected


def test_export_of_an_unknown_table_is_404(lead_client: Any) -> None:
    assert lead_client.get(reverse("tickets:dashboard_export", args=["secrets"])).status_code == 404


def test_export_with_invalid_filters_is_400(lead_client: Any) -> None:
    response = lead_client.get(
        reverse("tickets:dashboard_export", args=["compliance"]) + "?from=yesterday"
    )

    assert response.status_code == 400


def test_page_runs_a_constant_number_of_queries(
    lead_client: Any, month: DeskMonth, agent: Any
) -> None:
    lead_client.get(DASHBOARD)  # the per-process lookups (the user's groups) read once
    with CaptureQueriesContext(connection) as small:
        lead_client.get(DASHBOARD)
    # given many more tickets, clocks and replies
    for minute in range(20):
        ticket = TicketFactory(opened_at=at(3, 11, 9, minute))
        SlaClockFactory(ticket=ticket, started_at=at(3, 11, 9, minute), due_at=at(3, 11, 10))
        reply = ReplyFactory(ticket=ticket, author=agent, created_at=at(3, 11, 9, minute))
        type(reply).objects.filter(pk=reply.pk).update(status="sent", sent_at=at(3, 11, 9, 30))

    with CaptureQueriesContext(connection) as large:
        lead_client.get(DASHBOARD)

    assert len(large) == len(small)
    # 22 before the information centre's tables on the dashboard, 24 with the header's
    # presence switch (issue 16: the caller's own status, one query), 25 with the incidents
    # of the range (issue 14, one query)
    assert len(small) <= 25


def test_chart_labels_are_escaped() -> None:
    day = at(3, 12, 0).date()

    svg = charts.stacked_columns(
        [day], [charts.Series("<script>alert(1)</script>", [3])], title="<b>Volumen</b>"
    )

    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt; (3)" in svg
    assert "&lt;b&gt;Volumen&lt;/b&gt;" in svg


def test_csv_opens_in_german_excel(lead_client: Any, month: DeskMonth) -> None:
    # when the German desk exports the agents table
    response = lead_client.get(
        reverse("tickets:dashboard_export", args=["agents"]), HTTP_ACCEPT_LANGUAGE="de"
    )
    raw = b"".join(response.streaming_content)

    # then the file has a BOM, semicolons, decimal commas and durations in minutes
    header, first = raw.decode("utf-8").splitlines()[:2]
    assert header.startswith("\ufeff")
    assert "Median erste Antwort (Minuten)" in header.removeprefix("\ufeff").split(";")
    assert "," not in header
    assert first.split(";")[-len(header.split(";")) :].count("12,0") == 1
    assert "720" not in first
