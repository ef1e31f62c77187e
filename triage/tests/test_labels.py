"""Every kind of human triage decision is recorded as a label (issue 13 §3)."""

from typing import Any

import pytest

from tickets import actions
from tickets.choices import ReplyKind, ReplyVisibility
from tickets.tests.factories import ChannelFactory, DepartmentFactory, TicketFactory
from triage.models import Label

pytestmark = pytest.mark.django_db


def labels_of(ticket: Any) -> dict[tuple[str, str], str]:
    mention = ticket.mentions.get()
    return {
        (label.source, label.head): label.value for label in Label.objects.filter(mention=mention)
    }


@pytest.fixture
def ticket() -> Any:
    return TicketFactory(channel=ChannelFactory(slug="twitter"))


def test_assign_to_support_labels_route_support(cm: Any, ticket: Any) -> None:
    ticket = actions.assign_to_support(ticket, actor=cm)
    assert labels_of(ticket) == {("assign", "relevant"): "true", ("assign", "route"): "support"}
    assert Label.objects.get(head="route").actor == cm


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("not_relevant", {("dismiss", "relevant"): "false", ("dismiss", "route"): "none"}),
        ("spam", {("dismiss", "relevant"): "false", ("dismiss", "route"): "none"}),
        ("abusive", {("dismiss", "abusive"): "true", ("dismiss", "route"): "none"}),
    ],
)
def test_dismiss_labels_by_its_reason(cm: Any, ticket: Any, reason: str, expected: Any) -> None:
    ticket = actions.dismiss_ticket(ticket, actor=cm, reason=reason)
    assert labels_of(ticket) == expected


def test_a_duplicate_dismissal_records_no_label(cm: Any, ticket: Any) -> None:
    original = TicketFactory(channel=ticket.channel)
    actions.dismiss_ticket(ticket, actor=cm, reason="duplicate", duplicate_of=original)
    assert not Label.objects.exists()


def test_a_cm_answer_labels_route_cm(cm: Any, ticket: Any) -> None:
    actions.create_reply(
        ticket,
        actor=cm,
        text="Hallo, der Zug fährt um 8 Uhr.",
        visibility=ReplyVisibility.PUBLIC,
        kind=ReplyKind.ANSWER,
    )
    assert labels_of(ticket) == {("answer", "relevant"): "true", ("answer", "route"): "cm"}


def test_an_agents_holding_message_is_no_cm_answer(cm: Any, agent: Any, ticket: Any) -> None:
    ticket = actions.take_ticket(actions.assign_to_support(ticket, actor=cm), actor=agent)
    actions.create_reply(
        ticket,
        actor=agent,
        text="Wir kümmern uns.",
        visibility=ReplyVisibility.PUBLIC,
        kind=ReplyKind.HOLDING,
    )
    assert {source for source, _head in labels_of(ticket)} == {"assign"}


def test_a_department_request_labels_the_department(cm: Any, agent: Any, ticket: Any) -> None:
    billing = DepartmentFactory(slug="billing")
    ticket = actions.take_ticket(actions.assign_to_support(ticket, actor=cm), actor=agent)
    ticket = actions.ask_department(ticket, actor=agent, department=billing, question="Erstattung?")
    labels = labels_of(ticket)
    assert labels[("department", "department")] == "billing"
    assert labels[("department", "route")] == "support"
