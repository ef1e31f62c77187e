"""Notifications: the bell's unread count, the list, mark read, read all, query budget."""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tickets import actions
from tickets.choices import NotificationKind
from tickets.models import Notification
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def _notify(user: Any, count: int = 1, text: str = "Ticket wartet") -> list[Notification]:
    ticket = TicketFactory()
    return [
        actions.notify(
            [user], NotificationKind.ASSIGNED, ticket=ticket, text=text, at=timezone.now()
        )[0]
        for _ in range(count)
    ]


def test_bell_shows_the_unread_count(client: Any, agent: Any) -> None:
    _notify(agent, 3)
    client.force_login(agent)

    response = client.get(reverse("tickets:notification_bell"))

    assert b'<span class="bell-count">3</span>' in response.content


def test_marking_one_notification_read_lowers_the_count(client: Any, agent: Any) -> None:
    first, _second = _notify(agent, 2)
    client.force_login(agent)

    client.post(reverse("tickets:notification_read", args=[first.pk]))

    assert Notification.objects.for_user(agent).unread().count() == 1


def test_nobody_marks_another_users_notification(client: Any, agent: Any, other_agent: Any):
    (notification,) = _notify(agent)
    client.force_login(other_agent)

    response = client.post(reverse("tickets:notification_read", args=[notification.pk]))

    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_read_all_marks_every_notification_read(client: Any, agent: Any) -> None:
    _notify(agent, 4)
    client.force_login(agent)

    client.post(reverse("tickets:notifications_read_all"))

    assert Notification.objects.for_user(agent).unread().count() == 0


def test_notification_text_is_escaped(client: Any, agent: Any) -> None:
    _notify(agent, text="<script>x()</script>")
    client.force_login(agent)

    content = client.get(reverse("tickets:notifications")).content

    assert b"<script>x()" not in content


def test_notification_list_needs_the_same_queries_for_5_and_50(
    client: Any, agent: Any, django_assert_max_num_queries: Any
) -> None:
    _notify(agent, 5)
    client.force_login(agent)
    with CaptureQueriesContext(connection) as five:
        client.get(reverse("tickets:notifications"))
    _notify(agent, 45)

    with django_assert_max_num_queries(len(five)):
        response = client.get(reverse("tickets:notifications"))

    assert response.status_code == 200
