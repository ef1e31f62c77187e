"""The account page: language and time zone, the personal API token."""

from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from servicedesk.models import Profile

pytestmark = pytest.mark.django_db


def test_saving_preferences_creates_the_profile(client: Any, agent: Any) -> None:
    client.force_login(agent)

    client.post(
        reverse("account"),
        {"operation": "preferences", "language": "en", "time_zone": "Europe/London"},
    )

    profile = Profile.objects.get(user=agent)
    assert (profile.language, profile.time_zone) == ("en", "Europe/London")


def test_unknown_time_zone_is_refused_without_change(client: Any, agent: Any) -> None:
    client.force_login(agent)

    response = client.post(
        reverse("account"),
        {"operation": "preferences", "language": "de", "time_zone": "Mars/Olympus"},
    )

    assert response.status_code == 400
    assert not Profile.objects.filter(user=agent).exists()


def test_page_speaks_the_language_chosen_in_the_profile(client: Any, agent: Any) -> None:
    Profile.objects.create(user=agent, language="en", time_zone="UTC")
    client.force_login(agent)

    response = client.get(reverse("account"))

    assert response.headers["Content-Language"] == "en"


def test_the_profiles_time_zone_holds_for_its_request_only(client: Any, agent: Any) -> None:
    """A thread serves someone else's request next: it must not keep this one's zone."""
    Profile.objects.create(user=agent, language="en", time_zone="UTC")
    client.force_login(agent)

    assert client.get(reverse("account")).status_code == 200

    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


def test_token_is_created_only_when_confirmed(client: Any, agent: Any) -> None:
    client.force_login(agent)

    response = client.post(reverse("account"), {"operation": "token"})

    assert response.status_code == 400
    assert not Token.objects.filter(user=agent).exists()


def test_new_token_key_is_shown_once(client: Any, agent: Any) -> None:
    client.force_login(agent)

    created = client.post(reverse("account"), {"operation": "token", "confirm": "yes"})
    later = client.get(reverse("account"))

    key = Token.objects.get(user=agent).key
    assert key.encode() in created.content
    assert key.encode() not in later.content


def test_regenerating_replaces_the_old_token(client: Any, agent: Any) -> None:
    old = Token.objects.create(user=agent)
    client.force_login(agent)

    client.post(reverse("account"), {"operation": "token", "confirm": "yes"})

    assert Token.objects.get(user=agent).key != old.key
