"""Issue 18, point 6: every answer that shows a secret (a new API token, a webhook channel's
signing secret on creation or rotation) sends `Cache-Control: no-store`; the answers that
show none stay cacheable as before."""

from typing import Any

import pytest
from django.test import Client

from servicedesk.tests.apiclient import client_for
from tickets.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WEBHOOK = {
    "slug": "bridge",
    "name": "Bridge",
    "platform": "webhook",
    "callback_url": "https://bridge.example/replies",
}


@pytest.fixture
def admin_api(db: Any) -> Any:
    return client_for(UserFactory(username="root", is_superuser=True, is_staff=True))


def test_creating_a_webhook_channel_answers_its_secret_with_no_store(admin_api: Any) -> None:
    response = admin_api.post("/api/v1/channels/", WEBHOOK, format="json")

    assert response.status_code == 201 and response.json()["secret"]
    assert "no-store" in response["Cache-Control"]


def test_a_rotated_secret_is_answered_with_no_store(admin_api: Any) -> None:
    admin_api.post("/api/v1/channels/", WEBHOOK, format="json")

    response = admin_api.post("/api/v1/channels/bridge/rotate_secret/")

    assert response.status_code == 200 and response.json()["secret"]
    assert "no-store" in response["Cache-Control"]


def test_reading_a_channel_shows_no_secret_and_needs_no_no_store(admin_api: Any) -> None:
    admin_api.post("/api/v1/channels/", WEBHOOK, format="json")

    response = admin_api.get("/api/v1/channels/bridge/")

    assert "secret" not in response.json()
    assert "no-store" not in response.get("Cache-Control", "")


def test_a_new_api_token_is_shown_with_no_store(agent: Any) -> None:
    client = Client()
    client.force_login(agent)

    response = client.post("/account/", {"operation": "token", "confirm": "yes"})

    assert response.status_code == 200
    assert 'id="new-token"' in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert "no-store" not in client.get("/account/").get("Cache-Control", "")
