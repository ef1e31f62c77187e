"""`create_api_client` (DESIGN §6): machine accounts, human-role accounts with a personal
token, superusers; idempotent."""

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from servicedesk import roles

pytestmark = pytest.mark.django_db
User = get_user_model()


def create(*args: str) -> str:
    out = StringIO()
    call_command("create_api_client", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def groups_of(user: Any) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def test_creates_a_machine_account_in_api_client_and_prints_its_token() -> None:
    key = create("crm-bridge")

    user = User.objects.get(username="crm-bridge")
    assert Token.objects.get(user=user).key == key
    assert groups_of(user) == {roles.API_CLIENT}
    assert not user.has_usable_password()
    assert not user.is_superuser


def test_running_twice_prints_the_same_token() -> None:
    first = create("crm-bridge")

    second = create("crm-bridge")

    assert first == second
    assert User.objects.filter(username="crm-bridge").count() == 1


def test_group_option_creates_a_human_role_account() -> None:
    create("lead-bot", "--group", roles.TEAM_LEAD, "--group", roles.SUPPORT_AGENT)

    user = User.objects.get(username="lead-bot")
    assert groups_of(user) == {roles.TEAM_LEAD, roles.SUPPORT_AGENT}


def test_superuser_option_creates_an_administrator() -> None:
    key = create("ops", "--superuser")

    user = User.objects.get(username="ops")
    assert (user.is_superuser, user.is_staff) == (True, True)
    assert groups_of(user) == set()
    assert Token.objects.get(user=user).key == key


def test_unknown_group_is_refused() -> None:
    with pytest.raises(CommandError):
        create("x", "--group", "wizards")

    assert not User.objects.filter(username="x").exists()


def test_the_printed_token_authenticates_against_the_api(channel: Any) -> None:
    from rest_framework.test import APIClient

    key = create("crm-bridge")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert client.get("/api/v1/tickets/").status_code == 200
