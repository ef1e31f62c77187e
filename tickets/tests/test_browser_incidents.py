"""Issue 14 in Debian's Chromium: a burst arrives, the real worker's detector opens the
incident and alerts; the team lead opens it from the alert, a CM writes the statement, the
CM's own approval is not offered, a colleague approves, the worker delivers it, and every
member ticket shows its sent reply."""

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from monitoring.adapters.base import RawAuthor, RawMention
from monitoring.choices import Platform
from tickets.choices import ReplyStatus
from tickets.intake import receive_mentions
from tickets.models import Incident, Reply
from tickets.tests.factories import ChannelFactory
from triage.tests.burst_corpus import TELVIA_KOELN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 60.0


def wait_until(condition: Callable[[], Any], *, what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_team_lead_opens_the_incident_from_the_alert_and_the_statement_reaches_everyone(
    live_server: Any,
    sign_in: Any,
    screenshot: Any,
    celery_worker: Any,
    cm: Any,
    agent: Any,
    team_lead: Any,
) -> None:
    channel = ChannelFactory(
        slug="demo", name="Live-Demo", platform=Platform.DEMO, keywords=["Telvia"],
        own_accounts=["@Telvia_hilft"],
    )  # fmt: skip
    now = timezone.now()
    for index, text in enumerate(TELVIA_KOELN[:6]):
        mention = RawMention(
            external_id=f"browser-{index}",
            author=RawAuthor(handle=f"@kunde{index}", display_name=f"Kim{index} Muster"),
            text=text,
            created_at=now - timedelta(seconds=60 - 10 * index),
        )
        receive_mentions(channel, [mention], now=now)
    incident = wait_until(lambda: Incident.objects.filter(detected=True).first(), what="incident")
    wait_until(lambda: incident.members.count() == 6, what="members")

    # the team lead finds the alert and opens the incident from it
    lead_page = sign_in(team_lead)
    lead_page.goto(f"{live_server.url}/notifications/")
    alert = lead_page.locator(".notification", has_text=incident.title)
    alert.locator("input[name=open]").locator("xpath=..").locator("button").click()
    lead_page.wait_for_url(f"**/incidents/{incident.pk}/")
    expect(lead_page.locator("#incident-banner")).to_be_visible()
    expect(lead_page.locator("tr[id^=member-]")).to_have_count(6)
    screenshot(lead_page, "incident_01_opened_from_alert")

    # a CM writes the holding statement; her own approval is not offered
    cm_page = sign_in(cm)
    cm_page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    cm_page.fill("textarea[name=text]", "Hallo {name}, wir kennen die Störung in Köln. {agent}")
    cm_page.click("form[action$='/statements/'] button[type=submit]")
    cm_page.wait_for_load_state()
    statement = incident.statements.get()
    expect(cm_page.locator(f"#statement-{statement.pk} form")).to_have_count(0)
    screenshot(cm_page, "incident_02_statement_waiting")

    # a colleague approves; the worker sends one reply per member
    agent_page = sign_in(agent)
    agent_page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    agent_page.click(f"#statement-{statement.pk} form button")
    agent_page.wait_for_load_state()
    sent = Reply.objects.filter(status=ReplyStatus.SENT)
    wait_until(lambda: sent.count() == 6, what="six sent replies")
    agent_page.reload()
    expect(agent_page.locator(f"#statement-{statement.pk} .statement-delivery")).to_contain_text(
        "6"
    )
    screenshot(agent_page, "incident_03_delivered")

    # every member ticket shows its sent reply, addressed to its author
    for member in incident.members.select_related("mention"):
        agent_page.goto(f"{live_server.url}/tickets/{member.ticket_id}/")
        first = member.mention.author_display_name.split(" ")[0]
        expect(agent_page.locator("main")).to_contain_text(
            f"Hallo {first}, wir kennen die Störung in Köln."
        )
