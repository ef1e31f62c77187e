"""The whole story in Debian's Chromium: a mention pushed through the API reaches the CM
inbox live, goes to Support, gets a holding message from a template (approved by a second
agent, delivered by the real Celery worker to a local fake platform), a department answer
and a public answer, and is resolved. Plus the refusals a person can try in the browser."""

import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from guidelines.models import ReplyTemplate
from monitoring.choices import Platform
from tickets import actions
from tickets.choices import ReplyKind, ReplyStatus, SlaKind, TicketState
from tickets.models import Reply, SlaClock, Ticket
from tickets.tests.factories import ChannelFactory, TicketFactory
from tickets.tests.helpers import force_state

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 20.0


def wait_until(condition: Callable[[], Any], *, what: str) -> Any:
    """Poll the database until `condition()` is truthy (the worker runs in another thread)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def push_mention(live_server: Any, token: str, channel: Any, external_id: str, text: str) -> None:
    response = httpx.post(
        f"{live_server.url}/api/v1/mentions/",
        headers={"Authorization": f"Token {token}"},
        json={
            "channel": channel.slug,
            "external_id": external_id,
            "author": {"handle": "@erika_m", "display_name": "Erika Mustermann"},
            "text": text,
            "created_at": (timezone.now() - timedelta(seconds=5)).isoformat(),
        },
        timeout=10,
    )
    assert response.status_code in (200, 201), response.text


def approve_in_review_queue(page: Any, live_server: Any, reply: Reply) -> None:
    page.goto(f"{live_server.url}/review/")
    page.click(f"#review-{reply.pk} .approve-form button")
    page.wait_for_load_state()


def test_story_from_mention_to_resolved_ticket(
    live_server: Any,
    sign_in: Any,
    screenshot: Any,
    fake_platform: Any,
    celery_worker: Any,
    cm: Any,
    agent: Any,
    other_agent: Any,
    expert: Any,
    department: Any,
    api_client_user: Any,
) -> None:
    channel = ChannelFactory(
        slug="bridge",
        name="Forum-Bridge",
        platform=Platform.WEBHOOK,
        callback_url=fake_platform.url,
        webhook_secret="s3cret",
    )
    ReplyTemplate.objects.create(
        key="holding-story", language="de", name="Zwischenbescheid", kind=ReplyKind.HOLDING,
        text="Hallo {name}, danke für deine Nachricht! Wir prüfen das und melden uns. {agent}",
    )  # fmt: skip
    token = Token.objects.create(user=api_client_user).key

    # the CM has the inbox open; a mention pushed through the API appears without reload
    cm_page = sign_in(cm)
    screenshot(cm_page, "01_inbox_empty")
    assert cm_page.url.endswith("/inbox/")
    push_mention(
        live_server, token, channel, "post-1", "Mein Router verliert ständig die Verbindung."
    )
    ticket = Ticket.objects.get(mentions__external_id="post-1")
    cm_page.wait_for_selector(f"#ticket-row-{ticket.pk}", timeout=15000)
    assert cm_page.is_visible("#new-banner")
    screenshot(cm_page, "02_inbox_new_mention")

    # the CM assigns it to SoMe Support
    cm_page.click(f"#ticket-row-{ticket.pk} form[data-action=assign] button")
    cm_page.wait_for_load_state()
    ticket.refresh_from_db()
    assert ticket.state == TicketState.SUPPORT

    # an agent takes it and writes a holding message from a template
    agent_page = sign_in(agent)
    assert agent_page.url.endswith("/queue/")
    screenshot(agent_page, "03_queue")
    agent_page.click(f"#ticket-row-{ticket.pk} form[data-action=take] button")
    agent_page.wait_for_url(f"**/tickets/{ticket.pk}/")
    template = ReplyTemplate.objects.get(key="holding-story")
    agent_page.select_option("#reply-template", str(template.pk))
    # Playwright's own assertion: wait_for_function evaluates a string, which the page's
    # Content-Security-Policy (no eval) refuses.
    expect(agent_page.locator("#reply-text")).to_have_value(re.compile("Hallo Erika"))
    assert agent_page.input_value("#reply-kind") == ReplyKind.HOLDING
    screenshot(agent_page, "04_ticket_composer")
    agent_page.click("#reply-submit")
    agent_page.wait_for_load_state()
    holding = Reply.objects.get(ticket=ticket, kind=ReplyKind.HOLDING)
    assert holding.status == ReplyStatus.PENDING_REVIEW

    # a second agent approves; the worker delivers it to the fake platform
    reviewer_page = sign_in(other_agent)
    reviewer_page.goto(f"{live_server.url}/review/")
    reviewer_page.wait_for_selector(
        f"#review-{holding.pk} .findings-box :not(.muted)", state="attached"
    )
    screenshot(reviewer_page, "05_review_queue")
    approve_in_review_queue(reviewer_page, live_server, holding)
    wait_until(
        lambda: Reply.objects.filter(pk=holding.pk, status=ReplyStatus.SENT).exists(),
        what="the holding message to be sent",
    )
    assert any("Hallo Erika" in text for text in fake_platform.texts())

    # the first-response clock shows as met
    agent_page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    assert agent_page.is_visible("li.clock[data-kind=first_response][data-outcome=met]")
    screenshot(agent_page, "06_ticket_first_response_met")

    # the agent asks the technical department
    agent_page.click("details[data-transition=ask_department] > summary")
    agent_page.select_option(
        "form[data-transition=ask_department] select[name=department]", str(department.pk)
    )
    agent_page.fill(
        "form[data-transition=ask_department] textarea[name=question]",
        "Gibt es eine Störung in 10115?",
    )
    agent_page.click("form[data-transition=ask_department] button[type=submit]")
    agent_page.wait_for_load_state()
    ticket.refresh_from_db()
    assert ticket.state == TicketState.WAITING_DEPARTMENT

    # the expert answers in the department inbox
    expert_page = sign_in(expert)
    assert expert_page.url.endswith("/department/") or "department" in expert_page.url
    screenshot(expert_page, "07_department_inbox")
    expert_page.click("table a[href*='department']")
    expert_page.fill("#answer-form textarea", "Ja, Störung bis 18 Uhr behoben.")
    expert_page.click("#answer-form button[type=submit]")
    expert_page.wait_for_load_state()
    ticket.refresh_from_db()
    assert ticket.state == TicketState.IN_PROGRESS

    # the agent answers in public, the second agent approves, it is delivered
    agent_page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    agent_page.select_option("#reply-kind", ReplyKind.ANSWER)
    agent_page.fill("#reply-text", "Hallo Erika, es gab eine Störung, sie ist bis 18 Uhr behoben.")
    agent_page.click("#reply-submit")
    agent_page.wait_for_load_state()
    answer = Reply.objects.get(ticket=ticket, kind=ReplyKind.ANSWER)
    approve_in_review_queue(reviewer_page, live_server, answer)
    wait_until(
        lambda: Reply.objects.filter(pk=answer.pk, status=ReplyStatus.SENT).exists(),
        what="the answer to be sent",
    )

    # and resolves the ticket
    agent_page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    agent_page.click("form[data-transition=resolve] button[type=submit]")
    agent_page.wait_for_load_state()
    ticket.refresh_from_db()
    assert ticket.state == TicketState.RESOLVED
    first_response = SlaClock.objects.get(ticket=ticket, kind=SlaKind.FIRST_RESPONSE)
    assert first_response.stopped_at is not None and not hasattr(first_response, "breach")
    screenshot(agent_page, "08_ticket_resolved")
    assert len(fake_platform.received) == 2
    assert "Störung bis 18 Uhr behoben" in agent_page.inner_text("#department-requests")


def _forge_post(page: Any, action: str, fields: dict[str, str]) -> None:
    """Submit a form the page does not offer, with the page's own CSRF token."""
    page.evaluate(
        """([action, fields]) => {
            const form = document.createElement('form');
            form.method = 'post'; form.action = action;
            const token = document.querySelector('input[name=csrfmiddlewaretoken]').value;
            fields.csrfmiddlewaretoken = token;
            for (const [name, value] of Object.entries(fields)) {
                const input = document.createElement('input');
                input.type = 'hidden'; input.name = name; input.value = value;
                form.appendChild(input);
            }
            document.body.appendChild(form); form.submit();
        }""",
        [action, fields],
    )
    page.wait_for_load_state()


