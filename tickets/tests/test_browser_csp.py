"""Issue 18, point 5: a strict Content-Security-Policy (`default-src 'self'`, no inline script
or style, no eval), and every page of the desk loads in Chromium without a violation: the
pages of every role, the sign-in steps, the API docs and the admin."""

from typing import Any

import pytest

from servicedesk import roles
from tickets import actions
from tickets.choices import TicketState
from tickets.tests.factories import ChannelFactory, TicketFactory, UserFactory
from tickets.tests.helpers import force_state

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Recorded by the page itself (Playwright's init scripts run outside the page's CSP).
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


def test_the_policy_header_is_strict(client: Any) -> None:
    policy = client.get("/accounts/login/")["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


def visit_all(page: Any, base: str, paths: list[str]) -> dict[str, list[str]]:
    """Open each path; the violations the page reported and the console's CSP errors."""
    found: dict[str, list[str]] = {}
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    for path in paths:
        console.clear()
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status < 500, (path, response and response.status)
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__cspViolations") + console
        if violations:
            found[path] = violations
    return found


def test_every_page_loads_without_a_csp_violation(
    live_server: Any, browser: Any, sign_in: Any, expert: Any, department: Any, agent: Any
) -> None:
    lead = UserFactory(
        username="lead_admin", is_superuser=True, is_staff=True, groups=[roles.TEAM_LEAD]
    )
    channel = ChannelFactory(slug="csp-channel", name="CSP-Kanal")
    ticket = force_state(TicketFactory(channel=channel), TicketState.IN_PROGRESS, assignee=agent)
    actions.ask_department(
        force_state(TicketFactory(channel=channel), TicketState.IN_PROGRESS, assignee=agent),
        actor=agent,
        department=department,
        question="Bitte prüfen",
    )
    request_id = department.requests.get().pk
    customer_id = ticket.customer_id

    anonymous = browser.new_context()
    anonymous.add_init_script(LISTEN)
    anonymous_page = anonymous.new_page()
    anonymous_found = visit_all(
        anonymous_page, live_server.url, ["/accounts/login/", "/api/docs/", "/no-such-page/"]
    )
    anonymous.close()

    lead_page = sign_in(lead)
    lead_page.context.add_init_script(LISTEN)
    lead_found = visit_all(
        lead_page,
        live_server.url,
        [
            "/dashboard/",
            "/inbox/",
            "/queue/",
            "/queue/?tab=mine",
            "/review/",
            "/search/?q=Paket",
            f"/tickets/{ticket.pk}/",
            f"/customers/{customer_id}/",
            "/notifications/",
            "/account/",
            "/account/two-factor/setup/",
            "/guidelines/",
            "/guidelines/edit/",
            "/api/docs/",
            "/admin/",
            "/admin/tickets/ticket/",
            f"/admin/tickets/ticket/{ticket.pk}/change/",
            "/admin/monitoring/channel/",
            f"/admin/monitoring/channel/{channel.pk}/change/",
            "/admin/monitoring/channel/add/",
            "/admin/auth/user/",
            f"/admin/auth/user/{lead.pk}/change/",
        ],
    )
    # The set-up page with a key (QR code image) after starting it.
    lead_page.goto(f"{live_server.url}/account/two-factor/setup/")
    lead_page.click("#two-factor-start button")
    lead_page.wait_for_selector("img.qr-code")
    setup_violations = lead_page.evaluate("window.__cspViolations")

    expert_page = sign_in(expert)
    expert_page.context.add_init_script(LISTEN)
    expert_found = visit_all(
        expert_page,
        live_server.url,
        ["/department/", f"/department/requests/{request_id}/", "/account/"],
    )

    assert anonymous_found == {}
    assert lead_found == {}
    assert setup_violations == []
    assert expert_found == {}
