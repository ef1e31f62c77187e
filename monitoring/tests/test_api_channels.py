"""Channels through the API (DESIGN §6): superusers only; credentials write-only; a webhook
channel's signing secret is shown once, on creation and on rotation."""

from typing import Any

import pytest

from monitoring.models import Channel
from servicedesk.tests.apiclient import assert_error, client_for
from tickets.tests.factories import ChannelFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/channels/"


@pytest.fixture
def admin(db: Any) -> Any:
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


def webhook_body(**overrides: Any) -> dict[str, Any]:
    return {
        "slug": "bridge",
        "name": "Bridge",
        "platform": "webhook",
        "callback_url": "https://bridge.example/replies",
        "own_accounts": ["desk_hilft"],
        "credentials": "api-key-123",
        **overrides,
    }


def test_creating_a_webhook_channel_returns_its_secret_once(admin: Any) -> None:
    client = client_for(admin)

    created = client.post(URL, webhook_body(), format="json")
    shown = client.get(f"{URL}bridge/").json()

    assert created.status_code == 201
    secret = created.json()["secret"]
    assert len(secret) >= 32
    channel = Channel.objects.get(slug="bridge")
    assert channel.webhook_secret == secret
    assert "secret" not in shown and "credentials" not in shown and "webhook_secret" not in shown
    assert shown["has_webhook_secret"] is True
    assert channel.credentials == "api-key-123"


def test_a_non_webhook_channel_gets_no_secret(admin: Any) -> None:
    response = client_for(admin).post(
        URL, webhook_body(slug="masto", platform="mastodon"), format="json"
    )

    assert response.json()["secret"] is None
    assert Channel.objects.get(slug="masto").webhook_secret == ""


def test_rotating_the_secret_replaces_it(admin: Any) -> None:
    client = client_for(admin)
    first = client.post(URL, webhook_body(), format="json").json()["secret"]

    rotated = client.post(f"{URL}bridge/rotate_secret/").json()["secret"]

    assert rotated != first
    assert Channel.objects.get(slug="bridge").webhook_secret == rotated


def test_rotating_on_a_non_webhook_channel_answers_409(admin: Any) -> None:
    ChannelFactory(slug="masto", platform="mastodon")

    assert_error(client_for(admin).post(f"{URL}masto/rotate_secret/"), 409)


def test_patch_changes_settings_but_not_slug_platform_or_health(admin: Any) -> None:
    channel = ChannelFactory(slug="masto", platform="mastodon", is_healthy=True)

    response = client_for(admin).patch(
        f"{URL}masto/",
        {"name": "Mastodon", "poll_interval_seconds": 120, "slug": "other",
         "platform": "rss", "is_healthy": False, "credentials": "neu"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 200
    channel.refresh_from_db()
    assert (channel.name, channel.poll_interval_seconds, channel.slug, channel.platform) == (
        "Mastodon",
        120,
        "masto",
        "mastodon",
    )
    assert channel.is_healthy is True
    assert channel.credentials == "neu"
    assert "credentials" not in response.json()


def test_list_shows_health_fields(admin: Any) -> None:
    ChannelFactory(slug="masto", last_error="timeout", lag_seconds=12.5)

    [item] = client_for(admin).get(URL).json()["results"]

    assert (item["last_error"], item["lag_seconds"], item["is_healthy"]) == ("timeout", 12.5, True)
    assert {"last_polled_at", "last_success_at"} <= set(item)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (webhook_body(platform="myspace"), "platform"),
        (webhook_body(slug="not a slug!"), "slug"),
        (webhook_body(name=""), "name"),
        (webhook_body(callback_url="nope"), "callback_url"),
        (webhook_body(poll_interval_seconds=0), "poll_interval_seconds"),
    ],
)
def test_bad_channel_answers_400(admin: Any, body: dict[str, Any], field: str) -> None:
    response = client_for(admin).post(URL, body, format="json")

    assert field in assert_error(response, 400, "invalid")["errors"]
    assert not Channel.objects.exists()


def test_duplicate_slug_answers_400(admin: Any) -> None:
    ChannelFactory(slug="bridge")

    response = client_for(admin).post(URL, webhook_body(), format="json")

    assert "slug" in assert_error(response, 400)["errors"]


@pytest.mark.parametrize("persona", ["team_lead", "agent", "api_client_user"])
def test_only_superusers_configure_channels(request: Any, persona: str) -> None:
    client = client_for(request.getfixturevalue(persona))
    ChannelFactory(slug="masto")

    assert_error(client.get(URL), 403)
    assert_error(client.post(URL, webhook_body(), format="json"), 403)
    assert_error(client.patch(f"{URL}masto/", {"name": "x"}, format="json"), 403)
    assert not Channel.objects.filter(slug="bridge").exists()
