"""The caller's notifications through the API (DESIGN §6)."""

from typing import Any

import pytest
from django.utils import timezone

from servicedesk.tests.apiclient import assert_error, client_for
from tickets.choices import NotificationKind
from tickets.models import Notification

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/"


def notification(user: Any, *, read: bool = False) -> Notification:
    return Notification.objects.create(
        user=user,
        kind=NotificationKind.SLA_WARNING,
        text="Ticket #1 bald fällig",
        created_at=timezone.now(),
        read_at=timezone.now() if read else None,
    )


def test_list_shows_only_the_callers_notifications_with_the_unread_count(
    agent: Any, other_agent: Any
) -> None:
    unread = notification(agent)
    read = notification(agent, read=True)
    notification(other_agent)

    body = client_for(agent).get(URL).json()

    assert {item["id"] for item in body["results"]} == {unread.pk, read.pk}
    assert body["unread_count"] == 1


def test_list_filters_unread(agent: Any) -> None:
    unread = notification(agent)
    notification(agent, read=True)

    body = client_for(agent).get(URL, {"unread": "true"}).json()

    assert [item["id"] for item in body["results"]] == [unread.pk]


def test_list_query_count_does_not_grow_with_the_page(
    agent: Any, django_assert_max_num_queries: Any
) -> None:
    for _ in range(20):
        notification(agent)
    client = client_for(agent)

    with django_assert_max_num_queries(5):
        response = client.get(URL)

    assert len(response.json()["results"]) == 20


def test_mark_one_read(agent: Any) -> None:
    item = notification(agent)

    response = client_for(agent).post(f"{URL}{item.pk}/read/")

    assert response.status_code == 200
    assert Notification.objects.get(pk=item.pk).read_at is not None


def test_marking_someone_elses_notification_answers_404(agent: Any, other_agent: Any) -> None:
    item = notification(other_agent)

    assert_error(client_for(agent).post(f"{URL}{item.pk}/read/"), 404)
    assert Notification.objects.get(pk=item.pk).read_at is None


def test_mark_all_read_touches_only_the_callers(agent: Any, other_agent: Any) -> None:
    notification(agent)
    notification(agent)
    theirs = notification(other_agent)

    response = client_for(agent).post(f"{URL}read-all/")

    assert response.json() == {"marked": 2, "unread_count": 0}
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_notifications_need_credentials() -> None:
    from rest_framework.test import APIClient

    assert_error(APIClient().get(URL), 401)