def test_author_has_no_approve_button_and_a_forged_approval_is_refused(
    live_server: Any, sign_in: Any, screenshot: Any, agent: Any
) -> None:
    ticket = force_state(TicketFactory(), TicketState.IN_PROGRESS, assignee=agent)
    reply = actions.create_reply(
        ticket, actor=agent, text="Hallo Erika!", visibility="public", kind="answer", submit=True
    )
    page = sign_in(agent)

    page.goto(f"{live_server.url}/review/")
    assert page.locator(f"#review-{reply.pk} .approve-form").count() == 0
    _forge_post(page, f"/review/{reply.pk}/approve/", {})

    assert page.locator(".message-error").inner_text().strip() != ""
    screenshot(page, "09_self_approval_refused")
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.PENDING_REVIEW


def test_expert_opening_a_ticket_url_gets_404(live_server: Any, sign_in: Any, expert: Any) -> None:
    ticket = TicketFactory()
    page = sign_in(expert)

    response = page.goto(f"{live_server.url}/tickets/{ticket.pk}/")

    assert response.status == 404


def test_cm_forging_an_agent_transition_is_refused_with_a_message(
    live_server: Any, sign_in: Any, screenshot: Any, cm: Any
) -> None:
    ticket = force_state(TicketFactory(), TicketState.SUPPORT)
    page = sign_in(cm)
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")

    _forge_post(page, f"/tickets/{ticket.pk}/transitions/take/", {"expected_state": "support"})

    # the desk speaks German by default
    assert (
        "Ihre Rolle darf diese Aktion nicht ausführen"
        in page.locator(".message-error").inner_text()
    )
    screenshot(page, "10_cm_forged_take_refused")
    ticket.refresh_from_db()
    assert ticket.state == TicketState.SUPPORT


def test_stale_form_after_a_colleagues_change_shows_a_conflict(
    live_server: Any, sign_in: Any, screenshot: Any, agent: Any, other_agent: Any
) -> None:
    ticket = force_state(TicketFactory(), TicketState.SUPPORT)
    page = sign_in(agent)
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    actions.take_ticket(ticket, actor=other_agent)  # the colleague is faster

    page.click("form[data-transition=take] button[type=submit]")
    page.wait_for_load_state()

    assert (
        "Jemand anderes hat dieses Ticket inzwischen geändert"
        in page.locator(".message-error").inner_text()
    )
    screenshot(page, "11_stale_form_conflict")
    ticket.refresh_from_db()
    assert ticket.assignee == other_agent
