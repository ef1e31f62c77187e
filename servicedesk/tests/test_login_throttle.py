"""Issue 18, point 2: sign-in throttling (django-axes). After LOGIN_FAILURE_LIMIT wrong
passwords for one account, or from one address, sign-ins are refused with 429 and the time to
wait, even with the right password; the admin login alike. The failures are counted in
PostgreSQL, so the lockout holds while Redis is down."""

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone, translation

from tickets.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"


def sign_in(client: Client, username: str, password: str, **extra: Any) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def test_the_right_password_after_too_many_wrong_ones_is_refused_with_the_wait(
    client: Client, agent: Any, settings: Any
) -> None:
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "agent", f"wrong-{attempt}").status_code == 200  # the form again
    assert sign_in(client, "agent", "wrong-last").status_code == 429

    response = sign_in(client, "agent", PASSWORD)

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "Please wait 15 minutes and try again." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_message_is_german_by_default(
    client: Client, agent: Any, settings: Any
) -> None:
    settings.LANGUAGE_CODE = "de"
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "agent", f"wrong-{attempt}")

    with translation.override("de"):
        response = sign_in(client, "agent", PASSWORD)

    assert response.status_code == 429
    assert "Bitte warten Sie 15 Minuten" in response.content.decode()


def test_one_address_guessing_at_many_accounts_is_locked_out(
    client: Client, agent: Any, settings: Any
) -> None:
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"someone-{attempt}", "guess", REMOTE_ADDR="203.0.113.7")

    from_there = sign_in(client, "agent", PASSWORD, REMOTE_ADDR="203.0.113.7")
    from_elsewhere = sign_in(Client(), "agent", PASSWORD, REMOTE_ADDR="198.51.100.1")

    assert from_there.status_code == 429
    assert from_elsewhere.status_code == 302  # the account itself is not locked


def test_one_account_guessed_from_many_addresses_is_locked_out(
    client: Client, agent: Any, settings: Any
) -> None:
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), "agent", "guess", REMOTE_ADDR=f"203.0.113.{attempt + 1}")

    response = sign_in(client, "agent", PASSWORD, REMOTE_ADDR="198.51.100.1")

    assert response.status_code == 429


def test_a_forged_forwarded_for_header_does_not_change_the_address(
    client: Client, agent: Any, settings: Any
) -> None:
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"x{attempt}", "guess", HTTP_X_FORWARDED_FOR=f"10.0.0.{attempt}")

    response = sign_in(client, "agent", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9")

    assert response.status_code == 429


def test_the_admin_login_is_throttled_alike(client: Client, settings: Any) -> None:
    UserFactory(username="root", is_superuser=True, is_staff=True)
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "root", "password": f"wrong-{attempt}"})

    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD})

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()


def test_the_lockout_holds_while_redis_is_down(client: Client, agent: Any, settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "agent", f"wrong-{attempt}")

    response = sign_in(client, "agent", PASSWORD)

    assert response.status_code == 429


def test_the_lockout_ends_after_the_cool_off(client: Client, agent: Any, settings: Any) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for attempt in range(settings.AXES_FAILURE_LIMIT):
            sign_in(client, "agent", f"wrong-{attempt}")
    with time_machine.travel(start + settings.AXES_COOLOFF_TIME - timedelta(seconds=5), tick=False):
        still_locked = sign_in(Client(), "agent", PASSWORD)

    with time_machine.travel(
        start + settings.AXES_COOLOFF_TIME * 2 + timedelta(seconds=5), tick=False
    ):
        after = sign_in(Client(), "agent", PASSWORD)

    assert still_locked.status_code == 429
    assert after.status_code == 302
